package hierarchy

import (
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddLocalErrors(t *testing.T) {
	tests := []struct {
		name string
		f    Folder
		err  error
	}{
		{"invalid type", fo("n", "0", "N", 0), ErrInvalidType},
		{"empty ServerId", fo("", "0", "N", mail), ErrEmptyServerID},
		{"existing ServerId", fo("1", "0", "N", mail), ErrExists},
		{"unknown parent", fo("n", "nope", "N", mail), ErrUnknownParent},
		{"empty parent", fo("n", "", "N", mail), ErrUnknownParent},
		{"closing a cycle through orphans", fo("x", "o2", "X", mail), ErrCycle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// o1 and o2 are orphans below the missing "x".
			tree := NewTree(fo("1", "0", "Inbox", inbox), fo("o1", "x", "O1", mail), fo("o2", "o1", "O2", mail))
			before := tree.Clone()
			err := tree.AddLocal(tc.f)
			require.ErrorIs(t, err, tc.err)
			var fe *FolderError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, -1, fe.Index)
			requireSameTree(t, before, tree)
			assert.Empty(t, tree.LocalAdds())
		})
	}
}

func TestLocalAddsRollback(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Server", mail))
	server := tree.Clone()
	require.NoError(t, tree.AddLocal(fo("l2", "1", "Local B", mail)))
	require.NoError(t, tree.AddLocal(fo("l1", "0", "Local A", mail)))
	require.NoError(t, tree.AddLocal(fo("l3", "l1", "Local below local", mail)))
	assert.Equal(t, 5, tree.Len())
	assert.True(t, tree.IsLocal("l1"))
	assert.False(t, tree.IsLocal("2"))
	want := []Folder{fo("l1", "0", "Local A", mail), fo("l2", "1", "Local B", mail), fo("l3", "l1", "Local below local", mail)}
	assert.Equal(t, want, tree.LocalAdds())

	// Status 9: roll back, and the server's folders are what is left.
	assert.Equal(t, want, tree.RollbackLocal())
	requireSameTree(t, server, tree)
	assert.Empty(t, tree.LocalAdds())
	assert.Empty(t, tree.RollbackLocal(), "a second rollback has nothing to do")
}

func TestRollbackLeavesServerFoldersBelowLocalOnes(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox))
	require.NoError(t, tree.AddLocal(fo("l", "1", "Local", mail)))
	_, err := tree.Apply([]transport.FolderChange{add("s", "l", "Server child", mail)})
	require.NoError(t, err)
	assert.Equal(t, []Folder{fo("l", "1", "Local", mail)}, tree.RollbackLocal())
	assert.Equal(t, []string{"s"}, tree.Orphans())
}

func TestClearLocalKeepsFolders(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox))
	require.NoError(t, tree.AddLocal(fo("l", "1", "Local", mail)))
	tree.ClearLocal()
	assert.Empty(t, tree.LocalAdds())
	assert.Empty(t, tree.RollbackLocal())
	assert.Equal(t, 2, tree.Len())
}

// TestStatus9Recovery walks DESIGN rule 5 through: local adds, Status 9, roll back,
// full hierarchy, reconcile (never wipe first), commit.
func TestStatus9Recovery(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Projects", mail), fo("3", "0", "Old", mail))
	require.NoError(t, tree.AddLocal(fo("new", "2", "Created here", mail)))

	rolledBack := tree.RollbackLocal()
	assert.Len(t, rolledBack, 1)
	full := []transport.FolderChange{
		add("1", "0", "Inbox", inbox), add("2", "1", "Projects 2026", mail), add("new", "2", "Created here", mail), add("4", "0", "Other", mail),
	}
	rep, err := tree.Reconcile(full)
	require.NoError(t, err)
	assert.Equal(t, ReconcileReport{
		Kept: 1, Updated: 1, Added: 2, Removed: 1,
		UpdatedIDs: []string{"2"}, AddedIDs: []string{"4", "new"}, RemovedIDs: []string{"3"},
	}, rep)
	assert.Equal(t, 4, tree.Len())
}
