package soak

import (
	"errors"
	"fmt"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transport/faults"
)

// kinds names the machine's failure kinds for the summary, in the order the
// summary lists them.
var kinds = []struct {
	err  error
	name string
}{
	{machine.ErrBudget, "budget"},
	{machine.ErrResetLoop, "reset-loop"},
	{machine.ErrThrottled, "throttled"},
	{machine.ErrMalformedRequest, "malformed"},
	{machine.ErrStatus, "status"},
	{machine.ErrServerError, "server-error"},
	{machine.ErrAuth, "auth"},
	{machine.ErrDenied, "denied"},
	{machine.ErrPasswordExpired, "password-expired"},
	{machine.ErrNotSupported, "not-supported"},
	{machine.ErrServerFull, "server-full"},
	{machine.ErrRemoteWipe, "remote-wipe"},
	{machine.ErrRedirect, "redirect"},
	{machine.ErrProvisioning, "provisioning"},
	{machine.ErrCommit, "commit"},
	{machine.ErrCancelled, "cancelled"},
}

// KindInternal names a failure that is not a *machine.Error.
const KindInternal = "internal"

// KindName returns the short name of a failed session's kind ("budget",
// "reset-loop", ...), KindInternal when err is not a *machine.Error of a known
// kind.
func KindName(err error) string {
	var me *machine.Error
	if !errors.As(err, &me) {
		return KindInternal
	}
	for _, k := range kinds {
		if me.Kind == k.err {
			return k.name
		}
	}
	return KindInternal
}

// KindOrder is the order in which the summary lists failure kinds.
func KindOrder() []string {
	out := make([]string, 0, len(kinds)+1)
	for _, k := range kinds {
		out = append(out, k.name)
	}
	return append(out, KindInternal)
}

// evidence is what a session met, for the acceptance rule.
type evidence struct {
	// injected are the faults that took effect, in call order.
	injected []faults.Injection
	// requests is the number of requests the session sent.
	requests int
	// prior are the inherited resets inside the reset window.
	prior []time.Time
}

// lastInjected returns the fault the session's last request met, if it met one.
func (e evidence) lastInjected() (faults.Fault, bool) {
	if n := len(e.injected); n > 0 && e.injected[n-1].Call == e.requests {
		return e.injected[n-1].Fault, true
	}
	return faults.Fault{}, false
}

// acceptable applies the rule of the package documentation to a failed session:
// "" when the failure is one the policy allows under the faults the session met,
// else why it is not.
func acceptable(err error, p policy.Policy, ev evidence) string {
	kind := KindName(err)
	last, lastFaulted := ev.lastInjected()
	switch kind {
	case "budget":
		if len(ev.injected) > 0 {
			return ""
		}
		return "a retry budget was spent although the session met no fault"
	case "reset-loop":
		if len(ev.injected) > 0 || len(ev.prior) > 0 || p.ResetGuard.MaxResets == 0 {
			return ""
		}
		return "the reset guard refused although the session met no fault and inherited no reset"
	case "throttled":
		if lastFaulted && last.Kind == faults.KindHTTP && last.HTTPStatus == 503 && last.HasRetryAfter && !p.RetryAfterAllowed(last.RetryAfter) {
			return ""
		}
		return "ErrThrottled without an injected Retry-After above retry_after_cap on the last request"
	case "commit":
		return "ErrCommit: the campaign injects no store fault, so a commit must not fail"
	case "cancelled":
		return "ErrCancelled: the campaign never cancels a session (did it hang past the session timeout?)"
	case KindInternal:
		return "not a *machine.Error: " + err.Error()
	}
	if lastFaulted {
		return ""
	}
	return fmt.Sprintf("a failure of kind %s, but the last request's answer was not injected", kind)
}
