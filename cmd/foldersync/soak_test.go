package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/soak"
	"github.com/easkit/foldersync/transport/sim"
)

// runSoakCLI runs `foldersync soak ARGS` (through runSoak, so it does not depend on
// the dispatch in run).
func runSoakCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runSoak(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// timing removes the line that reports wall-clock time.
var timing = regexp.MustCompile(`(?m)^time: .*\n`)

func TestSoakCampaign(t *testing.T) {
	code, out, errOut := runSoakCLI(t, "--seeds", "20", "--sessions", "4", "--profiles", "replay,reexecute,lenient,silent-reset", "--fault-rate", "0.2")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "4 profiles x 20 accounts x 4 sessions = 320 sessions, fault rate 0.2, in process, policy default")
	for _, want := range []string{"profile", "sessions", "synced", "failed", "resends", "resets", "rt p50", "rt p99", "wasted", "divergences", "violations",
		"failed sessions by kind", "server churn between sessions", "time: 320 sessions in"} {
		assert.Contains(t, out, want)
	}
	for _, p := range soak.AllProfiles() {
		assert.Regexp(t, `(?m)^ *`+regexp.QuoteMeta(p.String())+` +80 +`, out, "a row of 80 sessions for %s", p)
	}
	assert.NotContains(t, out, "\r", "no progress bar when stdout is not a terminal")
}

func TestSoakHTTP(t *testing.T) {
	code, out, errOut := runSoakCLI(t, "--http", "--seeds", "4", "--sessions", "3", "--profiles", "lenient,replay")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "over loopback HTTP")
	assert.Regexp(t, `(?m)^ *lenient +12 +`, out)
}

func TestSoakDeterministic(t *testing.T) {
	args := []string{"--seeds", "30", "--sessions", "5", "--fault-rate", "0.5", "--profiles", "reexecute,silent-reset"}
	_, a, _ := runSoakCLI(t, args...)
	_, b, _ := runSoakCLI(t, args...)
	assert.Equal(t, timing.ReplaceAllString(a, ""), timing.ReplaceAllString(b, ""))
}

// A broken check makes the campaign fail, and the failing account's audit log and
// repro command land in --out; the log replays with foldersync replay.
func TestSoakViolationWritesAuditLog(t *testing.T) {
	soakCheck = func(rep soak.SessionReport) error {
		if rep.Seed == 2 && rep.Session == 3 {
			return errors.New("a fake violation from the test hook")
		}
		return nil
	}
	defer func() { soakCheck = nil }()
	dir := t.TempDir()
	code, out, errOut := runSoakCLI(t, "--seeds", "4", "--sessions", "4", "--profiles", "silent-reset", "--out", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "violations: 1")
	assert.Contains(t, out, "silent-reset seed 2 session 3: check: a fake violation from the test hook")
	audit := filepath.Join(dir, "silent-reset-seed-2.jsonl")
	assert.Contains(t, out, "replay: foldersync replay "+audit)
	repro, err := os.ReadFile(filepath.Join(dir, "silent-reset-seed-2.repro"))
	require.NoError(t, err)
	assert.Equal(t, "foldersync soak --profiles silent-reset --first-seed 2 --seeds 1 --sessions 4 --fault-rate 0.2\n", string(repro))
	assert.Contains(t, out, "rerun:  "+strings.TrimSpace(string(repro)))

	code, out, errOut = runCLI(t, nil, "replay", audit)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "3 sessions")
	assert.Contains(t, out, "every one replays identically")

	// The repro command finds the same violation on its own.
	args := strings.Fields(strings.TrimSpace(string(repro)))[2:]
	code, out, _ = runSoakCLI(t, append(args, "--out", t.TempDir())...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "silent-reset seed 2 session 3: check: a fake violation from the test hook")
}

func TestSoakPolicyFile(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(pf, []byte("preset: interactive\nmax_attempts: 8\n"), 0o644))
	code, out, errOut := runSoakCLI(t, "--seeds", "10", "--sessions", "3", "--policy", pf, "--profiles", "replay")
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "policy "+pf)

	require.NoError(t, os.WriteFile(pf, []byte("max_attempts: zero\n"), 0o644))
	code, _, errOut = runSoakCLI(t, "--policy", pf)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "max_attempts")
}

func TestSoakUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"extra"}, {"--seeds", "0"}, {"--sessions", "-1"}, {"--first-seed", "0"}, {"--fault-rate", "1.5"}, {"--fault-rate", "NaN"},
		{"--profiles", "exchange"}, {"--menu", "status-6,explode"}, {"--interval", "0s"}, {"--bogus"},
	} {
		code, out, errOut := runSoakCLI(t, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Empty(t, out, "%q", args)
		assert.NotEmpty(t, errOut, "%q", args)
	}
	code, _, errOut := runSoakCLI(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "Usage: foldersync soak")
}

func TestProgressBarOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	assert.False(t, isTerminal(&buf))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, isTerminal(f), "a regular file is not a terminal")

	b := &progressBar{out: &buf, on: true}
	b.update(soak.Progress{Profile: sim.Lenient, Done: 50, Total: 100, Violations: 1})
	b.clear()
	assert.Contains(t, buf.String(), "\r[###############...............]  50%  50/100 sessions  lenient       1 violations")
	assert.True(t, strings.HasSuffix(buf.String(), "\r\033[K"))
}
