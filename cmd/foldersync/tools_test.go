package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.jsonl")
	code, _, errOut := runCLI(t, nil, "demo", "--audit", audit)
	require.Equal(t, 0, code, errOut)
	code, out, errOut := runCLI(t, nil, "replay", audit)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "2 sessions, 12 transitions: every one replays identically\n", out)

	// A hand-edited log: record 8 claims the session went to synced.
	data, err := os.ReadFile(audit)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	lines[7] = strings.Replace(lines[7], `"to":"retrying"`, `"to":"synced"`, 1)
	edited := filepath.Join(dir, "edited.jsonl")
	require.NoError(t, os.WriteFile(edited, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	code, out, errOut = runCLI(t, nil, "replay", edited)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "to recorded synced, replayed retrying")
	assert.Contains(t, errOut, "divergence at line 8 of")

	code, _, errOut = runCLI(t, nil, "replay", filepath.Join(dir, "missing.jsonl"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no such file")
	code, _, _ = runCLI(t, nil, "replay")
	assert.Equal(t, 2, code)
}

func TestPolicyCommands(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "policy", "check", "../../policy/testdata/background.yaml")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "valid")
	code, _, errOut = runCLI(t, nil, "policy", "check", "../../policy/testdata/invalid/multiplier.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "multiplier.yaml:7:3: backoff.multiplier: 0.5 is less than 1")

	code, out, _ = runCLI(t, nil, "policy", "show", "--preset", "interactive")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "max_attempts: 6")
	shown := filepath.Join(t.TempDir(), "shown.yaml")
	require.NoError(t, os.WriteFile(shown, []byte(out), 0o644))
	code, _, errOut = runCLI(t, nil, "policy", "check", shown)
	assert.Equal(t, 0, code, "what show prints, check accepts: %s", errOut)

	code, _, errOut = runCLI(t, nil, "policy", "show", "--preset", "turbo")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "turbo")
	for _, args := range [][]string{{"policy"}, {"policy", "frob"}, {"policy", "check"}} {
		code, _, _ := runCLI(t, nil, args...)
		assert.Equal(t, 2, code, "%q", args)
	}
}

func TestExplainCommand(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "explain", "9")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "FolderSync status 9")
	assert.Contains(t, out, "MS-ASCMD 2.2.3.177.5")
	assert.Contains(t, out, "event key_mismatch: awaiting -> resetting while reset_allowed holds, else give_up")
	code, out, _ = runCLI(t, nil, "explain", "http-451")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "event redirect")
	code, out, _ = runCLI(t, nil, "explain", "142")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "DeviceNotProvisioned")
	code, out, _ = runCLI(t, nil, "explain", "157")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "not defined by the specifications foldersync knows")
	for _, bad := range []string{"x", "0", "1000", "http-99", "http-x"} {
		code, _, _ := runCLI(t, nil, "explain", bad)
		assert.Equal(t, 2, code, bad)
	}
}
