package machine_test

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// in is a shorthand for stimuli in the scenario tables.
type in struct {
	ev         transitions.Event
	http, stat int
	cond       transitions.Condition
	retryAfter time.Duration
	redirectOK bool
	echo       bool
	initial    bool          // the request carried SyncKey 0
	at         time.Duration // since t0
}

func (s in) stimulus() machine.Stimulus {
	st := machine.Stimulus{Event: s.ev, Now: t0.Add(s.at), RedirectOK: s.redirectOK, NoChangeEcho: s.echo, Initial: s.initial}
	if s.ev == 0 {
		o := transitions.Outcome{HTTPStatus: s.http, Status: s.stat, Condition: s.cond}
		if o.HTTPStatus == 0 && o.Condition == 0 {
			o.HTTPStatus = 200
		}
		st.Outcome = &o
	}
	if s.retryAfter != 0 {
		st.RetryAfter, st.HasRetryAfter = machine.Duration(s.retryAfter), true
	}
	return st
}

var (
	start   = in{ev: transitions.Start}
	resend  = in{ev: transitions.BackoffElapsed}
	resetTx = in{ev: transitions.ResetSent}
	ok      = in{stat: 1}
	lost    = in{cond: transitions.Timeout}
)

func status(n int) in { return in{stat: n} }
func httpc(n int) in  { return in{http: n} }

type want struct {
	event transitions.Event
	to    states.State
}

func run(t *testing.T, p policy.Policy, steps []in, wants []want) []machine.Step {
	t.Helper()
	require.Len(t, wants, len(steps))
	s := states.Idle
	var c machine.Counters
	var out []machine.Step
	for i, st := range steps {
		step, err := machine.Decide(p, s, &c, st.stimulus())
		require.NoError(t, err, "step %d", i)
		assert.Equal(t, wants[i].event, step.Event, "step %d event (asked %v, guards %v, reason %q)", i, step.Asked, step.Guards, step.Reason)
		assert.Equal(t, wants[i].to, step.To, "step %d state", i)
		assert.NotEmpty(t, step.Reason)
		s = step.To
		out = append(out, step)
	}
	return out
}

