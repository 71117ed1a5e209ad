package visualize_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/visualize"
)

func TestSequenceDemo(t *testing.T) {
	s, err := visualize.SequenceMermaid(readAudit(t, "demo"))
	require.NoError(t, err)
	for _, want := range []string{
		"sequenceDiagram\n",
		"    participant Client as Client (foldersync session)\n",
		"    participant Server as Server (Exchange ActiveSync)\n",
		"    Note over Client,Server: session initial: stored SyncKey 0\n",
		"    Client->>Server: FolderSync SyncKey=0 (attempt 1, request sim-1)\n",
		"    Server-->>Client: Status 1, new SyncKey 1 → success\n",
		"    Note over Client: commit SyncKey 1 (was 0) with the folder changes\n",
		"    Server--xClient: no usable answer: timeout → lost\n",
		"    Note over Client: retrying: resend at once\n",
		"    Client->>Server: resend FolderSync SyncKey=1 (attempt 2, request faults-2)\n",
		"    Note over Client: retrying: wait 1.166s (backoff)\n",
		"    Server-->>Client: Status 9 → key_mismatch\n",
		"    Client->>Server: reset: FolderSync SyncKey=0 (attempt 5, request sim-3)\n",
		"    Note over Client: commit SyncKey 3 (was 1) with the folder changes\n",
		"    Note over Client,Server: session incremental synced with SyncKey 3 after 5 requests\n",
	} {
		assert.Contains(t, s, want)
	}
	assert.Equal(t, 2, strings.Count(s, "    rect "), "one block per session")
	assert.Equal(t, 2, strings.Count(s, "    end\n"))
}

func TestSequenceVerifyAndRetryAfter(t *testing.T) {
	s, err := visualize.SequenceMermaid(readAudit(t, "demo-lenient"))
	require.NoError(t, err)
	assert.Contains(t, s, "Server-->>Client: HTTP 503, Retry-After 30s, X-MS-ASThrottle CommandFrequency → throttled\n")
	assert.Contains(t, s, "Note over Client: retrying: wait 30s (Retry-After)\n")
	assert.Contains(t, s, "Server-->>Client: Status 1, no changes, the SyncKey sent echoed → success refused by response_trusted → verify\n")
	assert.Contains(t, s, "Client->>Server: reset: FolderSync SyncKey=0 (attempt 4, request sim-4)\n")
}

// session builds the records of one session from (from, asked, event, to) steps.
type sessionBuilder struct {
	name string
	key  string
	recs []machine.Record
}

func (b *sessionBuilder) step(from states.State, asked, ev transitions.Event, to states.State, edit func(*machine.Record)) {
	r := machine.Record{Seq: len(b.recs) + 1, Session: b.name, From: from, Asked: asked, Event: ev, To: to,
		Attempt: 1, OldKey: b.key, NewKey: b.key}
	if asked.IsOutcome() && asked != transitions.CommitFailed {
		r.Stimulus.Outcome = &transitions.Outcome{HTTPStatus: 200}
	} else {
		r.Stimulus.Event = asked
	}
	if edit != nil {
		edit(&r)
	}
	b.recs = append(b.recs, r)
}

