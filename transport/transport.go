package transport

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Transport performs one FolderSync round trip, in the manner of net/http's
// RoundTripper: it sends the request and reports what came back, without deciding
// what it means. Package transitions classifies the Reply or the error; package
// machine acts on it. Implementations: transport/httpeas (MS-ASHTTP, a real server)
// and transport/sim (an in-process server), and wrappers such as transport/faults.
//
// A Transport must honour ctx: when ctx ends it returns promptly with ctx.Err()
// (wrapped or not). It must be safe for use by one session at a time; whether it
// serves several sessions concurrently is up to the implementation.
type Transport interface {
	FolderSync(ctx context.Context, req *FolderSyncRequest) (*Reply, error)
}

// Reply is what a server answered: the HTTP status and the headers that matter for
// recovery (MS-ASHTTP 2.2.2.2), and the decoded FolderSync body when there is one.
// A Transport returns a Reply whenever the server answered, whatever the status;
// it returns an error only when there was no usable answer.
type Reply struct {
	// HTTPStatus is the response's status code (200, 449, 451, 503, ...).
	HTTPStatus int
	// Response is the decoded FolderSync body of a 200 response, else nil.
	Response *FolderSyncResponse
	// RetryAfter is the wait the server asked for (Retry-After, in seconds or as an
	// HTTP date converted against the transport's clock), when HasRetryAfter.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Throttle is the X-MS-ASThrottle header, surfaced for the audit log.
	Throttle string
	// Location is the X-MS-Location header of a 451 redirect, or, when Autodiscovered,
	// the URL Autodiscover found for a 451 that named none.
	Location string
	// Autodiscovered says the 451 carried no X-MS-Location and the transport ran the
	// Autodiscover process for Location (MS-ASHTTP 3.1.5.2.2).
	Autodiscovered bool
	// RedirectOK says the transport checked Location and can follow it: an https URL
	// (http only when the transport allows insecure HTTP), not the URL in use, and
	// (for transport/httpeas) answering OPTIONS as an ActiveSync endpoint. When it is
	// false, RedirectRefusal says why, for the audit log and the error.
	RedirectOK      bool
	RedirectRefusal string
	// CredentialServiceURL is the X-MS-Credential-Service-Url header of a 457
	// (MS-ASHTTP 3.1.5.2.4): where the user changes an expired password.
	CredentialServiceURL string
	// ResetRequested is set when the server sent X-MS-RP (MS-ASHTTP): the client must
	// reinitialize its synchronization state.
	ResetRequested bool
	// RequestID identifies the round trip in logs (the transport's own counter, or a
	// server-provided id), for the audit log.
	RequestID string
}

// ErrRequestDeadline is the cause (context.Cause) a session gives a request's
// context when the request's own time budget (the policy's request timeout) runs
// out, as distinct from the session's context ending. A transport that does more
// than the request on the session's behalf (Autodiscover for a 451) tells the two
// apart with it: the first is the request's limit, the second the session's.
var ErrRequestDeadline = errors.New("transport: the request's timeout elapsed")

// Redirector is a Transport that can move to the URL a 451 names (MS-ASHTTP
// 3.1.5.2.2: "all subsequent requests SHOULD use the URL specified within the
// X-MS-Location header"). The session calls FollowRedirect only when its table takes
// the redirect (the Reply said RedirectOK, fewer than 3 redirects were followed, no
// policy override forbids it), before the rerun, so the transport never moves, nor
// contacts the new URL, on its own. FollowRedirect verifies the location (the HTTP
// transport asks it for OPTIONS) and adopts it, returning (nil, nil); a server that
// answers with a refusal is a Reply, classified like any other; no answer is an
// error, as for FolderSync. URL is what the caller persists.
type Redirector interface {
	FollowRedirect(ctx context.Context, location string) (*Reply, error)
	URL() string
}

// Provisioner is a Transport that can provision the device (MS-ASPROV 3.1.5.1) when
// the server asks for it (HTTP 449, or Status 141-144 in a 14.0+ body). The session
// calls Provision before it reruns the request; a transport without it only
// reruns. Errors are as for FolderSync: no answer is one of the no-answer kinds.
type Provisioner interface {
	Provision(ctx context.Context) (*ProvisionResult, error)
}

// Wrapper is a Transport that wraps another (transport/faults does). The session
// looks through wrappers for a Redirector or a Provisioner (see Find).
type Wrapper interface {
	Unwrap() Transport
}

// Find returns the first transport in t's chain of wrappers (t itself first) that
// is a T, such as a Redirector.
func Find[T any](t Transport) (T, bool) {
	for depth := 0; t != nil && depth < 32; depth++ {
		if x, ok := t.(T); ok {
			return x, true
		}
		w, ok := t.(Wrapper)
		if !ok {
			break
		}
		t = w.Unwrap()
	}
	var zero T
	return zero, false
}

// ProvisionResult is what a provisioning exchange ended with. A Provisioner returns
// an error only when there was no usable answer.
type ProvisionResult struct {
	// HTTPStatus is the status of the last Provision response (200 when it worked),
	// with the recovery headers of a refusal (a 503's Retry-After, say).
	HTTPStatus    int
	RetryAfter    time.Duration
	HasRetryAfter bool
	Throttle      string
	// Status is the Provision Status (MS-ASPROV 2.2.2.54.1: 1 success, 2 protocol
	// error, 3 general server error), or a common status (MS-ASCMD 2.2.2).
	Status int
	// PolicyStatus is the Policy's Status (2.2.2.54.2: 1 success, 2 no policy for
	// this client, ...); 0 when there was no Policy.
	PolicyStatus int
	// PolicyKey is the final key, sent with every later request; "" when the server
	// has no policy for the device (SOGo, Horde), which is not an error.
	PolicyKey string
	// RemoteWipe is set when the server asked the device to wipe itself
	// (2.2.2.45); AccountOnlyRemoteWipe when it asked to wipe only this account's
	// data (2.2.2.1, protocol 16.1). Either is surfaced to the caller and never
	// acknowledged by the library.
	RemoteWipe            bool
	AccountOnlyRemoteWipe bool
	// RequestID identifies the exchange in logs.
	RequestID string
}

// The kinds of "no usable answer". A Transport returns an error for which
// errors.Is reports one of these, so the session can classify it without knowing
// the transport, and resends. Any other error means the request cannot be made for
// a reason a resend will not fix (an untrusted certificate, a failing token source):
// the session fails at once and reports it.
var (
	// ErrTimeout: no response within the per-request timeout.
	ErrTimeout = errors.New("no response before the timeout")
	// ErrConnection: the connection failed or was reset before a response arrived.
	ErrConnection = errors.New("connection failed")
	// ErrUnreadable: a response arrived but its body could not be decoded.
	ErrUnreadable = errors.New("response body unreadable")
)

// Error reports a round trip that produced no usable answer: which kind (Err, one
// of ErrTimeout, ErrConnection, ErrUnreadable), why (Cause, e.g. the net or wbxml
// error), and the HTTP status when a response arrived with a bad body.
type Error struct {
	Err        error
	Cause      error
	HTTPStatus int
}

func (e *Error) Error() string {
	s := "transport: " + e.Err.Error()
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the kind and the cause, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
