package hierarchy_test

import (
	"context"
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
