package machine

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// Duration is a time.Duration written as text ("1.5s") in the audit log, so a
// person can read it.
type Duration time.Duration

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "1.5s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Record is one transition of one session, as the audit log keeps it (DESIGN rule
// 8): when, which session, from where to where on which event, the status or HTTP
// code behind it, the attempt, the wait chosen, the SyncKeys before and after, the
// request id, and the stimulus itself, so Replay can re-derive the transition.
// It never holds credentials.
type Record struct {
	Seq     int               `json:"seq"`
	Time    time.Time         `json:"time"`
	Session string            `json:"session"`
	From    states.State      `json:"from"`
	Asked   transitions.Event `json:"asked"`
	Event   transitions.Event `json:"event"`
	To      states.State      `json:"to"`
	Guards  []GuardCheck      `json:"guards,omitempty"`
	// Code is the classified code, e.g. "FolderSync status 9" or "HTTP 503".
	Code       string   `json:"code,omitempty"`
	HTTPStatus int      `json:"http_status,omitempty"`
	Attempt    int      `json:"attempt"`
	Delay      Duration `json:"delay,omitempty"`
	OldKey     string   `json:"old_key,omitempty"`
	NewKey     string   `json:"new_key,omitempty"`
	RequestID  string   `json:"request_id,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Stimulus   Stimulus `json:"stimulus"`
}

// NewRecord builds the record of a decided step.
func NewRecord(seq int, session string, step Step, st Stimulus, c Counters) Record {
	r := Record{
		Seq: seq, Time: st.Now, Session: session,
		From: step.From, Asked: step.Asked, Event: step.Event, To: step.To, Guards: step.Guards,
		Attempt: c.Attempts, Delay: Duration(step.Delay), Reason: step.Reason, Stimulus: st,
	}
	if step.Rule != nil {
		r.Code = codeName(*step.Rule)
	}
	if st.Outcome != nil {
		r.HTTPStatus = st.Outcome.HTTPStatus
	}
	return r
}

// Sink receives audit records.
type Sink interface {
	Record(Record) error
}

// JSONLines writes one record per line of JSON to w (DESIGN rule 8), safe for
// concurrent sessions sharing one file.
type JSONLines struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewJSONLines returns a Sink writing JSON Lines to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: w} }

// Record writes r as one line, exactly as encoding/json would encode it.
func (j *JSONLines) Record(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, err := appendRecord(j.buf[:0], &r)
	if err != nil {
		return fmt.Errorf("machine: audit record %d: %w", r.Seq, err)
	}
	b = append(b, '\n')
	if cap(b) <= maxKeptAuditBuffer {
		j.buf = b // reused for the next record: one line at a time, under the lock
	}
	_, err = j.w.Write(b)
	return err
}

// maxKeptAuditBuffer bounds the line buffer a JSONLines keeps between records.
const maxKeptAuditBuffer = 16 << 10

// MaxAuditLine is the longest audit line ReadRecords accepts.
const MaxAuditLine = 64 << 10

// AuditError reports an audit log that cannot be read: which line and why.
type AuditError struct {
	Line int
	Msg  string
}

func (e *AuditError) Error() string { return fmt.Sprintf("audit log line %d: %s", e.Line, e.Msg) }

// ReadRecords reads a JSON Lines audit log. Blank lines are skipped; a line longer
// than MaxAuditLine, a line that is not a record, or a record with an unknown state
// or event is an *AuditError naming the line.
func ReadRecords(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxAuditLine)
	var out []Record
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var rec Record
		dec := json.NewDecoder(strings.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return nil, &AuditError{Line: line, Msg: "not an audit record: " + err.Error()}
		}
		if dec.More() {
			return nil, &AuditError{Line: line, Msg: "more than one JSON value on the line"}
		}
		if !rec.From.Valid() || !rec.To.Valid() || !rec.Event.Valid() || !rec.Asked.Valid() {
			return nil, &AuditError{Line: line, Msg: "record lacks a valid from, to, asked or event"}
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &AuditError{Line: line + 1, Msg: fmt.Sprintf("longer than %d bytes", MaxAuditLine)}
		}
		return nil, err
	}
	return out, nil
}

// codeName names a classified code for people: "FolderSync status 9", "HTTP 503",
// "common status 132 SyncStateNotFound", "transport Timeout".
func codeName(r transitions.Rule) string {
	switch {
	case r.Source == transitions.TransportCondition:
		return "transport " + r.Name
	case r.Source == transitions.CommonStatus && r.Name != "" && r.Name != "unknown":
		return r.Source.String() + " " + strconv.Itoa(r.Code) + " " + r.Name
	}
	return r.Source.String() + " " + strconv.Itoa(r.Code)
}
