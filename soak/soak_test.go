package soak_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/soak"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// requireClean fails the test with the violations, if there are any.
func requireClean(t *testing.T, s soak.Summary) {
	t.Helper()
	var msgs []string
	for _, v := range s.Violations {
		msgs = append(msgs, v.String())
	}
	require.Zero(t, s.TotalViolations(), "violations:\n%s", strings.Join(msgs, "\n"))
}

func logTable(t *testing.T, s soak.Summary) {
	t.Helper()
	var b strings.Builder
	require.NoError(t, s.WriteTable(&b))
	t.Log("\n" + b.String())
}

// The campaign of issue 6 in small: per profile, 200 accounts of 5 sessions at a
// 20% fault rate over the full menu, in process. Every check holds.
func TestCampaignEveryProfile(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	for _, p := range soak.AllProfiles() {
		t.Run(p.String(), func(t *testing.T) {
			s, err := soak.Run(context.Background(), soak.Config{Profiles: []sim.Profile{p}, Seeds: seeds, Sessions: 5, FaultRate: 0.2})
			require.NoError(t, err)
			logTable(t, s)
			requireClean(t, s)
			require.Len(t, s.Profiles, 1)
			ps := s.Profiles[0]
			assert.Equal(t, p, ps.Profile)
			assert.Equal(t, seeds, ps.Accounts)
			assert.Equal(t, seeds*5, ps.Sessions)
			assert.Equal(t, ps.Sessions, ps.Synced+ps.Failed)
			assert.Positive(t, ps.Injected)
			assert.Positive(t, ps.Resends)
			assert.Positive(t, ps.Resets)
			assert.Positive(t, ps.Recoveries)
			assert.Positive(t, ps.Churn.Adds+ps.Churn.Renames+ps.Churn.Moves+ps.Churn.Deletes)
			assert.Equal(t, ps.Failed, ps.CleanSyncs, "every failure is followed by a clean sync")
		})
	}
}

// At a high fault rate sessions fail, and every failure is one the policy allows:
// a spent budget or reset guard. The clean syncs after them converge. (The lenient
// profile is left out: at this rate the campaign finds violations there, lost
// responses that the machine forgets; add it back once
// `foldersync soak --profiles lenient --fault-rate 0.8` is clean.)
func TestCampaignFailuresAreAcceptable(t *testing.T) {
	s, err := soak.Run(context.Background(), soak.Config{Profiles: []sim.Profile{sim.Replay, sim.Reexecute, sim.SilentReset},
		Seeds: 60, Sessions: 5, FaultRate: 0.8})
	require.NoError(t, err)
	logTable(t, s)
	requireClean(t, s)
	for _, ps := range s.Profiles {
		assert.Positive(t, ps.Failed, ps.Profile)
		assert.Positive(t, ps.FailedBy["budget"]+ps.FailedBy["reset-loop"], ps.Profile)
		assert.Equal(t, ps.Failed, ps.CleanSyncs)
	}
}

// Faults that end a session at once are acceptable when injected: Status 10, and
// a Retry-After above the policy's cap.
func TestCampaignFatalFaults(t *testing.T) {
	s, err := soak.Run(context.Background(), soak.Config{Profiles: []sim.Profile{sim.Replay}, Seeds: 30, Sessions: 4, FaultRate: 0.3,
		Menu: []faults.Fault{faults.Status(10), faults.HTTP(503, time.Hour, true), faults.Status(6)}})
	require.NoError(t, err)
	requireClean(t, s)
	ps := s.Profiles[0]
	assert.Positive(t, ps.FailedBy["malformed"])
	assert.Positive(t, ps.FailedBy["throttled"])
}

// Over loopback HTTP: every request crosses real HTTP to sim.Handler, and every
// check holds, goroutines included. The server performs on the wire the faults it
// can (OnWire); the client's own code meets them, and recovers exactly as from the
// in-process faults: the summary is the in-process one, number for number.
func TestCampaignOverHTTP(t *testing.T) {
	seeds := 25
	if testing.Short() {
		seeds = 8
	}
	before := runtime.NumGoroutine()
	cfg := soak.Config{Seeds: seeds, Sessions: 5, FaultRate: 0.2, HTTP: true}
	s, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	logTable(t, s)
	requireClean(t, s)
	for _, ps := range s.Profiles {
		assert.Equal(t, seeds*5, ps.Sessions)
	}
	cfg.HTTP = false
	inProcess, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	for i := range s.Profiles {
		ps := &s.Profiles[i]
		assert.Positive(t, ps.OnWire, ps.Profile)
		assert.LessOrEqual(t, ps.OnWire, ps.Injected, ps.Profile)
		assert.Zero(t, inProcess.Profiles[i].OnWire)
		ps.OnWire = 0
	}
	assert.Equal(t, inProcess, s, "the wire changes nothing the checks see")
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+1, "goroutines left behind")
}

