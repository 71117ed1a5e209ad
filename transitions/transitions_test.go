package transitions_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

func TestTableIsSound(t *testing.T) {
	require.NoError(t, transitions.Validate())
}

// Walk the whole table: every (state, event) pair either transitions as the table
// says or is rejected with a reason, and never both.
func TestWalkEveryStateAndEvent(t *testing.T) {
	handled, rejected := 0, 0
	for _, s := range states.All() {
		for _, e := range transitions.Events() {
			row, err := transitions.Lookup(s, e)
			var re *transitions.RejectedError
			switch {
			case err == nil:
				handled++
				assert.Equal(t, s, row.From)
				assert.Equal(t, e, row.Event)
				assert.True(t, row.To.Valid())
				assert.NotEmpty(t, row.Why)
				if row.Guard != "" {
					_, err := transitions.Lookup(s, row.Else)
					assert.NoError(t, err, "%v -%v-> guard %s falls back to %v, which %v must handle", s, e, row.Guard, row.Else, s)
				}
			case errors.As(err, &re):
				rejected++
				assert.NotEmpty(t, re.Reason)
				assert.NotContains(t, re.Reason, "neither handles nor rejects")
				assert.Contains(t, err.Error(), "is not accepted in state "+s.String())
			default:
				t.Fatalf("(%v, %v): unexpected error %v", s, e, err)
			}
		}
	}
	assert.Equal(t, len(states.All())*len(transitions.Events()), handled+rejected)
	assert.Len(t, transitions.Rows(), handled)
	t.Logf("%d pairs: %d transitions, %d explicit rejections", handled+rejected, handled, rejected)
}

func TestTerminalStatesRejectEverything(t *testing.T) {
	for _, s := range []states.State{states.Synced, states.Failed} {
		for _, e := range transitions.Events() {
			_, err := transitions.Lookup(s, e)
			assert.ErrorContains(t, err, "the session is over")
		}
	}
}

func TestCancelAndGiveUpEverywhereBeforeTheEnd(t *testing.T) {
	for _, s := range []states.State{states.Idle, states.Awaiting, states.Retrying, states.Resetting} {
		for _, e := range []transitions.Event{transitions.Cancelled, transitions.GiveUp} {
			row, err := transitions.Lookup(s, e)
			require.NoError(t, err, "%v %v", s, e)
			assert.Equal(t, states.Failed, row.To)
		}
	}
}

func TestClassify(t *testing.T) {
	ok := func(status int) transitions.Outcome { return transitions.Outcome{HTTPStatus: 200, Status: status} }
	httpCode := func(code int) transitions.Outcome { return transitions.Outcome{HTTPStatus: code} }
	cases := []struct {
		name  string
		in    transitions.Outcome
		event transitions.Event
		src   transitions.Source
		spec  string
	}{
		{"status 1", ok(1), transitions.Success, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"status 6", ok(6), transitions.Transient, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"status 9", ok(9), transitions.KeyMismatch, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"status 10", ok(10), transitions.Malformed, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"status 11", ok(11), transitions.Transient, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"status 12", ok(12), transitions.UnknownStatus, transitions.FolderSyncStatus, "MS-ASCMD 2.2.3.177.5"},
		{"legacy 8", ok(8), transitions.Transient, transitions.FolderSyncStatus, ""},
		{"status 7 undefined", ok(7), transitions.UnknownStatus, transitions.FolderSyncStatus, "none"},
		{"status 0", ok(0), transitions.UnknownStatus, transitions.FolderSyncStatus, "none"},
		{"common 101", ok(101), transitions.Malformed, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 110", ok(110), transitions.ServerError, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 111", ok(111), transitions.Transient, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 126", ok(126), transitions.Denied, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 132", ok(132), transitions.KeyMismatch, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 133 locked", ok(133), transitions.Transient, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 140", ok(140), transitions.RemoteWipe, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 142", ok(142), transitions.Provision, transitions.CommonStatus, "MS-ASCMD 2.2.2"},
		{"common 157 gap", ok(157), transitions.UnknownStatus, transitions.CommonStatus, "none"},
		{"common 999", ok(999), transitions.UnknownStatus, transitions.CommonStatus, "none"},
		{"http 400", httpCode(400), transitions.Malformed, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 401", httpCode(401), transitions.AuthFailed, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 403", httpCode(403), transitions.Denied, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 404", httpCode(404), transitions.NotSupported, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 449", httpCode(449), transitions.Provision, transitions.HTTPStatus, "MS-ASPROV 3.1.5.1"}, // the current MS-ASHTTP table no longer lists 449
		{"http 451", httpCode(451), transitions.Redirect, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 456", httpCode(456), transitions.Denied, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 457", httpCode(457), transitions.PasswordExpired, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 500", httpCode(500), transitions.Transient, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 501", httpCode(501), transitions.NotSupported, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 503", httpCode(503), transitions.Throttled, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 507", httpCode(507), transitions.ServerFull, transitions.HTTPStatus, "MS-ASHTTP"},
		{"http 418 unknown", httpCode(418), transitions.Failure, transitions.HTTPStatus, "none"},
		{"http 599 unknown", httpCode(599), transitions.Transient, transitions.HTTPStatus, "none"},
		{"http 0 (no status)", httpCode(0), transitions.Failure, transitions.HTTPStatus, "none"},
		{"timeout", transitions.Outcome{Condition: transitions.Timeout}, transitions.Lost, transitions.TransportCondition, "MS-ASCMD 3.1.5.9"},
		{"connection error", transitions.Outcome{Condition: transitions.ConnectionError, HTTPStatus: 200, Status: 1}, transitions.Lost, transitions.TransportCondition, "MS-ASCMD 3.1.5.9"},
		{"unreadable body", transitions.Outcome{Condition: transitions.Unreadable, HTTPStatus: 200}, transitions.Lost, transitions.TransportCondition, "MS-ASCMD 3.1.5.9"},
		{"X-MS-RP on a 200", transitions.Outcome{HTTPStatus: 200, Status: 1, ResetRequested: true}, transitions.KeyMismatch, transitions.TransportCondition, "MS-ASHTTP"},
		{"X-MS-RP loses to an HTTP error", transitions.Outcome{HTTPStatus: 401, ResetRequested: true}, transitions.AuthFailed, transitions.HTTPStatus, "MS-ASHTTP"},
		{"unknown condition", transitions.Outcome{Condition: 99}, transitions.UnknownStatus, transitions.TransportCondition, "none"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := transitions.Classify(c.in)
			assert.Equal(t, c.event, r.Event, "%v", r)
			assert.Equal(t, c.src, r.Source)
			assert.Contains(t, r.Spec, c.spec)
			assert.NotEmpty(t, r.Meaning)
			_, err := transitions.Lookup(states.Awaiting, r.Event)
			assert.NoError(t, err, "an outcome must be handled while awaiting")
		})
	}
}

