package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatus9Recovery(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	got := out.String()
	for _, line := range []string{
		"2. offline: created \"Offline notes\" locally; the client now holds 17 folders\n",
		// Status 9 takes the session to resetting, never to failed.
		"   awaiting  -> resetting key_mismatch on FolderSync status 9\n",
		"   resetting -> awaiting  reset_sent\n",
		"   awaiting  -> synced    success on FolderSync status 1\n",
		"   server saw SyncKey \"1\" (unknown): Status 9\n",
		"   server saw SyncKey \"0\" (zero): Status 1\n",
		"   rolled back: \"Offline notes\" (local add since the last sync)\n",
		"   reconciled: kept 15, updated 0, added 1 [board], removed 1 [archive]\n",
		"5. client equals server: 16 folders\n",
		"   the client had 16 server folders; the 15 the server still has were all kept in place, none was lost\n",
		"   folders in each commit: 16 17 16 (the tree was never wiped)\n",
	} {
		assert.Contains(t, got, line)
	}
}