// With HTTP, every fault of the default menu that the wire can carry is performed
// by the server, and the client reads it as that fault: a reset, dropped or cut
// answer is a connection error, a damaged body unreadable, a status or an HTTP
// error an answer. The server applied exactly the requests the faults let through
// to it (a lost answer's request was applied). The faults that need the client's
// timer to run out in real time (request-lost, timeout) stay above the client.
func TestCampaignFaultsOnTheWire(t *testing.T) {
	type seen struct{ wire, above int }
	byKind := map[faults.Kind]*seen{}
	var wrong []string
	served := map[*sim.Server]int{} // FolderSyncs each account's server has served so far
	cfg := soak.Config{Profiles: []sim.Profile{sim.Reexecute}, Seeds: 12, Sessions: 5, FaultRate: 0.5, HTTP: true,
		Check: func(rep soak.SessionReport) error {
			// The server served every request but those the faults kept from it:
			// a dropped, cut or damaged answer, or an X-MS-RP, was served first.
			n := len(rep.Server.History())
			want := rep.Requests
			for _, inj := range rep.Injected {
				switch inj.Fault.Kind {
				case faults.KindRequestLost, faults.KindConnectionReset, faults.KindStatus, faults.KindHTTP:
					want--
				}
			}
			if n-served[rep.Server] != want {
				wrong = append(wrong, fmt.Sprintf("seed %d session %d: the server served %d requests, want %d of %d (%v)",
					rep.Seed, rep.Session, n-served[rep.Server], want, rep.Requests, rep.Injected))
			}
			served[rep.Server] = n
			for _, inj := range rep.Injected {
				k := byKind[inj.Fault.Kind]
				if k == nil {
					k = &seen{}
					byKind[inj.Fault.Kind] = k
				}
				if !inj.OnWire {
					k.above++
					continue
				}
				k.wire++
				want := map[faults.Kind]string{
					faults.KindConnectionReset: "got: transport: connection failed",
					faults.KindResponseLost:    "got: transport: connection failed",
					faults.KindTruncatedBody:   "got: transport: connection failed (HTTP 200): reading the body",
					faults.KindCorruptBody:     "got: transport: response body unreadable (HTTP 200)",
					faults.KindStatus:          fmt.Sprintf("read: server answered status %d ", inj.Fault.Status),
					faults.KindHTTP:            fmt.Sprintf("read: server answered HTTP %d", inj.Fault.HTTPStatus),
					faults.KindResetRequested:  "read: server answered status 1 ",
				}[inj.Fault.Kind]
				if want == "" || !strings.Contains(inj.Detail, "the client "+want) {
					wrong = append(wrong, fmt.Sprintf("%v: %s", inj.Fault, inj.Detail))
				}
				if inj.Fault.Kind == faults.KindResetRequested && !strings.HasSuffix(inj.Detail, "with X-MS-RP") {
					wrong = append(wrong, fmt.Sprintf("%v: %s", inj.Fault, inj.Detail))
				}
			}
			return nil
		}}
	s, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	requireClean(t, s)
	assert.Empty(t, wrong, "faults the client did not read as what they are")
	for _, f := range soak.DefaultMenu() {
		k := byKind[f.Kind]
		require.NotNil(t, k, "%v never drawn: raise Seeds", f)
		if f.Kind == faults.KindRequestLost || f.Kind == faults.KindTimeout {
			assert.Zero(t, k.wire, f.String())
			assert.Positive(t, k.above, f.String())
		} else {
			assert.Positive(t, k.wire, f.String())
			assert.Zero(t, k.above, f.String())
		}
	}
}

