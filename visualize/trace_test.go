package visualize_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/visualize"
)

// The audit logs of two demo runs (simulated time, so stable), committed as
// fixtures; cmd/foldersync's tests check that the demo still writes them.
//
//	go run ./cmd/foldersync demo --audit visualize/testdata/demo-audit.jsonl
//	go run ./cmd/foldersync demo --profile lenient --faults 1:response-lost,2:http-503-retry-30s \
//	    --audit visualize/testdata/demo-lenient-audit.jsonl
var auditFixtures = []string{"demo", "demo-lenient"}

func readAudit(t *testing.T, name string) []machine.Record {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+"-audit.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	recs, err := machine.ReadRecords(f)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return recs
}

// renderers are the three renderings of an audit log, by golden file suffix.
var renderers = []struct {
	suffix string
	render func([]machine.Record) (string, error)
}{
	{"trace.dot", visualize.TraceDOT},
	{"trace.mmd", visualize.TraceMermaid},
	{"sequence.mmd", visualize.SequenceMermaid},
}

func TestTraceGolden(t *testing.T) {
	for _, fx := range auditFixtures {
		recs := readAudit(t, fx)
		for _, r := range renderers {
			t.Run(fx+"-"+r.suffix, func(t *testing.T) {
				got, err := r.render(recs)
				require.NoError(t, err)
				golden(t, fx+"-"+r.suffix, got)
				for i := 0; i < 10; i++ {
					again, err := r.render(recs)
					require.NoError(t, err)
					require.Equal(t, got, again, "byte-identical from run to run")
				}
			})
		}
	}
}

func TestTraceDOTHighlightsThePath(t *testing.T) {
	d, err := visualize.TraceDOT(readAudit(t, "demo"))
	require.NoError(t, err)
	// Visited states are filled and counted; failed was never entered.
	assert.Contains(t, d, `awaiting [shape=circle, label=<awaiting<BR/><FONT POINT-SIZE="10">×6</FONT>>, style=filled`)
	assert.Contains(t, d, `synced [shape=doublecircle, label=<synced<BR/><FONT POINT-SIZE="10">×2</FONT>>`)
	assert.Contains(t, d, `failed [shape=doublecircle, tooltip=`)
	assert.Contains(t, d, `start -> idle [color="#1d4ed8", penwidth=2.5, fontcolor="#1d4ed8", label="2 sessions"]`)
	// Taken events: count, codes and waits.
	assert.Contains(t, d, "<B>transient ×2 (status 6), waits 1.166s,</B>")
	assert.Contains(t, d, "<B>lost ×1 (transport Timeout)</B>")
	assert.Contains(t, d, "<B>key_mismatch ×1 (status 9)</B>")
	assert.Contains(t, d, "<B>backoff_elapsed ×3</B>")
	// An untaken event on a taken edge keeps its plain label; untaken edges are as in DOT.
	assert.Contains(t, d, `throttled (HTTP 503)<BR ALIGN="LEFT"/>`)
	plain := visualize.DOT()
	for _, line := range strings.Split(plain, "\n") {
		for _, untaken := range []string{"idle -> resetting", "idle -> failed", "awaiting -> failed", "retrying -> failed", "resetting -> failed"} {
			if strings.HasPrefix(strings.TrimSpace(line), untaken+" ") {
				assert.Contains(t, d, line+"\n", "edge %s was never taken: drawn as in the plain graph", untaken)
			}
		}
	}
}

func TestTraceMermaidHighlightsThePath(t *testing.T) {
	m, err := visualize.TraceMermaid(readAudit(t, "demo-lenient"))
	require.NoError(t, err)
	assert.Contains(t, m, "classDef visited ")
	assert.Contains(t, m, "class idle,awaiting,retrying,resetting,synced visited\n")
	assert.Contains(t, m, `state "awaiting ×5" as awaiting`)
	assert.Contains(t, m, "[*] --> idle: 2 sessions\n")
	assert.Contains(t, m, "▶ throttled ×1 (HTTP 503), waits 30s<br/>")
	assert.Contains(t, m, "▶ verify ×1 (status 1)<br/>")
	assert.Contains(t, m, "idle --> failed: cancelled, give_up\n", "an untaken edge is as in the plain graph")
	for _, line := range strings.Split(m, "\n")[1:] {
		_, label, _ := strings.Cut(line, ": ")
		assert.NotContains(t, strings.ReplaceAll(label, "#58;", ""), ":", "no raw colon in a label: %s", line)
	}
}

