package hierarchy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
)

// MS-ASCMD limits ServerIds and SyncKeys to 64 characters, not bytes, and the wire
// decoder (package transport) accepts what the spec allows: the hierarchy must too,
// or a server with non-ASCII ids would decode fine and then never sync.
func TestLimitsAreCharactersLikeTheWireDecoder(t *testing.T) {
	id64 := strings.Repeat("Ж", 64) // 128 bytes
	tree := hierarchy.NewTree()
	_, err := tree.Apply([]transport.FolderChange{{Op: transport.OpAdd, ServerID: id64, ParentID: "0", DisplayName: "x", Type: transport.FolderUserMail}})
	require.NoError(t, err)
	require.NoError(t, hierarchy.NewMemoryStore().Commit(context.Background(), strings.Repeat("ключ", 16), tree))

	_, err = tree.Apply([]transport.FolderChange{{Op: transport.OpAdd, ServerID: id64 + "Ж", ParentID: "0", DisplayName: "y", Type: transport.FolderUserMail}})
	assert.ErrorIs(t, err, hierarchy.ErrIDTooLong)
	err = hierarchy.NewMemoryStore().Commit(context.Background(), strings.Repeat("ключ", 16)+"!", tree)
	assert.ErrorIs(t, err, hierarchy.ErrInvalidSyncKey)

	dir := t.TempDir()
	fs, err := hierarchy.OpenFileStore(dir)
	require.NoError(t, err)
	require.NoError(t, fs.Commit(context.Background(), "k", tree))
	st, err := fs.Load(context.Background())
	require.NoError(t, err)
	assert.True(t, st.Tree.Equal(tree), "a 128-byte, 64-character ServerId survives the snapshot")
}

// Unverified: set by MarkUnverified, kept across Load (and a FileStore reopen),
// cleared by the next Commit; a no-op on a store never committed.
func TestUnverifiedFlag(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fs, err := hierarchy.OpenFileStore(dir)
	require.NoError(t, err)
	for name, s := range map[string]hierarchy.Store{"memory": hierarchy.NewMemoryStore(), "file": fs} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, s.MarkUnverified(ctx))
			st, err := s.Load(ctx)
			require.NoError(t, err)
			assert.False(t, st.Unverified, "nothing committed: nothing to mark")

			tree := hierarchy.NewTree(hierarchy.Folder{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox})
			require.NoError(t, s.Commit(ctx, "7", tree))
			require.NoError(t, s.MarkUnverified(ctx))
			st, err = s.Load(ctx)
			require.NoError(t, err)
			assert.True(t, st.Unverified)
			assert.Equal(t, "7", st.SyncKey)
			assert.True(t, st.Tree.Equal(tree), "marking keeps the key and the tree")

			require.NoError(t, s.Commit(ctx, "8", tree))
			st, err = s.Load(ctx)
			require.NoError(t, err)
			assert.False(t, st.Unverified, "a commit clears the flag")

			require.NoError(t, s.MarkUnverified(ctx))
			require.NoError(t, s.(hierarchy.UnverifiedClearer).ClearUnverified(ctx))
			st, err = s.Load(ctx)
			require.NoError(t, err)
			assert.False(t, st.Unverified, "ClearUnverified clears it without a commit")
			assert.Equal(t, "8", st.SyncKey)
		})
	}
	// The FileStore marks with a small marker file: the snapshot is not rewritten.
	before, err := os.ReadFile(filepath.Join(dir, hierarchy.SnapshotFile))
	require.NoError(t, err)
	require.NoError(t, fs.MarkUnverified(ctx))
	after, err := os.ReadFile(filepath.Join(dir, hierarchy.SnapshotFile))
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.FileExists(t, filepath.Join(dir, hierarchy.UnverifiedFile))
	require.NoError(t, fs.MarkUnverified(ctx))
	reopened, err := hierarchy.OpenFileStore(dir)
	require.NoError(t, err)
	st, err := reopened.Load(ctx)
	require.NoError(t, err)
	assert.True(t, st.Unverified, "the flag survives a restart")
}