// The same Config gives the same Summary, violations and their audit logs included
// (at 80% the campaign finds violations in the lenient profile: see above).
func TestDeterministic(t *testing.T) {
	cfg := soak.Config{Profiles: []sim.Profile{sim.Lenient, sim.Replay}, Seeds: 40, Sessions: 5, FaultRate: 0.8}
	a, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	b, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, a, b)
	var ta, tb bytes.Buffer
	require.NoError(t, a.WriteTable(&ta))
	require.NoError(t, b.WriteTable(&tb))
	assert.Equal(t, ta.String(), tb.String())
}

// A broken check (here an extra check that fails on purpose) is a violation: the run
// reports it with the account's audit log, which replays, and the command that reruns
// the account; WriteArtifacts writes both.
func TestViolationIsReportedWithAuditLog(t *testing.T) {
	errFake := errors.New("fake violation")
	calls := 0
	cfg := soak.Config{Profiles: []sim.Profile{sim.Reexecute}, Seeds: 5, Sessions: 4, FaultRate: 0.2,
		Check: func(rep soak.SessionReport) error {
			calls++
			if rep.Seed == 3 && rep.Session == 2 {
				return errFake
			}
			return nil
		}}
	s, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, 1, s.TotalViolations())
	assert.Equal(t, 5*4-2, calls, "the account stops at its violation: sessions 3 and 4 of seed 3 are not run")
	require.Len(t, s.Violations, 1)
	v := s.Violations[0]
	assert.Equal(t, sim.Reexecute, v.Profile)
	assert.EqualValues(t, 3, v.Seed)
	assert.Equal(t, 2, v.Session)
	assert.Equal(t, "check", v.Check)
	assert.Contains(t, v.Detail, "fake violation")
	assert.Equal(t, []string{"soak", "--profiles", "reexecute", "--first-seed", "3", "--seeds", "1", "--sessions", "4", "--fault-rate", "0.2"}, v.Repro)

	recs, err := machine.ReadRecords(bytes.NewReader(v.Audit))
	require.NoError(t, err)
	sessions := machine.SplitSessions(recs)
	require.GreaterOrEqual(t, len(sessions), 2, "the log holds the account's sessions up to the failing one")
	for _, sess := range sessions {
		assert.Nil(t, machine.Replay(sess, policy.Default()))
	}
	assert.Equal(t, "reexecute-seed3-s2", sessions[len(sessions)-1][0].Session)

	dir := t.TempDir()
	arts, err := s.WriteArtifacts(dir, "foldersync")
	require.NoError(t, err)
	require.Len(t, arts, 1)
	assert.Equal(t, filepath.Join(dir, "reexecute-seed-3.jsonl"), arts[0].Audit)
	logged, err := os.ReadFile(arts[0].Audit)
	require.NoError(t, err)
	assert.Equal(t, v.Audit, logged)
	repro, err := os.ReadFile(arts[0].Repro)
	require.NoError(t, err)
	assert.Equal(t, "foldersync soak --profiles reexecute --first-seed 3 --seeds 1 --sessions 4 --fault-rate 0.2\n", string(repro))

	// The repro reruns the account alone and finds the same violation.
	cfg.FirstSeed, cfg.Seeds = 3, 1
	again, err := soak.Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, again.Violations, 1)
	assert.Equal(t, v, again.Violations[0])
}

