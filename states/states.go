package states

import (
	"fmt"
	"strings"
)

// State is one state of a FolderSync session. The zero value is not a state, so an
// unset field is never mistaken for idle.
type State uint8

// The states, in the order a successful session first meets them and then the
// recovery states.
const (
	// Idle: the session has loaded the stored SyncKey and has sent nothing yet.
	Idle State = iota + 1
	// Awaiting: a FolderSync request is in flight; the session waits for the
	// response, a transport error or the per-request timeout.
	Awaiting
	// Retrying: the last attempt failed transiently (no response, a connection error,
	// Status 6 or 11, HTTP 500/503); the session waits out the backoff delay, then
	// resends the identical request with the same SyncKey (MS-ASCMD "Handling Status
	// Errors").
	Retrying
	// Resetting: the SyncKey is unusable (Status 9, common statuses 132-136, a
	// non-zero key with an empty local hierarchy): what was added locally since the
	// last sync is rolled back and a SyncKey 0 FolderSync is prepared, whose full
	// hierarchy is then reconciled by mark-and-sweep. Nothing is wiped first.
	Resetting
	// Failed: the session ended without syncing. The stored state is untouched and
	// the result says why and what the user should do.
	Failed
	// Synced: the new SyncKey and the folder changes were committed together.
	Synced
)

type info struct {
	name, description  string
	terminal, inFlight bool
}

var table = [...]info{
	Idle:      {"idle", "the stored SyncKey is loaded and no request has been sent yet", false, false},
	Awaiting:  {"awaiting", "a FolderSync request is in flight: waiting for the response, a transport error or the timeout", false, true},
	Retrying:  {"retrying", "the last attempt failed transiently: waiting the backoff delay before resending with the same SyncKey", false, false},
	Resetting: {"resetting", "the SyncKey is unusable: local adds are rolled back and a SyncKey 0 FolderSync is prepared for mark-and-sweep", false, false},
	Failed:    {"failed", "the session ended without syncing; the stored state is unchanged and the result says why", true, false},
	Synced:    {"synced", "the new SyncKey and the folder changes were committed together", true, false},
}

// All returns every state, Idle first.
func All() []State { return []State{Idle, Awaiting, Retrying, Resetting, Failed, Synced} }

// Valid reports whether s is one of the six states.
func (s State) Valid() bool { return s >= Idle && s <= Synced }

// String is the state's name ("awaiting"), or "State(N)" for an invalid value.
func (s State) String() string {
	if !s.Valid() {
		return fmt.Sprintf("State(%d)", uint8(s))
	}
	return table[s].name
}

// Description says what the session is doing in this state.
func (s State) Description() string {
	if !s.Valid() {
		return "not a state"
	}
	return table[s].description
}

// Terminal reports whether the session is over in this state (Failed, Synced).
func (s State) Terminal() bool { return s.Valid() && table[s].terminal }

// RequestInFlight reports whether a FolderSync request has been sent and its outcome
// is pending (Awaiting): a crash or cancellation here may leave the server ahead of
// the client, which is why applying the response must be idempotent.
func (s State) RequestInFlight() bool { return s.Valid() && table[s].inFlight }

// Parse returns the state with the given name. Names are the lower-case ones String
// returns; surrounding space and letter case are ignored.
func Parse(name string) (State, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, s := range All() {
		if table[s].name == n {
			return s, nil
		}
	}
	return 0, &ParseError{Name: name}
}

// ParseError reports a name that is not a state.
type ParseError struct{ Name string }

func (e *ParseError) Error() string {
	names := make([]string, 0, len(table))
	for _, s := range All() {
		names = append(names, s.String())
	}
	return fmt.Sprintf("states: %q is not a state (want one of %s)", e.Name, strings.Join(names, ", "))
}

// MarshalText encodes the state as its name, so audit records and JSON carry
// "retrying", not a number. An invalid state is an error, never written.
func (s State) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("states: cannot encode invalid state %d", uint8(s))
	}
	return []byte(table[s].name), nil
}

// UnmarshalText decodes a state name (see Parse).
func (s *State) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