func TestScenarios(t *testing.T) {
	p := policy.Default() // transient_before_reset 3, resends 3, unknown 2, max_attempts 10, reset guard 3/1h
	A, R, X, F, S := states.Awaiting, states.Retrying, states.Resetting, states.Failed, states.Synced
	T := transitions.Transient
	cases := []struct {
		name  string
		steps []in
		wants []want
		check func(t *testing.T, steps []machine.Step)
	}{
		{"happy path", []in{start, ok}, []want{{transitions.Start, A}, {transitions.Success, S}}, nil},
		{"lost response, resend, the answer is verified (rule 3)", []in{start, lost, resend, ok, resetTx, {stat: 1, initial: true}},
			[]want{{transitions.Start, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.Verify, X}, {transitions.ResetSent, A}, {transitions.Success, S}},
			func(t *testing.T, s []machine.Step) {
				assert.Zero(t, s[1].Delay, "a lost response is resent at once")
				assert.Contains(t, s[3].Reason, "may lack the lost answer's changes")
			}},
		{"a lost answer to a SyncKey 0 request hides nothing", []in{start, {cond: transitions.Timeout, initial: true}, resend, {stat: 1, initial: true}},
			[]want{{transitions.Start, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.Success, S}}, nil},
		{"lost response, no-change echo is verified (rule 3)", []in{start, lost, resend, {stat: 1, echo: true}, resetTx, ok},
			[]want{{transitions.Start, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.Verify, X}, {transitions.ResetSent, A}, {transitions.Success, S}},
			func(t *testing.T, s []machine.Step) {
				assert.Equal(t, transitions.Success, s[3].Asked)
				assert.Equal(t, []machine.GuardCheck{{Guard: transitions.ResponseTrusted, Held: false}, {Guard: transitions.ResetAllowed, Held: true}}, s[3].Guards)
				assert.Contains(t, s[3].Reason, "may hide lost changes")
			}},
		{"no-change echo without a loss is trusted", []in{start, {stat: 1, echo: true}}, []want{{transitions.Start, A}, {transitions.Success, S}}, nil},
		{"6, 6, 6 returns to SyncKey 0", []in{start, status(6), resend, status(6), resend, status(6), resetTx, ok},
			[]want{{transitions.Start, A}, {T, R}, {transitions.BackoffElapsed, A}, {T, R}, {transitions.BackoffElapsed, A}, {transitions.Reset, X}, {transitions.ResetSent, A}, {transitions.Success, S}},
			func(t *testing.T, s []machine.Step) {
				assert.Equal(t, p.Delay(1), s[1].Delay)
				assert.Equal(t, p.Delay(2), s[3].Delay, "the backoff grows with the streak")
				assert.Contains(t, s[5].Reason, "3 consecutive transient failures")
			}},
		{"9 resets, never wipes, then syncs", []in{start, status(9), resetTx, ok}, []want{{transitions.Start, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.Success, S}}, nil},
		{"10 fails at once, no retry", []in{start, status(10)}, []want{{transitions.Start, A}, {transitions.Malformed, F}}, nil},
		{"12 exhausts its cap", []in{start, status(12), resend, status(12), resend, status(12)},
			[]want{{transitions.Start, A}, {transitions.UnknownStatus, R}, {transitions.BackoffElapsed, A}, {transitions.UnknownStatus, R}, {transitions.BackoffElapsed, A}, {transitions.GiveUp, F}},
			func(t *testing.T, s []machine.Step) { assert.Contains(t, s[5].Reason, "unknown_status_retries") }},
		{"503 with Retry-After within the cap waits it", []in{start, {http: 503, retryAfter: 90 * time.Second}, resend, ok},
			[]want{{transitions.Start, A}, {transitions.Throttled, R}, {transitions.BackoffElapsed, A}, {transitions.Success, S}},
			func(t *testing.T, s []machine.Step) { assert.Equal(t, 90*time.Second, s[1].Delay) }},
		{"503 with Retry-After over the cap fails with the reason", []in{start, {http: 503, retryAfter: 2 * time.Hour}},
			[]want{{transitions.Start, A}, {transitions.GiveUp, F}},
			func(t *testing.T, s []machine.Step) { assert.Contains(t, s[1].Reason, "retry_after_cap") }},
		{"503 without Retry-After backs off", []in{start, httpc(503)}, []want{{transitions.Start, A}, {transitions.Throttled, R}},
			func(t *testing.T, s []machine.Step) { assert.Equal(t, p.Delay(1), s[1].Delay) }},
		{"reset loop guard trips", []in{start, status(9), resetTx, status(9), resetTx, status(9), resetTx, status(9)},
			[]want{{transitions.Start, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.GiveUp, F}},
			func(t *testing.T, s []machine.Step) { assert.Contains(t, s[7].Reason, "more than 3 resets") }},
		{"resets outside the window do not count", []in{start, {stat: 9}, resetTx, {stat: 9, at: time.Hour}, resetTx, {stat: 9, at: 2 * time.Hour}, resetTx, {stat: 9, at: 3 * time.Hour}, {ev: transitions.ResetSent, at: 3 * time.Hour}, {stat: 1, at: 3 * time.Hour}},
			[]want{{transitions.Start, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.KeyMismatch, X}, {transitions.ResetSent, A}, {transitions.Success, S}}, nil},
		{"divergence check resets before the first request", []in{{ev: transitions.Diverged}, resetTx, ok}, []want{{transitions.Diverged, X}, {transitions.ResetSent, A}, {transitions.Success, S}}, nil},
		{"resend budget spent", []in{start, lost, resend, lost, resend, lost, resend, lost},
			[]want{{transitions.Start, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.Lost, R}, {transitions.BackoffElapsed, A}, {transitions.GiveUp, F}}, nil},
		{"redirects: 3 followed, the 4th refused", []in{start, {http: 451, redirectOK: true}, resend, {http: 451, redirectOK: true}, resend, {http: 451, redirectOK: true}, resend, {http: 451, redirectOK: true}},
			[]want{{transitions.Start, A}, {transitions.Redirect, R}, {transitions.BackoffElapsed, A}, {transitions.Redirect, R}, {transitions.BackoffElapsed, A}, {transitions.Redirect, R}, {transitions.BackoffElapsed, A}, {transitions.GiveUp, F}}, nil},
		{"a redirect to plain HTTP is refused", []in{start, httpc(451)}, []want{{transitions.Start, A}, {transitions.GiveUp, F}},
			func(t *testing.T, s []machine.Step) { assert.Contains(t, s[1].Reason, "not HTTPS") }},
		{"449 provisions then reruns", []in{start, httpc(449), resend, ok}, []want{{transitions.Start, A}, {transitions.Provision, R}, {transitions.BackoffElapsed, A}, {transitions.Success, S}}, nil},
		{"remote wipe is surfaced", []in{start, status(140)}, []want{{transitions.Start, A}, {transitions.RemoteWipe, F}}, nil},
		{"401 fails", []in{start, httpc(401)}, []want{{transitions.Start, A}, {transitions.AuthFailed, F}}, nil},
		{"cancelled while waiting", []in{start, status(6), {ev: transitions.Cancelled}}, []want{{transitions.Start, A}, {T, R}, {transitions.Cancelled, F}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			steps := run(t, p, c.steps, c.wants)
			if c.check != nil {
				c.check(t, steps)
			}
		})
	}
}