// MaxReported bounds the violations kept in detail; all are counted.
func TestMaxReported(t *testing.T) {
	s, err := soak.Run(context.Background(), soak.Config{Profiles: []sim.Profile{sim.Replay}, Seeds: 6, Sessions: 2, MaxReported: 2,
		Check: func(soak.SessionReport) error { return errors.New("always") }})
	require.NoError(t, err)
	assert.Equal(t, 6, s.TotalViolations())
	assert.Len(t, s.Violations, 2)
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	seen := 0
	s, err := soak.Run(ctx, soak.Config{Profiles: []sim.Profile{sim.Replay}, Seeds: 50, Sessions: 2,
		Progress: func(p soak.Progress) {
			seen++
			if p.Seed == 5 {
				cancel()
			}
		}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 5, seen)
	assert.Equal(t, 5, s.Profiles[0].Accounts)
	assert.Equal(t, 10, s.Profiles[0].Sessions)
}

func TestProgress(t *testing.T) {
	var got []soak.Progress
	_, err := soak.Run(context.Background(), soak.Config{Profiles: []sim.Profile{sim.Lenient, sim.SilentReset}, Seeds: 3, Sessions: 2,
		Progress: func(p soak.Progress) { got = append(got, p) }})
	require.NoError(t, err)
	require.Len(t, got, 6)
	assert.Equal(t, soak.Progress{Profile: sim.Lenient, Seed: 1, Done: 2, Total: 12}, got[0])
	assert.Equal(t, soak.Progress{Profile: sim.SilentReset, Seed: 3, Done: 12, Total: 12}, got[5])
}

func TestConfigErrors(t *testing.T) {
	bad := policy.Default()
	bad.MaxAttempts = -1
	for name, cfg := range map[string]soak.Config{
		"rate":    {FaultRate: 1.5},
		"nan":     {FaultRate: float64(nanValue())},
		"profile": {Profiles: []sim.Profile{sim.Profile(9)}},
		"menu":    {Menu: []faults.Fault{}},
		"none":    {Menu: []faults.Fault{faults.None}},
		"seeds":   {Seeds: -1},
		"policy":  {Policy: bad},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := soak.Run(context.Background(), cfg)
			require.Error(t, err)
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestParseMenuRoundTrip(t *testing.T) {
	var specs []string
	for _, f := range soak.DefaultMenu() {
		specs = append(specs, soak.FaultSpec(f))
	}
	joined := strings.Join(specs, ",")
	assert.Equal(t, "request-lost,response-lost,timeout,connection-reset,truncated,corrupt,status-6,status-9,status-11,status-12,http-503-retry-30s,http-500,reset-requested", joined)
	menu, err := soak.ParseMenu(joined)
	require.NoError(t, err)
	assert.Equal(t, soak.DefaultMenu(), menu)
	for _, bad := range []string{"", "status-0", "http-99", "http-503-retry-x", "explode"} {
		_, err := soak.ParseMenu(bad)
		assert.Error(t, err, bad)
	}
}

func TestReproArgs(t *testing.T) {
	cfg := soak.Config{Sessions: 7, FaultRate: 0.25, HTTP: true, Interval: time.Hour, ChurnBeforeCleanSync: true,
		Menu: []faults.Fault{faults.Status(9), faults.HTTP(503, time.Minute, true)}, PolicyFile: "/tmp/my policy.yaml"}
	args := cfg.ReproArgs(sim.Lenient, 42)
	assert.Equal(t, []string{"soak", "--profiles", "lenient", "--first-seed", "42", "--seeds", "1", "--sessions", "7", "--fault-rate", "0.25",
		"--http", "--interval", "1h0m0s", "--churn-before-clean-sync", "--menu", "status-9,http-503-retry-1m0s", "--policy", "/tmp/my policy.yaml"}, args)
	assert.Equal(t, "foldersync soak --menu 'a b' 'it'\\''s'", soak.ShellQuote([]string{"foldersync", "soak", "--menu", "a b", "it's"}))
}

func TestParseProfiles(t *testing.T) {
	ps, err := soak.ParseProfiles("lenient, replay")
	require.NoError(t, err)
	assert.Equal(t, []sim.Profile{sim.Lenient, sim.Replay}, ps)
	for _, bad := range []string{"", "horde", "replay,replay"} {
		_, err := soak.ParseProfiles(bad)
		assert.Error(t, err, bad)
	}
}

func TestKindName(t *testing.T) {
	assert.Equal(t, soak.KindInternal, soak.KindName(errors.New("boom")))
	assert.Equal(t, "budget", soak.KindName(&machine.Error{Kind: machine.ErrBudget}))
	assert.Equal(t, "reset-loop", soak.KindName(&machine.Error{Kind: machine.ErrResetLoop}))
	assert.Len(t, soak.KindOrder(), 17)
}

func TestPercentile(t *testing.T) {
	p := soak.ProfileSummary{Recoveries: 10, RoundTrips: []int{0, 0, 6, 3, 0, 1}}
	assert.Equal(t, 2, p.Percentile(50))
	assert.Equal(t, 3, p.Percentile(90))
	assert.Equal(t, 5, p.Percentile(99))
	assert.Equal(t, 2, p.Percentile(1))
	assert.Equal(t, 0, soak.ProfileSummary{}.Percentile(50))
}
