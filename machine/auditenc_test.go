package machine

import (
	"encoding/json"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// The hand-written audit encoder writes what encoding/json writes, byte for byte,
// so logs written before and after it read alike.
func TestAuditEncoderMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	evs := transitions.Events()
	sts := []states.State{states.Idle, states.Awaiting, states.Retrying, states.Resetting, states.Synced, states.Failed}
	strs := []string{"", "plain", `quote " and \ back`, "ctl \x00\x01\x1f\b\f\n\r\t", "<html>&amp;</html>", "ünïcødé ✓",
		"bad \xff\xfe utf8", "line\u2028sep\u2029", "emoji 🙂", "\x7f del"}
	pick := func() string { return strs[rng.Intn(len(strs))] }
	when := func() time.Time {
		return time.Date(2000+rng.Intn(50), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), rng.Intn(60), rng.Intn(3)*rng.Intn(1e9), time.UTC)
	}
	for i := 0; i < 5000; i++ {
		r := Record{
			Seq: rng.Intn(1000), Time: when(), Session: pick(),
			From: sts[rng.Intn(len(sts))], Asked: evs[rng.Intn(len(evs))], Event: evs[rng.Intn(len(evs))], To: sts[rng.Intn(len(sts))],
			Code: pick(), HTTPStatus: rng.Intn(3) * 250, Attempt: rng.Intn(9), Delay: Duration(rng.Intn(3) * rng.Intn(1e10)),
			OldKey: pick(), NewKey: pick(), RequestID: pick(), Reason: pick(),
		}
		if i%3 == 1 {
			r.Time = r.Time.In(time.FixedZone("X", 3600*rng.Intn(10)))
		}
		for g := rng.Intn(3); g > 0; g-- {
			r.Guards = append(r.Guards, GuardCheck{Guard: transitions.Guard(pick()), Held: rng.Intn(2) == 0})
		}
		st := &r.Stimulus
		if rng.Intn(2) == 0 {
			st.Event = evs[rng.Intn(len(evs))]
		}
		if rng.Intn(2) == 0 {
			st.Outcome = &transitions.Outcome{Condition: transitions.Condition(rng.Intn(5)), HTTPStatus: rng.Intn(600), Status: rng.Intn(200), ResetRequested: rng.Intn(2) == 0}
		}
		st.RetryAfter, st.HasRetryAfter = Duration(rng.Intn(2)*rng.Intn(1e11)), rng.Intn(2) == 0
		st.RedirectOK, st.NoChangeEcho, st.Initial = rng.Intn(2) == 0, rng.Intn(2) == 0, rng.Intn(2) == 0
		st.RedirectRefusal, st.Location, st.Throttle, st.Detail = pick(), pick(), pick(), pick()
		st.Preliminary = rng.Intn(2) == 0
		st.Now = when()
		if i%4 == 0 {
			st.Now = r.Time // the usual case, which the encoder formats once
		}
		if rng.Intn(2) == 0 {
			st.Prior = &Prior{LostResponse: rng.Intn(2) == 0}
			for n := rng.Intn(3); n > 0; n-- {
				st.Prior.Resets = append(st.Prior.Resets, when())
			}
		}
		want, err := json.Marshal(r)
		require.NoError(t, err)
		got, err := appendRecord(nil, &r)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "record %d", i)
	}
}

func TestAuditEncoderRefusesWhatJSONRefuses(t *testing.T) {
	ok := Record{From: states.Idle, Asked: transitions.Start, Event: transitions.Start, To: states.Awaiting}
	for name, edit := range map[string]func(*Record){
		"invalid state":    func(r *Record) { r.To = 0 },
		"invalid event":    func(r *Record) { r.Event = 200 },
		"invalid stimulus": func(r *Record) { r.Stimulus.Event = 99 },
		"year 10000":       func(r *Record) { r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"negative year":    func(r *Record) { r.Stimulus.Now = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		r := ok
		edit(&r)
		_, jerr := json.Marshal(r)
		_, err := appendRecord(nil, &r)
		assert.Error(t, jerr, name)
		assert.Error(t, err, name)
	}
}

// FuzzAuditEncoder: any strings and times encode as encoding/json does.
func FuzzAuditEncoder(f *testing.F) {
	f.Add("session", "reason \x00 <>&", "key\xff", int64(0), int64(1e9))
	f.Add("", "\u2028", "🙂", int64(-62135596800), int64(253402300799))
	f.Fuzz(func(t *testing.T, session, reason, key string, sec, nsec int64) {
		r := Record{Session: session, Reason: reason, OldKey: key, From: states.Awaiting, Asked: transitions.Lost,
			Event: transitions.Lost, To: states.Retrying, Time: time.Unix(sec, nsec).UTC()}
		r.Stimulus.Location, r.Stimulus.Now = key, time.Unix(nsec, sec)
		want, jerr := json.Marshal(r)
		got, err := appendRecord(nil, &r)
		if (jerr != nil) != (err != nil) {
			t.Fatalf("encoding/json error %v, encoder error %v", jerr, err)
		}
		if jerr == nil && string(want) != string(got) {
			t.Fatalf("differs:\n json %s\n ours %s", want, got)
		}
	})
}
