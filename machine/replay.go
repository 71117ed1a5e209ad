package machine

import (
	"fmt"
	"slices"
	"time"

	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
)

// Divergence is the first record a replay derives differently from the log.
type Divergence struct {
	// Index is the record's position in the log (0-based); Seq its sequence number.
	Index, Seq int
	// Field names what differs ("from", "event", "to", "delay", "guards", "error").
	Field              string
	Recorded, Replayed string
}

func (d *Divergence) Error() string {
	return fmt.Sprintf("replay diverges at record %d (seq %d): %s recorded %s, replayed %s", d.Index, d.Seq, d.Field, d.Recorded, d.Replayed)
}

// Replay re-derives every transition of one session's audit log from the recorded
// stimuli under policy p, starting from Idle with fresh counters, and returns the
// first divergence, or nil when the log replays identically (DESIGN rule 8).
func Replay(records []Record, p policy.Policy) *Divergence {
	state := states.Idle
	var c Counters
	for i, rec := range records {
		div := func(field, recorded, replayed string) *Divergence {
			return &Divergence{Index: i, Seq: rec.Seq, Field: field, Recorded: recorded, Replayed: replayed}
		}
		if rec.From != state {
			return div("from", rec.From.String(), state.String())
		}
		step, err := Decide(p, state, &c, rec.Stimulus)
		switch {
		case err != nil:
			return div("error", "a transition", err.Error())
		case step.Event != rec.Event:
			return div("event", rec.Event.String(), step.Event.String())
		case step.To != rec.To:
			return div("to", rec.To.String(), step.To.String())
		case Duration(step.Delay) != rec.Delay:
			return div("delay", rec.Delay.String(), Duration(step.Delay).String())
		case !slices.Equal(step.Guards, rec.Guards):
			return div("guards", fmt.Sprint(rec.Guards), fmt.Sprint(step.Guards))
		}
		state = step.To
	}
	return nil
}

// String writes the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// SplitSessions splits an audit log into its sessions, in order: a session starts
// at each record whose From is Idle. Replay takes one session at a time.
func SplitSessions(records []Record) [][]Record {
	var out [][]Record
	for i, r := range records {
		if i == 0 || r.From == states.Idle {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}