// Every kind of step the table allows, rendered.
func TestSequenceSteps(t *testing.T) {
	b := &sessionBuilder{name: "s1", key: "K1"}
	b.step(states.Idle, transitions.Diverged, transitions.Diverged, states.Resetting, nil)
	b.step(states.Resetting, transitions.ResetSent, transitions.ResetSent, states.Awaiting, nil)
	b.step(states.Awaiting, transitions.Provision, transitions.Provision, states.Retrying, func(r *machine.Record) {
		r.Stimulus.Outcome.HTTPStatus = 449
		r.Code = "HTTP 449"
	})
	b.step(states.Retrying, transitions.BackoffElapsed, transitions.BackoffElapsed, states.Awaiting, nil)
	b.step(states.Awaiting, transitions.Redirect, transitions.Redirect, states.Retrying, func(r *machine.Record) {
		r.Stimulus.Outcome.HTTPStatus = 451
		r.Stimulus.Location = "https://mail2.example.com/Microsoft-Server-ActiveSync"
	})
	b.step(states.Retrying, transitions.BackoffElapsed, transitions.BackoffElapsed, states.Awaiting, nil)
	b.step(states.Awaiting, transitions.KeyMismatch, transitions.KeyMismatch, states.Resetting, func(r *machine.Record) {
		r.Stimulus.Outcome.Status = 132
		r.Code = "common status 132 SyncStateNotFound"
	})
	b.step(states.Resetting, transitions.ResetSent, transitions.ResetSent, states.Awaiting, nil)
	b.step(states.Awaiting, transitions.Throttled, transitions.Throttled, states.Retrying, func(r *machine.Record) {
		r.Stimulus.Outcome.HTTPStatus = 503
		r.Stimulus.RetryAfter, r.Stimulus.HasRetryAfter = machine.Duration(time.Hour), true
		r.Delay = machine.Duration(5 * time.Minute)
	})
	b.step(states.Retrying, transitions.BackoffElapsed, transitions.GiveUp, states.Failed, func(r *machine.Record) {
		r.Attempt = 4
		r.Guards = []machine.GuardCheck{{Guard: transitions.AttemptsLeft, Held: false}}
		r.Reason = "the attempt budget is spent"
	})
	c := &sessionBuilder{name: "s2", key: "K2"}
	c.step(states.Idle, transitions.Start, transitions.Start, states.Awaiting, func(r *machine.Record) {
		r.Stimulus.Prior = &machine.Prior{LostResponse: true}
	})
	c.step(states.Awaiting, transitions.Transient, transitions.Reset, states.Resetting, func(r *machine.Record) {
		r.Stimulus.Outcome.Status = 6
		r.Code = "FolderSync status 6"
		r.Guards = []machine.GuardCheck{{Guard: transitions.TransientBudget, Held: false}, {Guard: transitions.ResetAllowed, Held: true}}
	})
	c.step(states.Resetting, transitions.ResetSent, transitions.ResetSent, states.Awaiting, nil)
	c.step(states.Awaiting, transitions.KeyMismatch, transitions.KeyMismatch, states.Resetting, func(r *machine.Record) {
		r.Stimulus.Outcome.ResetRequested = true
		r.Stimulus.Outcome.Status = 1
	})
	c.step(states.Resetting, transitions.ResetSent, transitions.ResetSent, states.Awaiting, nil)
	c.step(states.Awaiting, transitions.CommitFailed, transitions.CommitFailed, states.Failed, func(r *machine.Record) {
		r.Reason = "fail: the store refused the commit"
	})
	d := &sessionBuilder{name: "s3", key: "K3"}
	d.step(states.Idle, transitions.Start, transitions.Start, states.Awaiting, nil)
	d.step(states.Awaiting, transitions.Malformed, transitions.Malformed, states.Failed, func(r *machine.Record) {
		r.Stimulus.Outcome.Status = 10
		r.Code = "FolderSync status 10"
		r.Reason = "fail at once, no retry: the request itself is wrong (Status 10)"
	})
	e := &sessionBuilder{name: "s4", key: "K4"}
	e.step(states.Idle, transitions.Start, transitions.Start, states.Awaiting, nil)
	e.step(states.Awaiting, transitions.Cancelled, transitions.Cancelled, states.Failed, func(r *machine.Record) {
		r.Reason = "the caller cancelled"
	})
	// Interleaved, as concurrent sessions write one log.
	var recs []machine.Record
	for i := 0; i < 10; i++ {
		for _, s := range []*sessionBuilder{b, c, d, e} {
			if i < len(s.recs) {
				recs = append(recs, s.recs[i])
			}
		}
	}
	s, err := visualize.SequenceMermaid(recs)
	require.NoError(t, err)
	for _, want := range []string{
		"Note over Client,Server: session s1: stored SyncKey K1\n",
		"Note over Client: stored SyncKey K1 with an empty hierarchy: reset<br/>to SyncKey 0\n",
		"Client->>Server: reset: FolderSync SyncKey=0 (attempt 1)\n",
		"Server-->>Client: HTTP 449 → provision\n",
		"Note over Client: retrying, provision (MS-ASPROV), then rerun\n",
		"Client->>Server: resend FolderSync SyncKey=0 (attempt 1)\n",
		"Server-->>Client: HTTP 451, X-MS-Location https://mail2.example.com/Microsoft-Server-ActiveSync → redirect\n",
		"Note over Client: retrying, follow X-MS-Location to<br/>https://mail2.example.com/Microsoft-Server-ActiveSync,<br/>then rerun\n",
		"Server-->>Client: Status 132 (SyncStateNotFound) → key_mismatch\n",
		"Server-->>Client: HTTP 503, Retry-After 1h0m0s → throttled\n",
		"Note over Client: retrying: wait 5m0s (Retry-After, capped by<br/>policy)\n",
		"Note over Client: failed (backoff_elapsed refused by attempts_left<br/>→ give_up): the attempt budget is spent\n",
		"Note over Client,Server: session s1 failed after 4 requests (give_up)\n",
		"Note over Client,Server: session s2: stored SyncKey K2, unverified (a response was lost in an earlier session)\n",
		"Server-->>Client: Status 6 → transient refused by transient_budget → reset\n",
		"Note over Client: too many transient failures: reset to SyncKey 0,<br/>then mark-and-sweep\n",
		"Server-->>Client: Status 1, X-MS-RP → key_mismatch\n",
		"Server-->>Client: Status 1 → commit_failed\n",
		"Note over Client: failed (commit_failed): fail: the store refused<br/>the commit\n",
		"Server-->>Client: Status 10 → malformed\n",
		"Note over Client: failed: fail at once, no retry: the request<br/>itself is wrong (Status 10)\n",
		"Note over Client: failed (cancelled): the caller cancelled\n",
	} {
		assert.Contains(t, s, want)
	}
	// Sessions are drawn one after the other, in the order they first appear.
	i1, i2, i3, i4 := strings.Index(s, "session s1:"), strings.Index(s, "session s2:"), strings.Index(s, "session s3:"), strings.Index(s, "session s4:")
	assert.True(t, i1 < i2 && i2 < i3 && i3 < i4)
	assert.Less(t, strings.Index(s, "session s1 failed"), i2, "s1's block ends before s2's starts")
}

