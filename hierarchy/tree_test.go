package hierarchy

import (
	"strings"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFolderValidate(t *testing.T) {
	tests := []struct {
		name string
		f    Folder
		err  error
	}{
		{"top folder", fo("1", "0", "Inbox", inbox), nil},
		{"nested", fo("2", "1", "Sub", mail), nil},
		{"orphan with an empty ParentId", fo("2", "", "Sub", mail), nil},
		{"empty name", fo("2", "0", "", mail), nil},
		{"64-byte ids", fo(strings.Repeat("s", 64), strings.Repeat("p", 64), "x", mail), nil},
		{"64 bytes of multi-byte characters", fo(strings.Repeat("ü", 32), "0", "x", mail), nil},
		{"every type from 1 to 19", fo("1", "0", "x", transport.FolderRecipientCache), nil},
		{"empty ServerId", fo("", "0", "x", mail), ErrEmptyServerID},
		{"65-byte ServerId", fo(strings.Repeat("s", 65), "0", "x", mail), ErrIDTooLong},
		{"65-byte ParentId", fo("1", strings.Repeat("p", 65), "x", mail), ErrIDTooLong},
		{"ServerId 0", fo("0", "0", "x", mail), ErrRootID},
		{"own parent", fo("1", "1", "x", mail), ErrCycle},
		{"type 0", fo("1", "0", "x", 0), ErrInvalidType},
		{"type 20", fo("1", "0", "x", 20), ErrInvalidType},
		{"non-UTF-8 ServerId", fo("\xff", "0", "x", mail), ErrInvalidUTF8},
		{"non-UTF-8 ParentId", fo("1", "\xff", "x", mail), ErrInvalidUTF8},
		{"non-UTF-8 name", fo("1", "0", "\xff", mail), ErrInvalidUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestBuildTree(t *testing.T) {
	tests := []struct {
		name    string
		folders []Folder
		index   int
		err     error
	}{
		{"duplicate", []Folder{fo("1", "0", "A", mail), fo("2", "0", "B", mail), fo("1", "0", "C", mail)}, 2, ErrDuplicate},
		{"invalid type", []Folder{fo("1", "0", "A", mail), fo("2", "0", "B", 99)}, 1, ErrInvalidType},
		{"cycle", []Folder{fo("0a", "0", "A", mail), fo("1", "3", "A", mail), fo("2", "1", "B", mail), fo("3", "2", "C", mail)}, 1, ErrCycle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := BuildTree(tc.folders)
			require.ErrorIs(t, err, tc.err)
			assert.Nil(t, tree)
			var fe *FolderError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.index, fe.Index)
			assert.Equal(t, tc.folders[tc.index], fe.Folder)
			assert.Panics(t, func() { NewTree(tc.folders...) })
		})
	}
	tree, err := BuildTree(nil)
	require.NoError(t, err)
	assert.Zero(t, tree.Len())
}

func TestTreeReads(t *testing.T) {
	tree := NewTree(
		fo("3", "0", "Sent", transport.FolderSentItems),
		fo("1", "0", "Inbox", inbox),
		fo("b", "1", "Work", mail),
		fo("a", "1", "Work", mail),
		fo("c", "1", "Archive", mail),
		fo("o", "gone", "Orphan", mail),
	)
	assert.Equal(t, 6, tree.Len())
	f, ok := tree.Get("b")
	assert.True(t, ok)
	assert.Equal(t, fo("b", "1", "Work", mail), f)
	_, ok = tree.Get("zz")
	assert.False(t, ok)

	var ids []string
	for _, f := range tree.Folders() {
		ids = append(ids, f.ServerID)
	}
	assert.Equal(t, []string{"1", "3", "a", "b", "c", "o"}, ids)

	assert.Equal(t, []Folder{fo("c", "1", "Archive", mail), fo("a", "1", "Work", mail), fo("b", "1", "Work", mail)}, tree.Children("1"))
	assert.Equal(t, []Folder{fo("1", "0", "Inbox", inbox), fo("3", "0", "Sent", transport.FolderSentItems)}, tree.Children(RootID))
	assert.Empty(t, tree.Children("3"))
	assert.Equal(t, []string{"o"}, tree.Orphans())

	// With the children index built (by a Delete), the answers are the same.
	_, err := tree.Apply([]transport.FolderChange{del("nothing")})
	require.NoError(t, err)
	require.NotNil(t, tree.kids)
	assert.Equal(t, []Folder{fo("c", "1", "Archive", mail), fo("a", "1", "Work", mail), fo("b", "1", "Work", mail)}, tree.Children("1"))
	assert.Equal(t, []Folder{fo("o", "gone", "Orphan", mail)}, tree.Children("gone"))
}

func TestZeroAndNilTrees(t *testing.T) {
	var zero Tree
	assert.Zero(t, zero.Len())
	assert.Empty(t, zero.Folders())
	_, err := zero.Apply([]transport.FolderChange{add("1", "0", "Inbox", inbox), del("x")})
	require.NoError(t, err)
	assert.Equal(t, 1, zero.Len())

	var nilTree *Tree
	assert.Zero(t, nilTree.Len())
	assert.Nil(t, nilTree.Folders())
	assert.Nil(t, nilTree.Children(RootID))
	assert.Nil(t, nilTree.Orphans())
	assert.Nil(t, nilTree.LocalAdds())
	assert.False(t, nilTree.IsLocal("x"))
	_, ok := nilTree.Get("x")
	assert.False(t, ok)
	assert.True(t, nilTree.Equal(&Tree{}))
	assert.True(t, (&Tree{}).Equal(nilTree))
	assert.False(t, nilTree.Equal(&zero))
	assert.Zero(t, nilTree.Clone().Len())
}

func TestCloneIsIndependent(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Sub", mail))
	require.NoError(t, tree.AddLocal(fo("l", "1", "Mine", mail)))
	c := tree.Clone()
	requireSameTree(t, tree, c)
	assert.Equal(t, tree.LocalAdds(), c.LocalAdds())

	_, err := c.Apply([]transport.FolderChange{del("1")})
	require.NoError(t, err)
	assert.Zero(t, c.Len())
	assert.Equal(t, 3, tree.Len())
	assert.True(t, tree.IsLocal("l"))
}

func TestEqualAndDiff(t *testing.T) {
	a := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "0", "A", mail), fo("3", "0", "Gone", mail))
	b := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "B", transport.FolderUserNotes), fo("4", "0", "New", mail))
	assert.False(t, a.Equal(b))
	assert.Equal(t, []string{
		`~ "2": ParentID "0" -> "1", DisplayName "A" -> "B", Type 12 -> 17`,
		`- "3" in "0" named "Gone", type 12 (user-created mail folder)`,
		`+ "4" in "0" named "New", type 12 (user-created mail folder)`,
	}, a.Diff(b))
	assert.Empty(t, a.Diff(a.Clone()))
	assert.True(t, a.Equal(a.Clone()))

	// Local-add marks do not count.
	c := a.Clone()
	require.NoError(t, c.AddLocal(fo("l", "0", "Mine", mail)))
	d := a.Clone()
	_, err := d.Apply([]transport.FolderChange{add("l", "0", "Mine", mail)})
	require.NoError(t, err)
	assert.True(t, c.Equal(d))
}
