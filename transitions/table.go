package transitions

import (
	"fmt"
	"sort"
	"strings"

	"github.com/easkit/foldersync/states"
)

// Guard names a condition the session checks (against its policy and history)
// before it takes a transition. The table only names guards; package machine
// evaluates them. When a guard fails, the row's Else event is fired instead.
type Guard string

// The guards. Each names the policy budget it spends.
const (
	// ResendBudget: resends of the identical request after a lost response are left
	// (policy MaxResends).
	ResendBudget Guard = "resend_budget"
	// TransientBudget: consecutive transient failures are below the policy's
	// threshold for returning to SyncKey 0 (TransientBeforeReset).
	TransientBudget Guard = "transient_budget"
	// UnknownBudget: retries of an unknown status are left (UnknownStatusRetries).
	UnknownBudget Guard = "unknown_budget"
	// RetryAfterWithinCap: the server's Retry-After, if any, is within RetryAfterCap.
	RetryAfterWithinCap Guard = "retry_after_within_cap"
	// RedirectAllowed: the X-MS-Location is HTTPS (or insecure HTTP is allowed),
	// differs from the current URL, and fewer than 3 redirects were followed.
	RedirectAllowed Guard = "redirect_allowed"
	// ProvisionAllowed: the session has not provisioned yet (a server that asks again
	// right after provisioning is in a loop).
	ProvisionAllowed Guard = "provision_allowed"
	// ResetAllowed: the reset loop guard has not tripped (policy reset_guard: at most
	// MaxResets resets within Window).
	ResetAllowed Guard = "reset_allowed"
	// AttemptsLeft: the session may send another request (MaxAttempts, MaxElapsed).
	AttemptsLeft Guard = "attempts_left"
	// ResponseTrusted: the Status 1 answer is not a no-change echo of the key sent,
	// after a lost response, with verification on (VerifyAfterLostResponse).
	ResponseTrusted Guard = "response_trusted"
)

// Row is one transition: in state From, event Event moves the session to To,
// provided Guard (if any) holds; otherwise the session fires Else.
type Row struct {
	From  states.State
	Event Event
	To    states.State
	Guard Guard
	Else  Event
	// Why says what the transition does, for the docs and the graphs.
	Why string
}

// rejection says why events are not accepted in some states.
type rejection struct {
	states []states.State
	events func(Event) bool
	reason string
}

// nonTerminal are the states a session can be in while it runs.
var nonTerminal = []states.State{states.Idle, states.Awaiting, states.Retrying, states.Resetting}

