package soak

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

func TestAcceptable(t *testing.T) {
	p := policy.Default()
	inj := func(call int, f faults.Fault) faults.Injection { return faults.Injection{Call: call, Fault: f} }
	fail := func(kind error) error { return &machine.Error{Kind: kind} }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		err  error
		pol  policy.Policy
		ev   evidence
		ok   bool
	}{
		{"budget after faults", fail(machine.ErrBudget), p, evidence{injected: []faults.Injection{inj(1, faults.Timeout)}, requests: 4}, true},
		{"budget without a fault", fail(machine.ErrBudget), p, evidence{requests: 10}, false},
		{"reset loop after faults", fail(machine.ErrResetLoop), p, evidence{injected: []faults.Injection{inj(1, faults.Status(9))}, requests: 1}, true},
		{"reset loop on inherited resets", fail(machine.ErrResetLoop), p, evidence{requests: 2, prior: []time.Time{t0, t0}}, true},
		{"reset loop from nothing", fail(machine.ErrResetLoop), p, evidence{requests: 2}, false},
		{"reset loop when the policy forbids resets", fail(machine.ErrResetLoop), policy.Policy{ResetGuard: policy.ResetGuard{MaxResets: 0}}, evidence{requests: 2}, true},
		{"throttled above the cap", fail(machine.ErrThrottled), p, evidence{injected: []faults.Injection{inj(2, faults.HTTP(503, time.Hour, true))}, requests: 2}, true},
		{"throttled within the cap", fail(machine.ErrThrottled), p, evidence{injected: []faults.Injection{inj(2, faults.HTTP(503, 30*time.Second, true))}, requests: 2}, false},
		{"throttled, the 503 not last", fail(machine.ErrThrottled), p, evidence{injected: []faults.Injection{inj(1, faults.HTTP(503, time.Hour, true))}, requests: 2}, false},
		{"malformed on an injected status 10", fail(machine.ErrMalformedRequest), p, evidence{injected: []faults.Injection{inj(3, faults.Status(10))}, requests: 3}, true},
		{"malformed from the server itself", fail(machine.ErrMalformedRequest), p, evidence{injected: []faults.Injection{inj(1, faults.Timeout)}, requests: 2}, false},
		{"status made fatal by an override", fail(machine.ErrStatus), p, evidence{injected: []faults.Injection{inj(1, faults.Status(6))}, requests: 1}, true},
		{"commit", fail(machine.ErrCommit), p, evidence{injected: []faults.Injection{inj(1, faults.Timeout)}, requests: 1}, false},
		{"cancelled", fail(machine.ErrCancelled), p, evidence{injected: []faults.Injection{inj(1, faults.Timeout)}, requests: 1}, false},
		{"internal", errors.New("machine: internal error: fsm refused"), p, evidence{injected: []faults.Injection{inj(1, faults.Timeout)}, requests: 1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			why := acceptable(c.err, c.pol, c.ev)
			if c.ok {
				assert.Empty(t, why)
			} else {
				assert.NotEmpty(t, why)
			}
		})
	}
}

func rec(seq int, asked, event transitions.Event, to states.State, now time.Time) machine.Record {
	return machine.Record{Seq: seq, Asked: asked, Event: event, To: to, Stimulus: machine.Stimulus{Now: now}}
}

func TestCheckBudgets(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	guard := policy.ResetGuard{MaxResets: 2, Window: time.Hour}
	lost := func(seq int) machine.Record {
		return rec(seq, transitions.Lost, transitions.Lost, states.Retrying, t0)
	}
	// Two resends in a row are within a budget of 2; a third is not.
	require.NoError(t, checkBudgets([]machine.Record{lost(1), lost(2)}, 2, guard, nil))
	var v *violation
	require.ErrorAs(t, checkBudgets([]machine.Record{lost(1), lost(2), lost(3)}, 2, guard, nil), &v)
	assert.Equal(t, "resend-budget", v.check)
	// Another outcome ends the streak.
	transient := rec(2, transitions.Transient, transitions.Transient, states.Retrying, t0)
	require.NoError(t, checkBudgets([]machine.Record{lost(1), lost(2), transient, lost(3), lost(4)}, 2, guard, nil))

	reset := func(seq int, at time.Time) machine.Record {
		return rec(seq, transitions.KeyMismatch, transitions.KeyMismatch, states.Resetting, at)
	}
	require.NoError(t, checkBudgets([]machine.Record{reset(1, t0), reset(2, t0.Add(time.Minute))}, 2, guard, nil))
	require.ErrorAs(t, checkBudgets([]machine.Record{reset(1, t0)}, 2, guard, []time.Time{t0.Add(-10 * time.Minute), t0.Add(-5 * time.Minute)}), &v)
	assert.Equal(t, "reset-guard", v.check)
	// Resets older than the window do not count.
	require.NoError(t, checkBudgets([]machine.Record{reset(1, t0)}, 2, guard, []time.Time{t0.Add(-2 * time.Hour), t0.Add(-90 * time.Minute)}))
}

// Churn keeps a valid hierarchy (the server refuses any other), never moves or
// deletes a default folder, bounds the hierarchy's size, and depends on its seed alone.
func TestChurn(t *testing.T) {
	run := func() (*sim.Server, churnCounts) {
		s := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
		r := rand.New(rand.NewPCG(7, 8))
		var total churnCounts
		for i := range 300 {
			n, err := churn(r, s, "t"+string(rune('a'+i%26))+string(rune('a'+i/26)))
			require.NoError(t, err)
			total.adds += n.adds
			total.renames += n.renames
			total.moves += n.moves
			total.deletes += n.deletes
		}
		return s, total
	}
	s1, n1 := run()
	s2, n2 := run()
	assert.Equal(t, s1.Folders(), s2.Folders())
	assert.Equal(t, n1, n2)
	assert.Positive(t, n1.adds)
	assert.Positive(t, n1.renames)
	assert.Positive(t, n1.moves)
	assert.Positive(t, n1.deletes)
	got := map[string]bool{}
	user := 0
	for _, f := range s1.Folders() {
		got[f.ServerID] = true
		if !f.Type.IsDefault() {
			user++
		}
	}
	for _, f := range sim.DefaultFolders() {
		if f.Type.IsDefault() {
			assert.True(t, got[f.ServerID], "default folder %s is gone", f.ServerID)
		}
	}
	assert.LessOrEqual(t, user, maxUserFolders+3*4)
}

func TestSessionSeedsDiffer(t *testing.T) {
	seen := map[int64]bool{}
	for seed := int64(1); seed <= 50; seed++ {
		for s := 1; s <= 20; s++ {
			k := sessionSeed(seed, s)
			assert.False(t, seen[k], "seed %d session %d", seed, s)
			seen[k] = true
		}
	}
}