func TestAttemptsBudget(t *testing.T) {
	p := policy.Default()
	p.MaxAttempts = 2
	steps := []in{start, status(6), resend, status(6), resend}
	run(t, p, steps, []want{{transitions.Start, states.Awaiting}, {transitions.Transient, states.Retrying}, {transitions.BackoffElapsed, states.Awaiting}, {transitions.Transient, states.Retrying}, {transitions.GiveUp, states.Failed}})
}

func TestRejectedStimuli(t *testing.T) {
	var c machine.Counters
	_, err := machine.Decide(policy.Default(), states.Idle, &c, ok.stimulus())
	var re *transitions.RejectedError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "no request is in flight", re.Reason)
	_, err = machine.Decide(policy.Default(), states.Synced, &c, start.stimulus())
	assert.ErrorContains(t, err, "the session is over")
	_, err = machine.Decide(policy.Default(), states.Idle, &c, machine.Stimulus{})
	assert.ErrorContains(t, err, "no event and no outcome")
}

// randomSession drives Decide with random stimuli that the current state accepts,
// writing the audit log as it goes.
func randomSession(t *testing.T, p policy.Policy, seed int64) ([]machine.Record, states.State) {
	rng := rand.New(rand.NewSource(seed))
	outcomes := []in{ok, {stat: 1, echo: true}, lost, {cond: transitions.ConnectionError}, {cond: transitions.Unreadable},
		status(6), status(9), status(10), status(11), status(12), status(132), status(142), httpc(503), {http: 503, retryAfter: time.Minute},
		{http: 451, redirectOK: true}, httpc(449), httpc(500), httpc(401), status(777)}
	s := states.Idle
	var c machine.Counters
	var recs []machine.Record
	now := time.Duration(0)
	for i := 0; i < 200 && !s.Terminal(); i++ {
		var st in
		switch s {
		case states.Idle:
			st = start
			if rng.Intn(10) == 0 {
				st = in{ev: transitions.Diverged}
			}
		case states.Awaiting:
			st = outcomes[rng.Intn(len(outcomes))]
			if rng.Intn(4) == 0 {
				st = ok // sessions should mostly end well
			}
		case states.Retrying:
			st = resend
		case states.Resetting:
			st = resetTx
		}
		if rng.Intn(50) == 0 {
			st = in{ev: transitions.Cancelled}
		}
		now += time.Duration(rng.Intn(60)) * time.Second
		st.at = now
		stim := st.stimulus()
		step, err := machine.Decide(p, s, &c, stim)
		require.NoError(t, err, "seed %d step %d in %v", seed, i, s)
		recs = append(recs, machine.NewRecord(i+1, "s", step, stim, c))
		s = step.To
	}
	return recs, s
}

// Property: every random session ends in synced or failed within the policy's
// bounds, and its audit log, written and read back as JSON Lines, replays to the
// same transitions.
func TestRandomSessionsTerminateAndReplay(t *testing.T) {
	p := policy.Default()
	ends := map[states.State]int{}
	for seed := int64(1); seed <= 1000; seed++ {
		recs, end := randomSession(t, p, seed)
		require.True(t, end.Terminal(), "seed %d did not end: %v", seed, end)
		ends[end]++
		last := recs[len(recs)-1]
		assert.LessOrEqual(t, last.Attempt, p.MaxAttempts, "seed %d", seed)

		var buf bytes.Buffer
		sink := machine.NewJSONLines(&buf)
		for _, r := range recs {
			require.NoError(t, sink.Record(r))
		}
		back, err := machine.ReadRecords(&buf)
		require.NoError(t, err)
		require.Len(t, back, len(recs))
		if d := machine.Replay(back, p); d != nil {
			t.Fatalf("seed %d: %v", seed, d)
		}
	}
	t.Logf("1000 random sessions: %v", ends)
	assert.Positive(t, ends[states.Synced])
	assert.Positive(t, ends[states.Failed])
}

