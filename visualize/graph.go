package visualize

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

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
			conds = append(conds, conditionName(transitions.Condition(r.Code), r.Name))
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

// conditionName names a transport condition for a label; a condition without a
// name here gets its rule's name in words ("RequestFailed" -> "request failed").
func conditionName(c transitions.Condition, ruleName string) string {
	if n, ok := conditionNames[c]; ok {
		return n
	}
	var b strings.Builder
	for i, r := range ruleName {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return fmt.Sprintf("condition %d", c)
	}
	return b.String()
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
// and '#' specially in labels (as the start of an entity code such as "#58;"). A
// newline becomes a line break.
func mermaidEscape(s string) string {
	return strings.NewReplacer(":", "#58;", ";", "#59;", "#", "#35;", "\n", "<br/>").Replace(s)
}

// DOT renders the table as a Graphviz digraph laid out top to bottom under a title
// and legend: terminal states are double circles, each edge lists one event per
// line (left-aligned), and a long list of codes wraps onto indented lines. SVG
// renders it through Graphviz; docs/states.svg is that rendering.
func DOT() string { return renderDOT(nil) }

// Layout settings, tuned by looking at the rendered docs/states.svg: fixed-size
// nodes, room between ranks for the long awaiting -> failed label, and labels kept
// near their edges.
const dotHeader = `digraph foldersync {
    graph [rankdir=TB, nodesep=0.6, ranksep=0.9, fontname="Helvetica", fontsize=11];
    node [shape=circle, fixedsize=true, width=1.25, fontname="Helvetica", fontsize=14];
    edge [fontname="Helvetica", fontsize=10, arrowsize=0.8];
    start [shape=point, width=0.12];
`

// dotEdgeAttrs are layout hints for single edges, found by looking at the
// rendered graph: pulling idle over to resetting keeps "diverged" beside its edge
// instead of floating next to awaiting.
var dotEdgeAttrs = map[edgeKey]string{
	{states.Idle, states.Resetting}: "weight=2",
}

// dotLabelWidth is where an edge label line wraps (in characters).
const dotLabelWidth = 40

// renderDOT writes the graph; with an overlay, visited states and taken edges are
// highlighted and annotated.
func renderDOT(ov *overlay) string {
	var b strings.Builder
	b.WriteString(dotHeader)
	title := "foldersync: the states of one FolderSync session and the events between them (from the transitions table)\n" +
		"double circle: terminal state; in parentheses: the codes that classify to the event (N common: N MS-ASCMD common statuses)"
	if ov != nil {
		title += "\nin blue: the path an audit log took; ×N: how often"
	}
	fmt.Fprintf(&b, "    labelloc=t;\n    label=%s;\n", dotQuote(title))
	for _, s := range states.All() {
		shape := "circle"
		if s.Terminal() {
			shape = "doublecircle"
		}
		if n := ov.visits(s); n > 0 {
			fmt.Fprintf(&b, "    %s [shape=%s, label=<%s<BR/><FONT POINT-SIZE=\"10\">%s</FONT>>, style=filled, fillcolor=%q, color=%q, penwidth=2.5, tooltip=%s];\n",
				s, shape, s, htmlEscape(times(n)), traceFill, traceColor, dotQuote(s.Description()))
			continue
		}
		fmt.Fprintf(&b, "    %s [shape=%s, tooltip=%s];\n", s, shape, dotQuote(s.Description()))
	}
	if n := ov.sessions(); n > 0 {
		fmt.Fprintf(&b, "    start -> idle [color=%q, penwidth=2.5, fontcolor=%q, label=%s];\n", traceColor, traceColor, dotQuote(plural(n, "session")))
	} else {
		b.WriteString("    start -> idle;\n")
	}
	for _, e := range Edges() {
		attrs := ""
		if a, ok := dotEdgeAttrs[edgeKey{e.From, e.To}]; ok {
			attrs = ", " + a
		}
		if !ov.tookEdge(e) {
			fmt.Fprintf(&b, "    %s -> %s [label=%s%s];\n", e.From, e.To, dotLines(e.Labels), attrs)
			continue
		}
		// Taken events are bold and coloured, with what the log says about them;
		// the others keep their plain label.
		var h strings.Builder
		for i, ev := range e.Events {
			if t := ov.taken(e.From, ev); t != nil {
				for _, line := range wrap(t.annotation(ev), dotLabelWidth) {
					fmt.Fprintf(&h, `<FONT COLOR="%s"><B>%s</B></FONT><BR ALIGN="LEFT"/>`, traceColor, htmlEscape(line))
				}
				continue
			}
			for _, line := range wrap(e.Labels[i], dotLabelWidth) {
				fmt.Fprintf(&h, `%s<BR ALIGN="LEFT"/>`, htmlEscape(line))
			}
		}
		fmt.Fprintf(&b, "    %s -> %s [label=<%s>, color=%q, penwidth=2.5%s];\n", e.From, e.To, h.String(), traceColor, attrs)
	}
	b.WriteString("}\n")
	return b.String()
}

// The overlay's colours: a blue that reads on white and in grey print.
const (
	traceColor = "#1d4ed8"
	traceFill  = "#dbeafe"
)

// dotLines writes lines as one DOT string, each wrapped and left-aligned (\l).
func dotLines(lines []string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ")
	var b strings.Builder
	b.WriteByte('"')
	for _, l := range lines {
		for _, w := range wrap(l, dotLabelWidth) {
			b.WriteString(r.Replace(w))
			b.WriteString(`\l`)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// indent starts a continuation line: two no-break spaces, which SVG viewers keep
// (they collapse ordinary leading spaces).
const indent = "\u00a0\u00a0"

// wrap breaks a label after ", " or before " (" so that no line is longer than width
// where it can help it; continuation lines are indented.
func wrap(s string, width int) []string {
	var parts []string
	for rest := s; rest != ""; {
		i := strings.Index(rest, ", ")
		j := strings.Index(rest[1:], " (") // not at 0: a part may start with " ("
		if j >= 0 {
			j++
		}
		switch {
		case i < 0 && j < 0:
			parts = append(parts, rest)
			rest = ""
		case j >= 0 && (i < 0 || j < i):
			parts = append(parts, rest[:j])
			rest = rest[j:]
		default:
			parts = append(parts, rest[:i+1])
			rest = rest[i+1:]
		}
	}
	var lines []string
	cur := ""
	for _, p := range parts {
		if cur != "" && len([]rune(cur))+len([]rune(p)) > width {
			lines = append(lines, cur)
			cur = indent + strings.TrimLeft(p, " ")
			continue
		}
		cur += p
	}
	return append(lines, cur)
}

// dotQuote writes s as a DOT string: quotes and backslashes escaped, newlines as \n.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// htmlEscape escapes text for a Graphviz HTML-like label.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