// rows is THE table. Code, tests, docs and graphs derive from it.
var rows = []Row{
	{states.Idle, Start, states.Awaiting, "", 0, "send the first FolderSync with the stored SyncKey"},
	{states.Idle, Diverged, states.Resetting, ResetAllowed, GiveUp, "a non-zero key with an empty hierarchy cannot be trusted: reset (DESIGN rule 7)"},

	{states.Awaiting, Success, states.Synced, ResponseTrusted, Verify, "commit the new SyncKey and all changes in one transaction (DESIGN rule 1)"},
	{states.Awaiting, Verify, states.Resetting, ResetAllowed, GiveUp, "fetch the full hierarchy to find changes a no-change answer may hide (DESIGN rule 3)"},
	{states.Awaiting, Lost, states.Retrying, ResendBudget, GiveUp, "resend the identical request with the same SyncKey (MS-ASCMD 3.1.5.9)"},
	{states.Awaiting, Transient, states.Retrying, TransientBudget, Reset, "retry with backoff (MS-ASCMD 2.2.3.177.5, Status 6 and 11)"},
	{states.Awaiting, Reset, states.Resetting, ResetAllowed, GiveUp, "after repeated transient failures, return to SyncKey 0 (MS-ASCMD 2.2.3.177.5, Status 6)"},
	{states.Awaiting, Throttled, states.Retrying, RetryAfterWithinCap, GiveUp, "wait Retry-After (capped by policy) or the backoff delay (MS-ASHTTP 3.1.5.2)"},
	{states.Awaiting, KeyMismatch, states.Resetting, ResetAllowed, GiveUp, "roll back local adds, return to SyncKey 0, reconcile by mark-and-sweep; never wipe (DESIGN rule 5)"},
	{states.Awaiting, UnknownStatus, states.Retrying, UnknownBudget, GiveUp, "retry under a tight cap, then fail (MS-ASCMD 2.2.3.177.5, Status 12)"},
	{states.Awaiting, Provision, states.Retrying, ProvisionAllowed, GiveUp, "provision (MS-ASPROV), then rerun the request (MS-ASHTTP 449; MS-ASCMD 2.2.2, 141-144)"},
	{states.Awaiting, Redirect, states.Retrying, RedirectAllowed, GiveUp, "follow X-MS-Location under the redirect rules (MS-ASHTTP 3.1.5.2, 451)"},
	{states.Awaiting, Malformed, states.Failed, "", 0, "fail at once, no retry: the request itself is wrong (Status 10)"},
	{states.Awaiting, AuthFailed, states.Failed, "", 0, "fail: the credentials were refused (HTTP 401)"},
	{states.Awaiting, Denied, states.Failed, "", 0, "fail: the account, user or device may not sync"},
	{states.Awaiting, PasswordExpired, states.Failed, "", 0, "fail: the password has expired (HTTP 457)"},
	{states.Awaiting, NotSupported, states.Failed, "", 0, "fail: the server does not offer FolderSync at this URL or version"},
	{states.Awaiting, ServerFull, states.Failed, "", 0, "fail: the server or mailbox is out of space"},
	{states.Awaiting, RemoteWipe, states.Failed, "", 0, "stop and surface the remote wipe request to the caller; never act on it silently"},
	{states.Awaiting, ServerError, states.Failed, "", 0, "fail: the server says not to retry (110)"},
	{states.Awaiting, Failure, states.Failed, "", 0, "fail with the status's meaning"},
	{states.Awaiting, CommitFailed, states.Failed, "", 0, "fail: the store refused the commit; the stored SyncKey and hierarchy are unchanged (DESIGN rule 1)"},

	{states.Retrying, BackoffElapsed, states.Awaiting, AttemptsLeft, GiveUp, "resend the identical request"},
	{states.Resetting, ResetSent, states.Awaiting, AttemptsLeft, GiveUp, "send a SyncKey 0 FolderSync"},
}

// Every non-terminal state accepts Cancelled and GiveUp into Failed: generated rows,
// so no state can miss them.
func init() {
	for _, s := range nonTerminal {
		rows = append(rows,
			Row{s, Cancelled, states.Failed, "", 0, "the caller cancelled: stop, leave the stored state as it was"},
			Row{s, GiveUp, states.Failed, "", 0, "a budget is spent: fail with the reason the guard gives"},
		)
	}
}

var rejections = []rejection{
	{[]states.State{states.Synced, states.Failed}, func(Event) bool { return true }, "the session is over"},
	{[]states.State{states.Idle, states.Retrying, states.Resetting}, Event.IsOutcome, "no request is in flight"},
	{[]states.State{states.Awaiting, states.Retrying, states.Resetting}, isOneOf(Start, Diverged), "the session has already started"},
	{[]states.State{states.Idle, states.Awaiting, states.Resetting}, isOneOf(BackoffElapsed), "the session is not waiting out a backoff"},
	{[]states.State{states.Idle, states.Awaiting, states.Retrying}, isOneOf(ResetSent), "no reset is prepared"},
	{[]states.State{states.Idle, states.Retrying, states.Resetting}, isOneOf(Reset, Verify), "only an outcome in flight leads to a reset or a verification"},
}

func isOneOf(es ...Event) func(Event) bool {
	return func(e Event) bool {
		for _, x := range es {
			if e == x {
				return true
			}
		}
		return false
	}
}

// Rows returns a copy of the table, in its order.
func Rows() []Row { return append([]Row(nil), rows...) }

