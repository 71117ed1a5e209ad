package visualize

import (
	"fmt"
	"strings"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// SequenceMermaid renders an audit log as a Mermaid sequenceDiagram of the
// exchange between the client (the session's state machine) and the server, one
// block per session: each FolderSync request with the SyncKey sent, the attempt and
// the request id; each answer (status, HTTP code and headers, or no usable answer)
// with the event it was classified as and any guard that refused it; the waits in
// retrying (backoff or Retry-After), resets to SyncKey 0, commits of a new SyncKey,
// and how the session ended.
//
// Records are grouped by session name in the order the sessions first appear (the
// log of concurrent sessions interleaves them), and a name that starts again from
// idle is a new session. Within a session each record must start where the previous
// one ended, and every (from, event, to) must be a row of the table: otherwise a
// *TraceError names the record's seq. No records is ErrNoRecords.
func SequenceMermaid(records []machine.Record) (string, error) {
	if err := checkRows(records); err != nil {
		return "", err
	}
	sessions, err := splitSessions(records)
	if err != nil {
		return "", err
	}
	var w seqWriter
	w.b.WriteString("sequenceDiagram\n")
	w.line("participant Client as Client (foldersync session)")
	w.line("participant Server as Server (Exchange ActiveSync)")
	for i, s := range sessions {
		// A light background per session, alternating, so sessions stand apart.
		w.line("rect %s", sessionBackground[i%len(sessionBackground)])
		w.session(s)
		w.line("end")
	}
	return w.b.String(), nil
}

// sessionBackground are the alternating backgrounds of the session blocks.
var sessionBackground = []string{"rgb(239, 246, 255)", "rgb(240, 253, 244)"}

// indexed is a record and its position in the log, for errors.
type indexed struct {
	i int
	r machine.Record
}

// splitSessions groups the records by session name (first appearance first), starts
// a new session where a name leaves idle again, and checks that each record starts
// where the previous one of its session ended.
func splitSessions(records []machine.Record) ([][]indexed, error) {
	var order []string
	byName := map[string][][]indexed{}
	for i, r := range records {
		runs, seen := byName[r.Session]
		if !seen {
			order = append(order, r.Session)
		}
		if len(runs) == 0 || r.From == states.Idle {
			runs = append(runs, nil)
		} else if last := runs[len(runs)-1]; last[len(last)-1].r.To != r.From {
			prev := last[len(last)-1].r
			return nil, &TraceError{Index: i, Seq: r.Seq, Session: r.Session, Msg: fmt.Sprintf(
				"it starts in %s, but the session's previous record (seq %d) left it in %s", r.From, prev.Seq, prev.To)}
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], indexed{i, r})
		byName[r.Session] = runs
	}
	var out [][]indexed
	for _, name := range order {
		out = append(out, byName[name]...)
	}
	return out, nil
}

// seqWriter writes the diagram, four spaces in.
type seqWriter struct{ b strings.Builder }

