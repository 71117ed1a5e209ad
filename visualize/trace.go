package visualize

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// ErrNoRecords is returned for an audit log without a single record: there is no
// path to draw.
var ErrNoRecords = errors.New("visualize: the audit log holds no records: nothing to trace")

// TraceError reports an audit record that the transitions table cannot explain: its
// (from, event, to) is not a row, or (in a sequence diagram) it does not start where
// the session's previous record ended. Seq and Session name the record as the log
// does; Index is its position among the records given (0-based).
type TraceError struct {
	Index   int
	Seq     int
	Session string
	Msg     string
}

func (e *TraceError) Error() string {
	return fmt.Sprintf("visualize: audit record seq %d (session %q, record %d of the log): %s", e.Seq, e.Session, e.Index+1, e.Msg)
}

// checkRows returns a *TraceError for the first record whose (from, event, to) is
// not a row of the transitions table.
func checkRows(records []machine.Record) error {
	if len(records) == 0 {
		return ErrNoRecords
	}
	for i, r := range records {
		fail := func(format string, args ...any) error {
			return &TraceError{Index: i, Seq: r.Seq, Session: r.Session, Msg: fmt.Sprintf(format, args...)}
		}
		if !r.From.Valid() || !r.To.Valid() || !r.Event.Valid() {
			return fail("it lacks a valid from, event or to (%v -%v-> %v)", r.From, r.Event, r.To)
		}
		row, err := transitions.Lookup(r.From, r.Event)
		if err != nil {
			var rej *transitions.RejectedError
			if errors.As(err, &rej) {
				return fail("%s -%s-> %s is not a row of the transitions table: %s is not accepted in %s (%s)", r.From, r.Event, r.To, r.Event, r.From, rej.Reason)
			}
			return fail("%s -%s-> %s is not a row of the transitions table: %v", r.From, r.Event, r.To, err)
		}
		if row.To != r.To {
			return fail("%s -%s-> %s is not a row of the transitions table: %s in %s goes to %s", r.From, r.Event, r.To, r.Event, r.From, row.To)
		}
	}
	return nil
}

// use is what an audit log says about one row: how often it was taken, the codes
// that classified to it (in the order first seen) and the waits chosen.
type use struct {
	count  int
	codes  []string
	counts map[string]int
	delays []time.Duration
}

// overlay is the path an audit log took through the graph. Its methods accept a
// nil overlay (the plain graph).
type overlay struct {
	rows    map[rowKey]*use
	edges   map[edgeKey]int
	entered map[states.State]int
	started int
}

type rowKey struct {
	from  states.State
	event transitions.Event
}

type edgeKey struct{ from, to states.State }

// newOverlay counts the records, which checkRows has validated.
func newOverlay(records []machine.Record) *overlay {
	ov := &overlay{rows: map[rowKey]*use{}, edges: map[edgeKey]int{}, entered: map[states.State]int{}}
	for _, r := range records {
		k := rowKey{r.From, r.Event}
		u := ov.rows[k]
		if u == nil {
			u = &use{counts: map[string]int{}}
			ov.rows[k] = u
		}
		u.count++
		if code := shortCode(r.Code); code != "" {
			if u.counts[code] == 0 {
				u.codes = append(u.codes, code)
			}
			u.counts[code]++
		}
		u.delays = append(u.delays, time.Duration(r.Delay))
		ov.edges[edgeKey{r.From, r.To}]++
		ov.entered[r.To]++
		if r.From == states.Idle {
			ov.started++
			ov.entered[states.Idle]++
		}
	}
	return ov
}

// visits is how often the log entered s (a session's start counts for idle).
func (ov *overlay) visits(s states.State) int {
	if ov == nil {
		return 0
	}
	return ov.entered[s]
}

// sessions is how many sessions the log starts (records leaving idle).
func (ov *overlay) sessions() int {
	if ov == nil {
		return 0
	}
	return ov.started
}

func (ov *overlay) tookEdge(e Edge) bool {
	return ov != nil && ov.edges[edgeKey{e.From, e.To}] > 0
}

