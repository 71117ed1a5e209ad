package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
)

// The default story: a lost response, a Status 6 burst and a Status 9 reset,
// ending synced with the client equal to the server.
func TestDemoDefaultStory(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "demo")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"awaiting -lost-> retrying", "transport Timeout",
		"awaiting -transient-> retrying", "FolderSync status 6", "wait ",
		"awaiting -key_mismatch-> resetting", "FolderSync status 9", "never wipe",
		"resetting -reset_sent-> awaiting",
		"=> synced after 5 requests, 1 resets",
		"client and server hierarchies are equal: 18 folders, none lost or duplicated",
	} {
		assert.Contains(t, out, want)
	}
}

func TestDemoLenientVerifiesAndAuditReplays(t *testing.T) {
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	code, out, errOut := runCLI(t, nil, "demo", "--profile", "lenient", "--faults", "1:response-lost", "--audit", audit)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "awaiting -verify-> resetting")
	assert.Contains(t, out, "may hide lost changes")
	assert.Contains(t, out, "client and server hierarchies are equal")

	f, err := os.Open(audit)
	require.NoError(t, err)
	defer f.Close()
	recs, err := machine.ReadRecords(f)
	require.NoError(t, err)
	// Two sessions in one log: each replays identically.
	sessions := machine.SplitSessions(recs)
	require.Len(t, sessions, 2)
	for _, s := range sessions {
		assert.Nil(t, machine.Replay(s, policy.Default()))
	}
}

func TestDemoFlags(t *testing.T) {
	cases := [][]string{
		{"demo", "--faults", "none"},
		{"demo", "--profile", "silent-reset", "--faults", "1:truncated,2:corrupt,3:http-503-retry-30s,4:connection-reset"},
		{"demo", "--profile", "reexecute", "--fault-rate", "0.3", "--seed", "5"},
		{"demo", "--policy", "../../policy/testdata/interactive.json", "--faults", "1:status-6,2:status-6"},
		{"demo", "--faults", "1:status-10"},
	}
	for _, args := range cases {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, args...)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, out, "3. The hierarchy the client stored")
		})
	}
	_, out, _ := runCLI(t, nil, "demo", "--faults", "1:status-10")
	assert.Contains(t, out, "error: foldersync: the server could not read the request (FolderSync status 10)")
	code, _, errOut := runCLI(t, nil, "demo", "--policy", "/nonexistent.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "nonexistent")
	code, out, _ = runCLI(t, nil, "demo", "--help")
	assert.Equal(t, 0, code)
	_ = out
}

func TestGraphCommand(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "graph")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "stateDiagram-v2\n"))
	code, out, _ = runCLI(t, nil, "graph", "--format", "dot")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "digraph foldersync {"))
	code, _, errOut = runCLI(t, nil, "graph", "--format", "png")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want dot or mermaid")
}
