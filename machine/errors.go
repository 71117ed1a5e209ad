package machine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/easkit/foldersync/transitions"
)

// Kinds of failure. A failed Sync returns an *Error whose Kind is one of these, so
// callers branch with errors.Is(err, machine.ErrMalformedRequest).
var (
	ErrMalformedRequest = errors.New("the server could not read the request")
	ErrAuth             = errors.New("the credentials were refused")
	ErrDenied           = errors.New("the account, user or device may not sync")
	ErrPasswordExpired  = errors.New("the password has expired")
	ErrNotSupported     = errors.New("the server does not offer FolderSync here")
	ErrServerFull       = errors.New("the server or mailbox is out of space")
	ErrRemoteWipe       = errors.New("the server requests a remote wipe")
	ErrServerError      = errors.New("the server failed and asks not to retry")
	ErrStatus           = errors.New("the server answered with a status that ends the session")
	ErrBudget           = errors.New("the retry budget is spent")
	ErrResetLoop        = errors.New("the server keeps rejecting the hierarchy")
	ErrRedirect         = errors.New("the server redirects where foldersync will not follow")
	ErrThrottled        = errors.New("the server asks to wait longer than the policy allows")
	ErrProvisioning     = errors.New("the server keeps asking for provisioning")
	ErrCommit           = errors.New("the hierarchy could not be stored")
	ErrCancelled        = errors.New("the session was cancelled")
	ErrRequest          = errors.New("the request could not be made")
)

// Error is a failed session: what kind of failure, why (the guard's or the
// status's reason), what the user should do, and the classified code.
type Error struct {
	Kind   error
	Reason string
	Hint   string
	Rule   *transitions.Rule
	cause  error
}

func (e *Error) Error() string {
	s := "foldersync: " + e.Kind.Error()
	if e.Rule != nil {
		s += fmt.Sprintf(" (%s %d", e.Rule.Source, e.Rule.Code)
		if e.Rule.Name != "" && e.Rule.Name != "unknown" {
			s += " " + e.Rule.Name
		}
		s += ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Hint != "" {
		s += ". " + e.Hint
	}
	return s
}

// Unwrap returns the kind and, for a cancelled session, the context's error.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

var hints = map[error]string{
	ErrMalformedRequest: "This is a client bug or a server incompatibility: report it with the audit log",
	ErrAuth:             "Check the user name and password (or refresh the OAuth token) and sync again",
	ErrDenied:           "Ask the server administrator to allow this account and device to sync",
	ErrPasswordExpired:  "Change the password, then sync again",
	ErrNotSupported:     "Check the server URL and the protocol version",
	ErrServerFull:       "Free space on the server (or ask its administrator), then sync again",
	ErrRemoteWipe:       "The caller must decide how to honour the wipe; foldersync never acts on it",
	ErrServerError:      "Try again later; if it persists, ask the server administrator",
	ErrStatus:           "The status's meaning and resolution are in the spec section it cites",
	ErrBudget:           "Sync again later; the policy's budgets bound how long one session tries",
	ErrResetLoop:        "The server rejects every SyncKey; ask its administrator to check the device partnership",
	ErrRedirect:         "Check the server URL (a redirect must be HTTPS and lead elsewhere, at most 3 in a row)",
	ErrThrottled:        "Sync again after the server's Retry-After, or raise the policy's retry_after_cap",
	ErrProvisioning:     "Provisioning did not satisfy the server; ask its administrator about the device policy",
	ErrCommit:           "Check the state directory (disk space, permissions); the stored state is unchanged",
	ErrCancelled:        "Sync again when ready; the stored state is unchanged",
	ErrRequest:          "Fix what the error names (certificate, host name, token source, configuration); a resend would fail the same way",
}

func failure(ctx context.Context, step Step, st Stimulus) error {
	kind := ErrStatus
	if r := step.Rule; r != nil && r.Source == transitions.TransportCondition && r.Code == int(transitions.RequestFailed) {
		return &Error{Kind: ErrRequest, Reason: st.Detail, Hint: hints[ErrRequest], Rule: r}
	}
	switch step.Event {
	case transitions.Malformed:
		kind = ErrMalformedRequest
	case transitions.AuthFailed:
		kind = ErrAuth
	case transitions.Denied:
		kind = ErrDenied
	case transitions.PasswordExpired:
		kind = ErrPasswordExpired
	case transitions.NotSupported:
		kind = ErrNotSupported
	case transitions.ServerFull:
		kind = ErrServerFull
	case transitions.RemoteWipe:
		kind = ErrRemoteWipe
	case transitions.ServerError:
		kind = ErrServerError
	case transitions.CommitFailed:
		kind = ErrCommit
	case transitions.Cancelled:
		kind = ErrCancelled
	case transitions.GiveUp:
		kind = ErrBudget
		// Say which guard refused: the last one consulted.
		if n := len(step.Guards); n > 0 && !step.Guards[n-1].Held {
			switch step.Guards[n-1].Guard {
			case transitions.ResetAllowed:
				kind = ErrResetLoop
			case transitions.RedirectAllowed:
				kind = ErrRedirect
			case transitions.RetryAfterWithinCap:
				kind = ErrThrottled
			case transitions.ProvisionAllowed:
				kind = ErrProvisioning
			}
		}
	}
	e := &Error{Kind: kind, Hint: hints[kind], Rule: step.Rule, Reason: st.Detail}
	if step.Event == transitions.GiveUp {
		// Only a refusing guard adds to what the kind and the code say; a row's own
		// description ("fail: the credentials were refused") would repeat them.
		e.Reason = step.Reason
		if st.Detail != "" && st.Outcome != nil && st.Outcome.Condition != 0 {
			// The budget ran out on answers that never came: say what the last
			// attempt ran into (an x509 error, a refused connection).
			e.Reason += "; the last attempt: " + st.Detail
		}
	}
	if kind == ErrStatus && step.Rule != nil {
		if step.Rule.Spec == "" || step.Rule.Spec == "none" {
			e.Hint = "The code is in no specification foldersync knows: report it with the audit log"
		} else {
			section, _, _ := strings.Cut(step.Rule.Spec, " http")
			e.Hint = "See " + section + ": " + step.Rule.Meaning
		}
	}
	if kind == ErrCancelled {
		e.cause = ctx.Err()
	}
	return e
}