func (ov *overlay) taken(from states.State, ev transitions.Event) *use {
	if ov == nil {
		return nil
	}
	return ov.rows[rowKey{from, ev}]
}

// maxDelays is how many waits an annotation lists before it sums up the rest.
const maxDelays = 5

// annotation says how often the row was taken, on which codes, and the waits
// chosen: "transient ×2 (status 6), waits 1.166s, 2.19s".
func (u *use) annotation(ev transitions.Event) string {
	s := fmt.Sprintf("%s %s", ev, times(u.count))
	if len(u.codes) > 0 {
		parts := make([]string, len(u.codes))
		for i, c := range u.codes {
			parts[i] = c
			if n := u.counts[c]; n != u.count {
				parts[i] += " " + times(n)
			}
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	waited := false
	for _, d := range u.delays {
		waited = waited || d > 0
	}
	if !waited {
		return s
	}
	var ds []string
	var total time.Duration
	for i, d := range u.delays {
		total += d
		if i < maxDelays {
			ds = append(ds, formatDelay(d))
		}
	}
	s += ", waits " + strings.Join(ds, ", ")
	if extra := len(u.delays) - maxDelays; extra > 0 {
		s += fmt.Sprintf(" and %d more (%s in all)", extra, formatDelay(total))
	}
	return s
}

// shortCode is the record's classified code as the graph labels write it:
// "status 9" rather than "FolderSync status 9".
func shortCode(code string) string { return strings.TrimPrefix(code, "FolderSync ") }

// formatDelay rounds to the millisecond, as the demo prints waits.
func formatDelay(d time.Duration) string { return d.Round(time.Millisecond).String() }

func times(n int) string { return fmt.Sprintf("×%d", n) }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// TraceDOT renders the state graph of DOT with the path an audit log took drawn
// over it: visited states filled and counted, taken edges bold and coloured, and
// each taken event annotated with how often it was taken, the codes that led to it
// and the waits chosen ("transient ×2 (status 6), waits 1.166s, 2.19s"). Edges the
// log never took are drawn as in the plain graph. Records of several sessions are
// counted together. A record whose (from, event, to) is not a row of the table is
// a *TraceError naming its seq; no records is ErrNoRecords.
func TraceDOT(records []machine.Record) (string, error) {
	if err := checkRows(records); err != nil {
		return "", err
	}
	return renderDOT(newOverlay(records)), nil
}

// TraceMermaid renders the state graph of Mermaid with the path an audit log took:
// visited states get the "visited" class and a line saying how often they were
// entered, and a taken edge lists its events one per line, the taken ones annotated
// as in TraceDOT (Mermaid's state diagrams cannot style a single edge). Edges never
// taken are as in the plain graph. Errors as for TraceDOT.
func TraceMermaid(records []machine.Record) (string, error) {
	if err := checkRows(records); err != nil {
		return "", err
	}
	ov := newOverlay(records)
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    classDef visited fill:%s,stroke:%s,stroke-width:3px,font-weight:bold\n", traceFill, traceColor)
	if n := ov.sessions(); n > 0 {
		fmt.Fprintf(&b, "    [*] --> idle: %s\n", plural(n, "session"))
	} else {
		b.WriteString("    [*] --> idle\n")
	}
	for _, e := range Edges() {
		if !ov.tookEdge(e) {
			fmt.Fprintf(&b, "    %s --> %s: %s\n", e.From, e.To, mermaidEscape(e.Label))
			continue
		}
		lines := make([]string, len(e.Events))
		for i, ev := range e.Events {
			lines[i] = e.Labels[i]
			if u := ov.taken(e.From, ev); u != nil {
				lines[i] = "▶ " + u.annotation(ev)
			}
		}
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e.From, e.To, mermaidEscape(strings.Join(lines, "\n")))
	}
	for _, s := range states.All() {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	var visited []string
	for _, s := range states.All() {
		if n := ov.visits(s); n > 0 {
			fmt.Fprintf(&b, "    state \"%s %s\" as %s\n", s, times(n), s)
			visited = append(visited, s.String())
		}
	}
	fmt.Fprintf(&b, "    class %s visited\n", strings.Join(visited, ","))
	return b.String(), nil
}
