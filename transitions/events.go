package transitions

import (
	"fmt"
	"strings"
)

// Event is what moves a session from one state to another: something the session
// did (start, a resend, a reset request) or an outcome of a request, classified by
// Classify.
type Event uint8

// Events the session itself fires.
const (
	// Start: the first request is sent with the stored SyncKey.
	Start Event = iota + 1
	// Diverged: the stored SyncKey is not 0 but the hierarchy is empty (DESIGN rule 7).
	Diverged
	// BackoffElapsed: the wait is over; the identical request is resent.
	BackoffElapsed
	// ResetSent: a SyncKey 0 FolderSync is sent to fetch the full hierarchy.
	ResetSent
	// Cancelled: the caller's context ended.
	Cancelled
	// GiveUp: a guard refused the transition its event asked for (a budget is spent).
	GiveUp
	// Reset: consecutive transient failures reached the policy's threshold
	// (MS-ASCMD 2.2.3.177.5, Status 6: "consider returning to synchronization key zero").
	Reset
	// Verify: a Status 1 with no changes and the key that was sent, answering a resend
	// after a lost response: it may hide lost changes (a server that never compares
	// keys), so a full SyncKey 0 FolderSync verifies it (DESIGN rule 3).
	Verify
)

// Outcome events: Classify turns the outcome of a request into one of these. They
// are accepted only while a request is in flight (Awaiting).
const (
	// Success: Status 1; the new SyncKey and the changes are committed together.
	Success Event = iota + 32
	// Lost: no usable response (timeout, connection error, unreadable body): resend
	// the identical request (MS-ASCMD 3.1.5.9, Handling Status Errors).
	Lost
	// Transient: the server failed for now (Status 6, 11; 111; HTTP 500, 502).
	Transient
	// Throttled: HTTP 503; wait for Retry-After when the server gives one.
	Throttled
	// KeyMismatch: the SyncKey or the server's sync state is unusable (Status 9;
	// 132, 134-136; X-MS-RP): return to SyncKey 0 and reconcile.
	KeyMismatch
	// UnknownStatus: Status 12 or a code no table defines: retry under a tight cap.
	UnknownStatus
	// Provision: the server wants the device (re)provisioned first (HTTP 449;
	// 141-144), then the request is rerun.
	Provision
	// Redirect: HTTP 451; follow X-MS-Location under the redirect rules.
	Redirect
	// Malformed: the server could not read the request (Status 10; 101-109; HTTP 400).
	Malformed
	// AuthFailed: HTTP 401: the credentials were refused.
	AuthFailed
	// Denied: the account, user or device may not sync (HTTP 403; 112, 123-131, 139,
	// 177; HTTP 456).
	Denied
	// PasswordExpired: HTTP 457.
	PasswordExpired
	// NotSupported: the server does not offer the command or protocol version
	// (HTTP 404, 501; 137, 138).
	NotSupported
	// ServerFull: the server or mailbox is out of space (HTTP 507; 113).
	ServerFull
	// RemoteWipe: 140, a remote wipe is requested: surfaced to the caller, never
	// acted on silently.
	RemoteWipe
	// ServerError: 110, a server error the device SHOULD NOT retry.
	ServerError
	// Failure: any other status that ends the session (a known common status that is
	// not about FolderSync).
	Failure
	// CommitFailed: a Status 1 response could not be committed (the store refused):
	// the stored state is unchanged and the next session resends with the old key.
	// The session fires it itself; Classify never does.
	CommitFailed
)

type eventInfo struct {
	name, description string
}

var eventTable = map[Event]eventInfo{
	Start:           {"start", "the first request is sent with the stored SyncKey"},
	Diverged:        {"diverged", "the stored SyncKey is not 0 but the hierarchy is empty (DESIGN rule 7)"},
	BackoffElapsed:  {"backoff_elapsed", "the wait is over; the identical request is resent"},
	ResetSent:       {"reset_sent", "a SyncKey 0 FolderSync is sent to fetch the full hierarchy"},
	Cancelled:       {"cancelled", "the caller's context ended"},
	GiveUp:          {"give_up", "a guard refused the transition: a budget is spent"},
	Reset:           {"reset", "consecutive transient failures reached the policy's threshold"},
	Verify:          {"verify", "a no-change answer to a resend after a lost response is verified by a full SyncKey 0 FolderSync"},
	Success:         {"success", "Status 1: the new SyncKey and the changes are committed together"},
	Lost:            {"lost", "no usable response: timeout, connection error or unreadable body"},
	Transient:       {"transient", "the server failed for now"},
	Throttled:       {"throttled", "HTTP 503: the server asks the client to wait"},
	KeyMismatch:     {"key_mismatch", "the SyncKey or the server's sync state is unusable"},
	UnknownStatus:   {"unknown_status", "Status 12 or a code no table defines"},
	Provision:       {"provision", "the server wants the device (re)provisioned first"},
	Redirect:        {"redirect", "HTTP 451: the mailbox is served from another URL"},
	Malformed:       {"malformed", "the server could not read the request"},
	AuthFailed:      {"auth_failed", "HTTP 401: the credentials were refused"},
	Denied:          {"denied", "the account, user or device may not sync"},
	PasswordExpired: {"password_expired", "HTTP 457: the password has expired"},
	NotSupported:    {"not_supported", "the server does not offer the command or protocol version"},
	ServerFull:      {"server_full", "the server or mailbox is out of space"},
	RemoteWipe:      {"remote_wipe", "a remote wipe is requested (surfaced, never acted on silently)"},
	ServerError:     {"server_error", "a server error the device SHOULD NOT retry"},
	Failure:         {"failure", "a status that ends the session"},
	CommitFailed:    {"commit_failed", "the store refused to commit a Status 1 response"},
}

// Events returns every event, session events first, in a stable order.
func Events() []Event {
	var out []Event
	for e := Start; e <= Verify; e++ {
		out = append(out, e)
	}
	for e := Success; e <= CommitFailed; e++ {
		out = append(out, e)
	}
	return out
}

// Valid reports whether e is an event.
func (e Event) Valid() bool { _, ok := eventTable[e]; return ok }

// IsOutcome reports whether e is an outcome event (accepted only in Awaiting).
func (e Event) IsOutcome() bool { return e >= Success && e.Valid() }

// String is the event's name ("key_mismatch").
func (e Event) String() string {
	if i, ok := eventTable[e]; ok {
		return i.name
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// Description says what the event means.
func (e Event) Description() string { return eventTable[e].description }

// ParseEvent returns the event with the given name.
func ParseEvent(name string) (Event, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, e := range Events() {
		if eventTable[e].name == n {
			return e, nil
		}
	}
	names := make([]string, 0, len(eventTable))
	for _, e := range Events() {
		names = append(names, e.String())
	}
	return 0, fmt.Errorf("transitions: %q is not an event (want one of %s)", name, strings.Join(names, ", "))
}

// MarshalText encodes the event as its name.
func (e Event) MarshalText() ([]byte, error) {
	if !e.Valid() {
		return nil, fmt.Errorf("transitions: cannot encode invalid event %d", uint8(e))
	}
	return []byte(e.String()), nil
}

// UnmarshalText decodes an event name.
func (e *Event) UnmarshalText(b []byte) error {
	v, err := ParseEvent(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