// The facts (statuscodes.tsv) and the decisions (which event each code fires) stay
// in step: every code has a decision, every decision names a code, and every rule's
// event is handled while a request is in flight.
func TestEveryCodeHasADecision(t *testing.T) {
	f, err := os.Open("statuscodes.tsv")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // header
	seen := map[string]bool{}
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		require.Len(t, cols, 9, sc.Text())
		code, err := strconv.Atoi(cols[1])
		require.NoError(t, err)
		src := map[string]transitions.Source{"foldersync": transitions.FolderSyncStatus, "legacy": transitions.FolderSyncStatus,
			"common": transitions.CommonStatus, "http": transitions.HTTPStatus}[cols[0]]
		require.NotZero(t, src, "kind %q", cols[0])
		r, ok := transitions.RuleFor(src, code)
		require.True(t, ok, "%s %d", cols[0], code)
		assert.True(t, r.Event.Valid(), "%s %d (%s) has no event decided", cols[0], code, cols[2])
		assert.NotEmpty(t, r.Spec, "%s %d cites no section", cols[0], code)
		seen[fmt.Sprintf("%v/%d", src, code)] = true
	}
	require.NoError(t, sc.Err())
	byKind := map[transitions.Source]int{}
	for _, r := range transitions.Rules() {
		byKind[r.Source]++
		if r.Source != transitions.TransportCondition {
			assert.True(t, seen[fmt.Sprintf("%v/%d", r.Source, r.Code)], "%v has a decision but no row in statuscodes.tsv", r)
		}
		_, err := transitions.Lookup(states.Awaiting, r.Event)
		assert.NoError(t, err, "%v", r)
	}
	assert.Equal(t, 7, byKind[transitions.FolderSyncStatus])
	assert.Equal(t, 78, byKind[transitions.CommonStatus])
	assert.Equal(t, 14, byKind[transitions.HTTPStatus])
	assert.Equal(t, 5, byKind[transitions.TransportCondition])
}

func TestEventNames(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range transitions.Events() {
		name := e.String()
		assert.False(t, seen[name], "duplicate name %s", name)
		seen[name] = true
		back, err := transitions.ParseEvent(strings.ToUpper(name))
		require.NoError(t, err)
		assert.Equal(t, e, back)
		b, err := e.MarshalText()
		require.NoError(t, err)
		var u transitions.Event
		require.NoError(t, u.UnmarshalText(b))
		assert.Equal(t, e, u)
		assert.NotEmpty(t, e.Description())
	}
	_, err := transitions.ParseEvent("explode")
	assert.ErrorContains(t, err, `"explode" is not an event (want one of start, diverged`)
	_, err = transitions.Event(200).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "Event(200)", transitions.Event(200).String())
	assert.True(t, transitions.Lost.IsOutcome())
	assert.False(t, transitions.Start.IsOutcome())
}

func FuzzClassify(f *testing.F) {
	f.Add(uint8(0), 200, 1, false)
	f.Add(uint8(1), 0, 0, false)
	f.Add(uint8(0), 503, 0, true)
	f.Add(uint8(0), 200, 157, true)
	f.Fuzz(func(t *testing.T, cond uint8, httpStatus, status int, reset bool) {
		r := transitions.Classify(transitions.Outcome{Condition: transitions.Condition(cond), HTTPStatus: httpStatus, Status: status, ResetRequested: reset})
		if !r.Event.Valid() {
			t.Fatalf("%+v classified to invalid event", r)
		}
		if _, err := transitions.Lookup(states.Awaiting, r.Event); err != nil {
			t.Fatalf("%v is not handled while awaiting: %v", r, err)
		}
	})
}

func ExampleClassify() {
	r := transitions.Classify(transitions.Outcome{HTTPStatus: 200, Status: 9})
	row, _ := transitions.Lookup(states.Awaiting, r.Event)
	fmt.Println(r.Event, "->", row.To, "if", row.Guard, "else", row.Else)
	fmt.Println(row.Why)
	// Output:
	// key_mismatch -> resetting if reset_allowed else give_up
	// roll back local adds, return to SyncKey 0, reconcile by mark-and-sweep; never wipe (DESIGN rule 5)
}