// RejectedError reports an event the table does not accept in a state, and why.
type RejectedError struct {
	State  states.State
	Event  Event
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("transitions: event %s is not accepted in state %s: %s", e.Event, e.State, e.Reason)
}

// Lookup returns the row for event e in state s, or a *RejectedError saying why the
// table refuses it.
func Lookup(s states.State, e Event) (Row, error) {
	for _, r := range rows {
		if r.From == s && r.Event == e {
			return r, nil
		}
	}
	if reason, ok := rejectedBy(rejections, s, e); ok {
		return Row{}, &RejectedError{State: s, Event: e, Reason: reason}
	}
	return Row{}, &RejectedError{State: s, Event: e, Reason: "the table neither handles nor rejects it (Validate reports this)"}
}

// Validate proves the table sound: every state is reachable from Idle; Synced and
// Failed are reachable from every non-terminal state; no (state, event) pair is
// defined twice or both handled and rejected; every event is handled or explicitly
// rejected in every state; terminal states have no transitions; a guard's Else
// event is handled in the same state; every row names valid states and events.
func Validate() error { return validate(rows, rejections) }

func validate(rows []Row, rejections []rejection) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	type key struct {
		s states.State
		e Event
	}
	defined := map[key]Row{}
	for _, r := range rows {
		switch {
		case !r.From.Valid() || !r.To.Valid():
			add("row %v -%v-> %v names an invalid state", r.From, r.Event, r.To)
			continue
		case !r.Event.Valid():
			add("row %v names invalid event %d", r.From, r.Event)
			continue
		case r.From.Terminal():
			add("terminal state %v has a transition on %v", r.From, r.Event)
		case (r.Guard == "") != (r.Else == 0):
			add("row %v -%v-> %v: a guard needs an Else event and an Else needs a guard", r.From, r.Event, r.To)
		case r.Why == "":
			add("row %v -%v-> %v says nothing about why", r.From, r.Event, r.To)
		}
		k := key{r.From, r.Event}
		if _, dup := defined[k]; dup {
			add("(%v, %v) is defined twice", r.From, r.Event)
		}
		defined[k] = r
	}
	for _, s := range states.All() {
		for _, e := range Events() {
			_, handled := defined[key{s, e}]
			reason, isRejected := rejectedBy(rejections, s, e)
			switch {
			case handled && isRejected:
				add("(%v, %v) is both handled and rejected (%s)", s, e, reason)
			case !handled && !isRejected:
				add("(%v, %v) is neither handled nor rejected", s, e)
			}
		}
	}
	for _, r := range rows {
		if r.Else != 0 {
			if _, ok := defined[key{r.From, r.Else}]; !ok {
				add("row %v -%v-> %v: its Else event %v is not handled in %v", r.From, r.Event, r.To, r.Else, r.From)
			}
		}
	}
	// Reachability, following rows and the Else edges a failed guard takes.
	next := map[states.State][]states.State{}
	for _, r := range rows {
		next[r.From] = append(next[r.From], r.To)
		if r.Else != 0 {
			if er, ok := defined[key{r.From, r.Else}]; ok {
				next[r.From] = append(next[r.From], er.To)
			}
		}
	}
	reach := func(from states.State) map[states.State]bool {
		seen := map[states.State]bool{from: true}
		queue := []states.State{from}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, t := range next[s] {
				if !seen[t] {
					seen[t] = true
					queue = append(queue, t)
				}
			}
		}
		return seen
	}
	fromIdle := reach(states.Idle)
	for _, s := range states.All() {
		if !fromIdle[s] {
			add("state %v is not reachable from idle", s)
		}
		if s.Terminal() {
			continue
		}
		r := reach(s)
		for _, end := range []states.State{states.Synced, states.Failed} {
			if !r[end] {
				add("%v is not reachable from %v", end, s)
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("transitions: the table is unsound:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func rejectedBy(rejections []rejection, s states.State, e Event) (string, bool) {
	for _, rj := range rejections {
		for _, st := range rj.states {
			if st == s && rj.events(e) {
				return rj.reason, true
			}
		}
	}
	return "", false
}