// Many waits on one row are summed up after the first few.
func TestTraceManyWaits(t *testing.T) {
	var recs []machine.Record
	add := func(from states.State, ev transitions.Event, to states.State, delay time.Duration) {
		r := machine.Record{Seq: len(recs) + 1, Session: "s", From: from, Asked: ev, Event: ev, To: to, Delay: machine.Duration(delay)}
		if ev == transitions.Transient {
			r.Code = "FolderSync status 6"
		}
		recs = append(recs, r)
	}
	add(states.Idle, transitions.Start, states.Awaiting, 0)
	for i := 1; i <= 7; i++ {
		add(states.Awaiting, transitions.Transient, states.Retrying, time.Duration(i)*time.Second)
		add(states.Retrying, transitions.BackoffElapsed, states.Awaiting, 0)
	}
	add(states.Awaiting, transitions.Transient, states.Retrying, 1500*time.Millisecond)
	add(states.Retrying, transitions.GiveUp, states.Failed, 0)
	m, err := visualize.TraceMermaid(recs)
	require.NoError(t, err)
	assert.Contains(t, m, "▶ transient ×8 (status 6), waits 1s, 2s, 3s, 4s, 5s and 3 more (29.5s in all)")
	assert.Contains(t, m, "▶ give_up ×1\n")
	assert.Contains(t, m, `state "failed ×1" as failed`)
}

func TestTraceRejectsRecordsOffTheTable(t *testing.T) {
	good := readAudit(t, "demo")
	cases := []struct {
		name string
		edit func(r *machine.Record)
		want string
	}{
		{"wrong target", func(r *machine.Record) { r.To = states.Synced },
			`audit record seq 4 (session "incremental", record 6 of the log): awaiting -transient-> synced is not a row of the transitions table: transient in awaiting goes to retrying`},
		{"event not accepted", func(r *machine.Record) { r.From = states.Idle },
			`audit record seq 4 (session "incremental", record 6 of the log): idle -transient-> retrying is not a row of the transitions table: transient is not accepted in idle (no request is in flight)`},
		{"invalid state", func(r *machine.Record) { r.To = 0 },
			`audit record seq 4 (session "incremental", record 6 of the log): it lacks a valid from, event or to`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs := append([]machine.Record(nil), good...)
			require.Equal(t, 4, recs[5].Seq)
			c.edit(&recs[5])
			for _, r := range renderers {
				_, err := r.render(recs)
				var te *visualize.TraceError
				require.ErrorAs(t, err, &te, r.suffix)
				assert.Equal(t, 4, te.Seq)
				assert.Equal(t, "incremental", te.Session)
				assert.Equal(t, 5, te.Index)
				assert.Contains(t, err.Error(), c.want, r.suffix)
			}
		})
	}
}

// A hand-edited log file: ReadRecords accepts it (every field is valid), the
// renderers name the record.
func TestTraceRejectsAHandEditedLog(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "demo-audit.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	require.Contains(t, lines[7], `"seq":6,`)
	lines[7] = strings.Replace(lines[7], `"to":"retrying"`, `"to":"resetting"`, 1)
	recs, err := machine.ReadRecords(strings.NewReader(strings.Join(lines, "\n")))
	require.NoError(t, err)
	_, err = visualize.TraceDOT(recs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit record seq 6 ")
	assert.Contains(t, err.Error(), "awaiting -transient-> resetting is not a row")
}

func TestTraceNoRecords(t *testing.T) {
	for _, r := range renderers {
		_, err := r.render(nil)
		assert.True(t, errors.Is(err, visualize.ErrNoRecords), r.suffix)
	}
}
