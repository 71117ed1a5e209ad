package machine

import (
	"context"
	"fmt"

	"github.com/looplab/fsm"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// fsmAdapter runs github.com/looplab/fsm in step with Decide, built from the
// transitions table, and keeps its traps out of our API (DESIGN.md, "looplab/fsm
// traps"): it registers no callbacks (so none can call back into the FSM and
// deadlock), passes context.WithoutCancel (a cancelled context would wedge the FSM
// for good; cancellation is handled as the Cancelled event instead), and the table
// has no self-transitions (which looplab reports as NoTransitionError).
type fsmAdapter struct{ f *fsm.FSM }

func newFSMAdapter() fsmAdapter {
	var events []fsm.EventDesc
	for _, r := range transitions.Rows() {
		events = append(events, fsm.EventDesc{Name: r.Event.String(), Src: []string{r.From.String()}, Dst: r.To.String()})
	}
	return fsmAdapter{f: fsm.NewFSM(states.Idle.String(), events, nil)}
}

// fire moves the FSM along the step Decide took and checks both agree.
func (a fsmAdapter) fire(ctx context.Context, step Step) error {
	if err := a.f.Event(context.WithoutCancel(ctx), step.Event.String()); err != nil {
		return fmt.Errorf("machine: internal error: fsm refused %v in %v: %w", step.Event, step.From, err)
	}
	if got := a.f.Current(); got != step.To.String() {
		return fmt.Errorf("machine: internal error: fsm reached %s, the table says %v", got, step.To)
	}
	return nil
}