func TestReplayFindsTheFirstDivergence(t *testing.T) {
	p := policy.Default()
	var recs []machine.Record
	for seed := int64(1); len(recs) < 6; seed++ {
		recs, _ = randomSession(t, p, seed)
	}
	edit := func(f func(r *machine.Record)) []machine.Record {
		c := append([]machine.Record(nil), recs...)
		f(&c[2])
		return c
	}
	d := machine.Replay(edit(func(r *machine.Record) { r.To = states.Synced }), p)
	require.NotNil(t, d)
	assert.Equal(t, 2, d.Index)
	d = machine.Replay(edit(func(r *machine.Record) { r.Event = transitions.GiveUp }), p)
	require.NotNil(t, d)
	assert.Equal(t, "event", d.Field)
	d = machine.Replay(edit(func(r *machine.Record) { r.From = states.Synced }), p)
	require.NotNil(t, d)
	assert.Equal(t, "from", d.Field)

	// A different policy seed changes the jitter, so the delays diverge.
	other := p
	other.Seed = 99
	recs6 := run(t, p, []in{start, status(6)}, []want{{transitions.Start, states.Awaiting}, {transitions.Transient, states.Retrying}})
	log := []machine.Record{
		machine.NewRecord(1, "s", recs6[0], start.stimulus(), machine.Counters{}),
		machine.NewRecord(2, "s", recs6[1], status(6).stimulus(), machine.Counters{}),
	}
	assert.Nil(t, machine.Replay(log, p))
	d = machine.Replay(log, other)
	require.NotNil(t, d)
	assert.Equal(t, "delay", d.Field)
	assert.Contains(t, d.Error(), "replay diverges at record 1")
}

func TestReadRecordsErrors(t *testing.T) {
	good := `{"seq":1,"time":"2026-11-22T12:00:00Z","session":"s","from":"idle","asked":"start","event":"start","to":"awaiting","attempt":1,"stimulus":{"event":"start","now":"2026-11-22T12:00:00Z"}}`
	recs, err := machine.ReadRecords(strings.NewReader(good + "\n\n" + good + "\n"))
	require.NoError(t, err)
	assert.Len(t, recs, 2)
	for name, text := range map[string]string{
		"garbage":       "not json",
		"unknown field": strings.Replace(good, `"seq":1`, `"seq":1,"password":"x"`, 1),
		"bad state":     strings.Replace(good, `"to":"awaiting"`, `"to":"sleeping"`, 1),
		"no event":      strings.Replace(good, `"event":"start","to"`, `"to"`, 1),
		"two values":    good + " {}",
		"too long":      strings.Repeat(" ", machine.MaxAuditLine+1) + good,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := machine.ReadRecords(strings.NewReader(good + "\n" + text + "\n"))
			var ae *machine.AuditError
			require.True(t, errors.As(err, &ae), "%v", err)
			assert.Equal(t, 2, ae.Line)
		})
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(`{"seq":1,"session":"s","from":"idle","asked":"start","event":"start","to":"awaiting","attempt":1,"stimulus":{"event":"start","now":"2026-11-22T12:00:00Z"}}`))
	f.Add([]byte("{}\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := machine.ReadRecords(bytes.NewReader(data))
		if err != nil {
			var ae *machine.AuditError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		// Whatever reads back must replay without a panic (divergence is fine).
		_ = machine.Replay(recs, policy.Default())
	})
}

func TestSplitSessions(t *testing.T) {
	a, _ := randomSession(t, policy.Default(), 3)
	b, _ := randomSession(t, policy.Default(), 4)
	got := machine.SplitSessions(append(append([]machine.Record(nil), a...), b...))
	require.Len(t, got, 2)
	assert.Equal(t, a, got[0])
	assert.Equal(t, b, got[1])
	assert.Empty(t, machine.SplitSessions(nil))
}
