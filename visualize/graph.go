package visualize

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// Edge is one arrow of the state graph: every table row from From to To, with the
// labels of the events that take it (and the codes that classify to them).
type Edge struct {
	From, To states.State
	Events   []transitions.Event
	// Labels has one label per event; Label joins them.
	Labels []string
	Label  string
}

// Edges returns the graph's edges in a stable order (by the states' order, then the
// target's), built from transitions.Rows: the table is the only source.
func Edges() []Edge {
	type key struct{ from, to states.State }
	byKey := map[key]*Edge{}
	var order []key
	for _, r := range transitions.Rows() {
		k := key{r.From, r.To}
		e, ok := byKey[k]
		if !ok {
			e = &Edge{From: r.From, To: r.To}
			byKey[k] = e
			order = append(order, k)
		}
		e.Events = append(e.Events, r.Event)
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].from != order[j].from {
			return order[i].from < order[j].from
		}
		return order[i].to < order[j].to
	})
	out := make([]Edge, 0, len(order))
	for _, k := range order {
		e := byKey[k]
		sort.SliceStable(e.Events, func(i, j int) bool { return e.Events[i] < e.Events[j] })
		e.Labels = make([]string, len(e.Events))
		for i, ev := range e.Events {
			e.Labels[i] = eventLabel(ev)
		}
		e.Label = strings.Join(e.Labels, ", ")
		out = append(out, *e)
	}
	return out
}

// eventLabel is an event's name followed, for outcome events, by the codes that
// classify to it: FolderSync statuses and HTTP codes listed in numeric order,
// common statuses counted (there are up to 40 per event), transport conditions named.
func eventLabel(e transitions.Event) string {
	if !e.IsOutcome() {
		return e.String()
	}
	var fs, http []int
	var common int
	var conds []string
	for _, r := range transitions.Rules() {
		if r.Event != e {
			continue
		}
		switch r.Source {
		case transitions.FolderSyncStatus:
			fs = append(fs, r.Code)
		case transitions.HTTPStatus:
			if r.Code != 200 {
				http = append(http, r.Code)
			}
		case transitions.CommonStatus:
			common++
		case transitions.TransportCondition:
			conds = append(conds, conditionNames[transitions.Condition(r.Code)])
		}
	}
	var parts []string
	if len(fs) > 0 {
		parts = append(parts, "status "+ints(fs))
	}
	if common > 0 {
		parts = append(parts, fmt.Sprintf("%d common", common))
	}
	if len(http) > 0 {
		parts = append(parts, "HTTP "+ints(http))
	}
	parts = append(parts, conds...)
	if len(parts) == 0 {
		return e.String()
	}
	return e.String() + " (" + strings.Join(parts, ", ") + ")"
}

var conditionNames = map[transitions.Condition]string{
	transitions.Timeout:         "timeout",
	transitions.ConnectionError: "connection error",
	transitions.Unreadable:      "unreadable body",
	transitions.ResetRequested:  "X-MS-RP",
}

func ints(v []int) string {
	sort.Ints(v) // numeric, so 6 comes before 10
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, "/")
}

// Mermaid renders the table as a Mermaid stateDiagram-v2, which code hosts draw.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	b.WriteString("    [*] --> idle\n")
	for _, e := range Edges() {
		fmt.Fprintf(&b, "    %s --> %s: %s\n", e.From, e.To, mermaidEscape(e.Label))
	}
	for _, s := range states.All() {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	return b.String()
}

// mermaidEscape keeps a label from ending the edge statement: Mermaid reads ':' ';'
// and '#' specially in labels.
func mermaidEscape(s string) string {
	return strings.NewReplacer(":", "#58;", ";", "#59;").Replace(s)
}

// DOT renders the table as a Graphviz digraph; terminal states are double circles.
func DOT() string {
	var b strings.Builder
	b.WriteString("digraph foldersync {\n")
	b.WriteString("    rankdir=LR;\n    node [shape=circle, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("    start [shape=point];\n")
	for _, s := range states.All() {
		shape := "circle"
		if s.Terminal() {
			shape = "doublecircle"
		}
		fmt.Fprintf(&b, "    %s [shape=%s, tooltip=%s];\n", s, shape, dotQuote(s.Description()))
	}
	b.WriteString("    start -> idle;\n")
	for _, e := range Edges() {
		// One event per line: long code lists stay whole.
		fmt.Fprintf(&b, "    %s -> %s [label=%s];\n", e.From, e.To, dotQuote(strings.Join(e.Labels, "\n")))
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote writes s as a DOT string: quotes and backslashes escaped, newlines as \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
