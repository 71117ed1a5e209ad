package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbedFileStore(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	got := out.String()
	for _, line := range []string{
		"  synced with SyncKey \"1\": 16 folders added\n",
		"  synced with SyncKey \"2\": 1 added, 1 updated, 1 deleted\n",
		// The second process finds the key and tree the first committed, and both
		// snapshot files (the current one and its backup).
		"process 2: reopened the store: SyncKey \"2\", 16 folders (files: hierarchy.json, hierarchy.prev.json)\n",
		// It continues from that key: an incremental answer, not the full hierarchy.
		"  sent SyncKey \"2\" (the server's current key): Status 1, 1 change(s)\n",
		"  synced with SyncKey \"3\"\n",
		"    Receipts  [user-created mail folder]\n",
		"  Travel  [user-created mail folder]\n",
		"client and server agree: 17 folders\n",
	} {
		assert.Contains(t, got, line)
	}
	_, tree, ok := strings.Cut(got, "the stored hierarchy:\n")
	require.True(t, ok)
	assert.NotContains(t, tree, "2024", "a folder deleted on the server is still in the client's tree")
	assert.NotContains(t, got, "warning")
}
