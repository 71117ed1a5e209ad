package machine_test

import (
	"context"
	"io"
	"testing"

	"github.com/looplab/fsm"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport/sim"
)

// BenchmarkSessionStep is one full step of a session: Decide on an outcome (a
// Status 6 classified, guards evaluated, the backoff delay computed) plus its
// audit record written as a JSON line.
func BenchmarkSessionStep(b *testing.B) {
	p := policy.Default()
	sink := machine.NewJSONLines(io.Discard)
	out := transitions.Outcome{HTTPStatus: 200, Status: 6}
	st := machine.Stimulus{Outcome: &out, Now: t0}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := machine.Counters{Attempts: 1}
		step, err := machine.Decide(p, states.Awaiting, &c, st)
		if err != nil || step.To != states.Retrying {
			b.Fatal(err, step.To)
		}
		if err := sink.Record(machine.NewRecord(i, "bench", step, st, c)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecide is the decision alone, without the audit record.
func BenchmarkDecide(b *testing.B) {
	p := policy.Default()
	out := transitions.Outcome{HTTPStatus: 200, Status: 6}
	st := machine.Stimulus{Outcome: &out, Now: t0}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c := machine.Counters{Attempts: 1}
		if _, err := machine.Decide(p, states.Awaiting, &c, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLooplabEvent is looplab/fsm's bare Event between two states: the
// comparison point for a session step (issue 6: at most 2x).
func BenchmarkLooplabEvent(b *testing.B) {
	f := fsm.NewFSM("awaiting", fsm.Events{
		{Name: "transient", Src: []string{"awaiting"}, Dst: "retrying"},
		{Name: "backoff_elapsed", Src: []string{"retrying"}, Dst: "awaiting"},
	}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev := "transient"
		if i%2 == 1 {
			ev = "backoff_elapsed"
		}
		if err := f.Event(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyncInitial is a whole session: an initial FolderSync of the default
// hierarchy (18 folders) from the in-process server into a MemoryStore, with audit.
func BenchmarkSyncInitial(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
		s, err := machine.New(machine.Config{Transport: server, Store: hierarchy.NewMemoryStore(), Clock: machine.NewSimClock(t0), Audit: machine.NewJSONLines(io.Discard)})
		if err != nil {
			b.Fatal(err)
		}
		if res, err := s.Sync(context.Background()); err != nil || res.State != states.Synced {
			b.Fatal(err)
		}
	}
}
