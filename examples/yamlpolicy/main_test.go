package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/policy"
)

func TestYAMLPolicy(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	got := out.String()
	for _, line := range []string{
		"loaded \"phone\": first retry after 2s, x3 per retry, 8 attempts, reset after 4 transient failures, Retry-After capped at 1m0s\n",
		// Each broken variant is located by line and column.
		"a misspelt key -> broken.yaml:12:1: max_atempts: unknown key \"max_atempts\"; did you mean \"max_attempts\"?\n",
		"a duration without a unit -> broken.yaml:7:12: backoff.initial: 2 is a bare number",
		"an impossible value -> broken.yaml:8:3: backoff.multiplier: 0.5 is less than 1",
		// The tuned policy: the server's Retry-After, then 2s, 6s, 18s with 10% jitter,
		// seeded, so the same on every run; no reset.
		"  attempt 1: HTTP 503 -> throttled, wait 20s\n",
		"  attempt 2: FolderSync status 6 -> transient, wait 1.896s\n",
		"  attempt 4: FolderSync status 6 -> transient, wait 17.714s\n",
		"  => synced after 5 requests, 45.341s of simulated waiting, 0 reset(s)\n",
		// The default policy resets on the third Status 6.
		"  attempt 4: FolderSync status 6 -> reset\n",
		"  => synced after 5 requests, 23.356s of simulated waiting, 1 reset(s)\n",
		// A Retry-After over the cap fails at once.
		"  attempt 1: HTTP 503 -> give_up\n",
		"more than policy retry_after_cap 1m0s",
	} {
		assert.Contains(t, got, line)
	}
}

// The file beside the program is the one it embeds, and it loads from disk too.
func TestPolicyFileLoads(t *testing.T) {
	p, err := policy.Load("policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, "phone", p.Name)
	assert.Equal(t, 4, p.TransientBeforeReset)
}