func (w *seqWriter) line(format string, args ...any) {
	w.b.WriteString("    ")
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// noteWidth is where a note's text wraps onto the next line.
const noteWidth = 48

// note writes a note over the client, or over both participants (twice as wide),
// wrapped.
func (w *seqWriter) note(over, text string) {
	width := noteWidth
	if strings.Contains(over, ",") {
		width *= 2
	}
	w.line("Note over %s: %s", over, seqText(text, width))
}

// session writes one session's block.
func (w *seqWriter) session(recs []indexed) {
	first := recs[0].r
	head := fmt.Sprintf("session %s", first.Session)
	if first.Session == "" {
		head = "session (unnamed)"
	}
	switch {
	case first.From != states.Idle:
		head += fmt.Sprintf(": the log starts in %s", first.From)
	case first.Stimulus.Prior != nil && first.Stimulus.Prior.LostResponse:
		head += fmt.Sprintf(": stored SyncKey %s, unverified (a response was lost in an earlier session)", first.OldKey)
	default:
		head += fmt.Sprintf(": stored SyncKey %s", first.OldKey)
	}
	w.note("Client,Server", head)
	resetting := false // the session is in a reset: its requests carry SyncKey 0
	var last machine.Record
	for _, x := range recs {
		r := x.r
		last = r
		if r.To == states.Resetting {
			resetting = true
		}
		switch {
		case r.To == states.Awaiting:
			w.request(r, resetting)
		case r.From == states.Awaiting:
			w.outcome(r)
		}
		w.arrival(r)
	}
	switch last.To {
	case states.Synced:
		w.note("Client,Server", fmt.Sprintf("%s synced with SyncKey %s after %s", sessionName(last), last.NewKey, plural(last.Attempt, "request")))
	case states.Failed:
		w.note("Client,Server", fmt.Sprintf("%s failed after %s (%s)", sessionName(last), plural(last.Attempt, "request"), last.Event))
	default:
		w.note("Client,Server", fmt.Sprintf("%s: the log ends in %s", sessionName(last), last.To))
	}
}

func sessionName(r machine.Record) string {
	if r.Session == "" {
		return "the session"
	}
	return "session " + r.Session
}

// request writes the FolderSync a transition into awaiting sends.
func (w *seqWriter) request(r machine.Record, resetting bool) {
	key := r.OldKey
	if resetting {
		key = "0"
	}
	what := "FolderSync"
	switch r.Event {
	case transitions.BackoffElapsed:
		what = "resend FolderSync"
	case transitions.ResetSent:
		what = "reset: FolderSync"
	}
	detail := []string{"attempt " + fmt.Sprint(r.Attempt)}
	if r.RequestID != "" {
		detail = append(detail, "request "+r.RequestID)
	}
	w.line("Client->>Server: %s", seqText(fmt.Sprintf("%s SyncKey=%s (%s)", what, key, strings.Join(detail, ", ")), 0))
}

// outcome writes what came back for a request: the answer and its classification.
func (w *seqWriter) outcome(r machine.Record) {
	o := r.Stimulus.Outcome
	var answer, arrow string
	switch {
	case o == nil && r.Stimulus.Event == transitions.CommitFailed:
		// Only a Status 1 is ever committed.
		answer, arrow = "Status 1", "-->>"
	case o == nil:
		// The session's own event (cancelled): no answer to draw; arrival says it.
		return
	case o.Condition != 0:
		answer, arrow = "no usable answer: "+conditionName(o.Condition, strings.TrimPrefix(r.Code, "transport ")), "--x"
	case o.HTTPStatus != 200:
		answer, arrow = fmt.Sprintf("HTTP %d", o.HTTPStatus), "-->>"
	default:
		answer, arrow = statusText(r), "-->>"
	}
	if o != nil {
		answer += headers(r.Stimulus)
	}
	w.line("Server%sClient: %s", arrow, seqText(answer+" → "+classification(r), 0))
}

// statusText is a Status answer: "Status 6", "Status 1, new SyncKey 3",
// "Status 132 (common status SyncStateNotFound)".
func statusText(r machine.Record) string {
	o := r.Stimulus.Outcome
	s := fmt.Sprintf("Status %d", o.Status)
	if name := strings.TrimPrefix(r.Code, fmt.Sprintf("common status %d ", o.Status)); name != r.Code {
		s += " (" + name + ")"
	}
	if o.Status == 1 {
		switch {
		case r.Stimulus.NoChangeEcho:
			s += ", no changes, the SyncKey sent echoed"
		case r.NewKey != r.OldKey:
			s += ", new SyncKey " + r.NewKey
		}
	}
	return s
}

// headers lists the recovery headers an answer carried.
func headers(st machine.Stimulus) string {
	var h []string
	if st.Outcome.ResetRequested {
		h = append(h, "X-MS-RP")
	}
	if st.HasRetryAfter {
		h = append(h, "Retry-After "+formatDelay(time.Duration(st.RetryAfter)))
	}
	if st.Throttle != "" {
		h = append(h, "X-MS-ASThrottle "+st.Throttle)
	}
	if st.Location != "" {
		h = append(h, "X-MS-Location "+st.Location)
	}
	if len(h) == 0 {
		return ""
	}
	return ", " + strings.Join(h, ", ")
}

// classification is the event fired, with the one asked for and the guard that
// refused it when they differ: "success refused by response_trusted → verify".
func classification(r machine.Record) string {
	if r.Asked == r.Event || r.Asked == 0 {
		return r.Event.String()
	}
	var refused []string
	for _, g := range r.Guards {
		if !g.Held {
			refused = append(refused, string(g.Guard))
		}
	}
	if len(refused) == 0 {
		return fmt.Sprintf("%s → %s", r.Asked, r.Event)
	}
	return fmt.Sprintf("%s refused by %s → %s", r.Asked, strings.Join(refused, ", "), r.Event)
}

// arrival writes what the session does in the state a record brings it to.
func (w *seqWriter) arrival(r machine.Record) {
	switch r.To {
	case states.Retrying:
		w.note("Client", waitText(r))
	case states.Resetting:
		w.note("Client", resetText(r))
	case states.Synced:
		if r.NewKey != r.OldKey {
			w.note("Client", fmt.Sprintf("commit SyncKey %s (was %s) with the folder changes", r.NewKey, r.OldKey))
		} else {
			w.note("Client", fmt.Sprintf("commit the folder changes, SyncKey %s unchanged", r.NewKey))
		}
	case states.Failed:
		text := "failed"
		if r.From != states.Awaiting || r.Stimulus.Outcome == nil {
			text += " (" + classification(r) + ")"
		}
		if r.Reason != "" {
			text += ": " + r.Reason
		}
		w.note("Client", text)
	}
}

// waitText is what the session does in retrying.
func waitText(r machine.Record) string {
	d := time.Duration(r.Delay)
	var then string
	switch r.Event {
	case transitions.Provision:
		then = ", provision (MS-ASPROV), then rerun"
	case transitions.Redirect:
		then = ", follow X-MS-Location, then rerun"
		if r.Stimulus.Location != "" {
			then = ", follow X-MS-Location to " + r.Stimulus.Location + ", then rerun"
		}
	}
	if d <= 0 {
		if then != "" {
			return "retrying" + then
		}
		return "retrying: resend at once"
	}
	why := "backoff"
	if r.Event == transitions.Throttled && r.Stimulus.HasRetryAfter {
		why = "Retry-After"
		if d < time.Duration(r.Stimulus.RetryAfter) {
			why = "Retry-After, capped by policy"
		}
	}
	return fmt.Sprintf("retrying: wait %s (%s)%s", formatDelay(d), why, then)
}

// resetText is what the session does in resetting.
func resetText(r machine.Record) string {
	switch r.Event {
	case transitions.Verify:
		return "verify: a no-change answer after a lost response may hide changes: fetch the full hierarchy with SyncKey 0, then mark-and-sweep"
	case transitions.Diverged:
		return fmt.Sprintf("stored SyncKey %s with an empty hierarchy: reset to SyncKey 0", r.OldKey)
	case transitions.Reset:
		return "too many transient failures: reset to SyncKey 0, then mark-and-sweep"
	}
	return "reset to SyncKey 0: roll back local adds, fetch the full hierarchy, then mark-and-sweep (never wipe)"
}

// seqText escapes text for a sequence diagram message or note, and wraps it at
// width (0: never) with <br/>. Mermaid ends a message at ';' and newline, reads '#'
// as the start of an entity code and '%%' as a comment, and renders HTML: each is
// written as an entity code, so any SyncKey, request id or reason shows as it is.
func seqText(s string, width int) string {
	lines := []string{strings.Join(strings.Fields(s), " ")}
	if width > 0 {
		lines = wrapWords(lines[0], width)
	}
	r := strings.NewReplacer("#", "#35;", ";", "#59;", "%", "#37;", "<", "#60;", ">", "#62;", "&", "#38;", `"`, "#34;", "\\", "#92;")
	for i, l := range lines {
		lines[i] = r.Replace(l)
	}
	return strings.Join(lines, "<br/>")
}

// wrapWords breaks s at spaces so that lines are at most width runes where a word
// allows.
func wrapWords(s string, width int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		if cur != "" && len([]rune(cur))+1+len([]rune(word)) > width {
			lines = append(lines, cur)
			cur = word
			continue
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	return append(lines, cur)
}