// entity matches the entity codes seqText writes and the line breaks it inserts.
var entity = regexp.MustCompile(`#\d+;|<br/>`)

// Whatever a server or caller puts in a SyncKey, request id, session name or
// reason cannot break the diagram out of its message.
func TestSequenceEscapes(t *testing.T) {
	hostile := `a;b#c<script>x</script>%%{init}%% "q" \ & d: e` + "\nnext line"
	b := &sessionBuilder{name: hostile, key: hostile}
	b.step(states.Idle, transitions.Start, transitions.Start, states.Awaiting, func(r *machine.Record) { r.RequestID = hostile })
	b.step(states.Awaiting, transitions.Failure, transitions.Failure, states.Failed, func(r *machine.Record) {
		r.Stimulus.Outcome.Status = 177
		r.Code = "common status 177 " + hostile
		r.Reason = hostile
	})
	s, err := visualize.SequenceMermaid(b.recs)
	require.NoError(t, err)
	assert.Contains(t, s, "a#59;b#35;c#60;script#62;x#60;/script#62;#37;#37;{init}#37;#37; #34;q#34; #92; #38; d: e next line")
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	assert.Len(t, lines, 10, "no text escaped onto a line of its own:\n%s", s)
	for _, l := range lines[1:] {
		assert.True(t, strings.HasPrefix(l, "    "), l)
		rest := entity.ReplaceAllString(l, "")
		assert.NotContains(t, rest, ";", l)
		assert.NotContains(t, rest, "#", l)
		assert.NotContains(t, rest, "<", l)
		assert.NotContains(t, rest, "%", l)
	}
}

func TestSequenceRejectsABrokenSession(t *testing.T) {
	recs := readAudit(t, "demo")
	// Drop incremental's seq 3 (retrying -> awaiting): seq 4 starts in awaiting
	// while the session was left in retrying.
	require.Equal(t, 3, recs[4].Seq)
	broken := append(append([]machine.Record(nil), recs[:4]...), recs[5:]...)
	_, err := visualize.SequenceMermaid(broken)
	var te *visualize.TraceError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 4, te.Seq)
	assert.EqualError(t, err, `visualize: audit record seq 4 (session "incremental", record 5 of the log): it starts in awaiting, but the session's previous record (seq 2) left it in retrying`)
	// The overlay counts rows, not paths: it draws the same log.
	_, err = visualize.TraceDOT(broken)
	assert.NoError(t, err)
}

// A log that begins inside a session (its head cut off) is drawn from there.
func TestSequenceLogStartsMidSession(t *testing.T) {
	recs := readAudit(t, "demo")[4:]
	s, err := visualize.SequenceMermaid(recs)
	require.NoError(t, err)
	assert.Contains(t, s, "Note over Client,Server: session incremental: the log starts in retrying\n")
}
