package machine

import (
	"fmt"
	"strconv"
	"time"

	"github.com/easkit/foldersync/internal/jsontext"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// appendRecord appends r as one JSON object, byte for byte what encoding/json's
// Marshal writes for a Record (a test and a fuzz target hold it to that), without
// reflection: a session writes one record per step, and encoding/json made the
// record cost several times the decision (docs/BENCHMARKS.md).
func appendRecord(b []byte, r *Record) ([]byte, error) {
	var err error
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(r.Seq), 10)
	b = append(b, `,"time":`...)
	timeAt := len(b)
	if b, err = appendTime(b, r.Time); err != nil {
		return nil, err
	}
	// The stimulus's time is almost always the record's: format it once.
	timeText := b[timeAt:len(b):len(b)]
	b = append(b, `,"session":`...)
	b = jsontext.AppendString(b, r.Session)
	if b, err = appendState(b, `,"from":`, r.From); err != nil {
		return nil, err
	}
	if b, err = appendEvent(b, `,"asked":`, r.Asked); err != nil {
		return nil, err
	}
	if b, err = appendEvent(b, `,"event":`, r.Event); err != nil {
		return nil, err
	}
	if b, err = appendState(b, `,"to":`, r.To); err != nil {
		return nil, err
	}
	if len(r.Guards) > 0 {
		b = append(b, `,"guards":[`...)
		for i, g := range r.Guards {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"guard":`...)
			b = jsontext.AppendString(b, string(g.Guard))
			b = append(b, `,"held":`...)
			b = strconv.AppendBool(b, g.Held)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if r.Code != "" {
		b = append(b, `,"code":`...)
		b = jsontext.AppendString(b, r.Code)
	}
	if r.HTTPStatus != 0 {
		b = append(b, `,"http_status":`...)
		b = strconv.AppendInt(b, int64(r.HTTPStatus), 10)
	}
	b = append(b, `,"attempt":`...)
	b = strconv.AppendInt(b, int64(r.Attempt), 10)
	if r.Delay != 0 {
		b = append(b, `,"delay":`...)
		b = jsontext.AppendString(b, time.Duration(r.Delay).String())
	}
	b = appendOptString(b, `,"old_key":`, r.OldKey)
	b = appendOptString(b, `,"new_key":`, r.NewKey)
	b = appendOptString(b, `,"request_id":`, r.RequestID)
	b = appendOptString(b, `,"reason":`, r.Reason)
	b = append(b, `,"stimulus":`...)
	if r.Stimulus.Now == r.Time {
		b, err = appendStimulus(b, &r.Stimulus, timeText)
	} else {
		b, err = appendStimulus(b, &r.Stimulus, nil)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendStimulus writes the stimulus; nowText, when not nil, is st.Now already
// formatted.
func appendStimulus(b []byte, st *Stimulus, nowText []byte) ([]byte, error) {
	var err error
	b = append(b, '{')
	// Every field but now is omitempty: a comma goes before each except the first
	// one written.
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, k...)
	}
	if st.Event != 0 {
		key(`"event":`)
		if b, err = appendEvent(b, "", st.Event); err != nil {
			return nil, err
		}
	}
	if o := st.Outcome; o != nil {
		key(`"outcome":{"Condition":`)
		b = strconv.AppendUint(b, uint64(o.Condition), 10)
		b = append(b, `,"HTTPStatus":`...)
		b = strconv.AppendInt(b, int64(o.HTTPStatus), 10)
		b = append(b, `,"Status":`...)
		b = strconv.AppendInt(b, int64(o.Status), 10)
		b = append(b, `,"ResetRequested":`...)
		b = strconv.AppendBool(b, o.ResetRequested)
		b = append(b, '}')
	}
	if st.RetryAfter != 0 {
		key(`"retry_after":`)
		b = jsontext.AppendString(b, time.Duration(st.RetryAfter).String())
	}
	if st.HasRetryAfter {
		key(`"has_retry_after":true`)
	}
	if st.RedirectOK {
		key(`"redirect_ok":true`)
	}
	if st.RedirectRefusal != "" {
		key(`"redirect_refusal":`)
		b = jsontext.AppendString(b, st.RedirectRefusal)
	}
	if st.Location != "" {
		key(`"location":`)
		b = jsontext.AppendString(b, st.Location)
	}
	if st.Initial {
		key(`"initial":true`)
	}
	if st.NoChangeEcho {
		key(`"no_change_echo":true`)
	}
	if st.Throttle != "" {
		key(`"throttle":`)
		b = jsontext.AppendString(b, st.Throttle)
	}
	if st.Preliminary {
		key(`"preliminary":true`)
	}
	if st.Detail != "" {
		key(`"detail":`)
		b = jsontext.AppendString(b, st.Detail)
	}
	key(`"now":`)
	if nowText != nil {
		b = append(b, nowText...)
	} else if b, err = appendTime(b, st.Now); err != nil {
		return nil, err
	}
	if p := st.Prior; p != nil {
		key(`"prior":{`)
		comma := false
		if p.LostResponse {
			b = append(b, `"lost_response":true`...)
			comma = true
		}
		if len(p.Resets) > 0 {
			if comma {
				b = append(b, ',')
			}
			b = append(b, `"resets":[`...)
			for i, t := range p.Resets {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = appendTime(b, t); err != nil {
					return nil, err
				}
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return jsontext.AppendString(append(b, key...), s)
}

func appendState(b []byte, key string, s states.State) ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("states: cannot encode invalid state %d", uint8(s))
	}
	return append(append(b, key...), quotedState[s]...), nil
}

func appendEvent(b []byte, key string, e transitions.Event) ([]byte, error) {
	if !e.Valid() {
		return nil, fmt.Errorf("transitions: cannot encode invalid event %d", uint8(e))
	}
	return append(append(b, key...), quotedEvent[e]...), nil
}

// quotedState and quotedEvent are every valid name, JSON-quoted once: a record
// carries four of them.
var quotedState, quotedEvent = func() (qs, qe [256][]byte) {
	for i := range 256 {
		if s := states.State(i); s.Valid() {
			qs[i] = jsontext.AppendString(nil, s.String())
		}
		if e := transitions.Event(i); e.Valid() {
			qe[i] = jsontext.AppendString(nil, e.String())
		}
	}
	return qs, qe
}()

// appendTime writes t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds,
// refusing years it cannot represent.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil, fmt.Errorf("machine: audit time %v: year outside of range [0,9999]", t)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}
