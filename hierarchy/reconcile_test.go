package hierarchy

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReconcile(t *testing.T) {
	tests := []struct {
		name   string
		start  []Folder
		full   []transport.FolderChange
		want   []Folder
		report ReconcileReport
	}{
		{
			name:   "from an empty tree everything is added",
			full:   []transport.FolderChange{add("1", "0", "Inbox", inbox), add("2", "1", "Sub", mail)},
			want:   []Folder{fo("1", "0", "Inbox", inbox), fo("2", "1", "Sub", mail)},
			report: ReconcileReport{Added: 2, AddedIDs: []string{"1", "2"}},
		},
		{
			name:   "the same hierarchy keeps everything",
			start:  []Folder{fo("1", "0", "Inbox", inbox), fo("2", "1", "Sub", mail)},
			full:   []transport.FolderChange{add("2", "1", "Sub", mail), add("1", "0", "Inbox", inbox)},
			want:   []Folder{fo("1", "0", "Inbox", inbox), fo("2", "1", "Sub", mail)},
			report: ReconcileReport{Kept: 2},
		},
		{
			name:  "keep, update, add and remove",
			start: []Folder{fo("1", "0", "Inbox", inbox), fo("2", "1", "Old name", mail), fo("3", "0", "Moved", mail), fo("4", "0", "Gone", mail), fo("5", "4", "Gone too", mail)},
			full: []transport.FolderChange{
				add("1", "0", "Inbox", inbox), add("2", "1", "New name", mail), add("3", "1", "Moved", mail), add("6", "0", "New", mail),
			},
			want: []Folder{fo("1", "0", "Inbox", inbox), fo("2", "1", "New name", mail), fo("3", "1", "Moved", mail), fo("6", "0", "New", mail)},
			report: ReconcileReport{
				Kept: 1, Updated: 2, Added: 1, Removed: 2,
				UpdatedIDs: []string{"2", "3"}, AddedIDs: []string{"6"}, RemovedIDs: []string{"4", "5"},
			},
		},
		{
			name:  "a completely different set of mapped data (MS-ASCMD 2.2.3.25)",
			start: []Folder{fo("a", "0", "Inbox", inbox), fo("b", "a", "Sub", mail)},
			full:  []transport.FolderChange{add("x", "0", "Inbox", inbox), add("y", "x", "Sub", mail)},
			want:  []Folder{fo("x", "0", "Inbox", inbox), fo("y", "x", "Sub", mail)},
			report: ReconcileReport{
				Added: 2, Removed: 2, AddedIDs: []string{"x", "y"}, RemovedIDs: []string{"a", "b"},
			},
		},
		{
			name:  "a folder that returns under a parent that does not is kept, as an orphan",
			start: []Folder{fo("p", "0", "P", mail), fo("c", "p", "C", mail)},
			full:  []transport.FolderChange{add("c", "p", "C", mail)},
			want:  []Folder{fo("c", "p", "C", mail)},
			report: ReconcileReport{
				Kept: 1, Removed: 1, RemovedIDs: []string{"p"}, Orphans: []string{"c"},
			},
		},
		{
			name:   "an empty full hierarchy removes everything",
			start:  []Folder{fo("1", "0", "Inbox", inbox)},
			full:   nil,
			want:   nil,
			report: ReconcileReport{Removed: 1, RemovedIDs: []string{"1"}},
		},
		{
			name:   "a repeated ServerId: the last one wins",
			start:  []Folder{fo("1", "0", "Inbox", inbox)},
			full:   []transport.FolderChange{add("1", "0", "First", inbox), add("1", "0", "Inbox", inbox)},
			want:   []Folder{fo("1", "0", "Inbox", inbox)},
			report: ReconcileReport{Kept: 1},
		},
		{
			name:   "updates and deletes in a full hierarchy are taken in document order",
			start:  []Folder{fo("1", "0", "Inbox", inbox), fo("2", "0", "B", mail)},
			full:   []transport.FolderChange{upd("1", "0", "Inbox", inbox), add("2", "0", "B", mail), del("2")},
			want:   []Folder{fo("1", "0", "Inbox", inbox)},
			report: ReconcileReport{Kept: 1, Removed: 1, RemovedIDs: []string{"2"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := NewTree(tc.start...)
			rep, err := tree.Reconcile(tc.full)
			require.NoError(t, err)
			requireSameTree(t, NewTree(tc.want...), tree)
			assert.Equal(t, tc.report, rep)
		})
	}
}

func TestReconcileInvalidLeavesTreeUnchanged(t *testing.T) {
	for _, full := range [][]transport.FolderChange{
		{add("1", "0", "Inbox", inbox), add("", "0", "X", mail)},
		{add("1", "0", "Inbox", inbox), add("2", "0", "X", 42)},
		{add("1", "2", "Inbox", inbox), add("2", "1", "X", mail)},
	} {
		tree := NewTree(fo("1", "0", "Inbox", inbox), fo("9", "0", "Nine", mail))
		require.NoError(t, tree.AddLocal(fo("l", "0", "Mine", mail)))
		before := tree.Clone()
		rep, err := tree.Reconcile(full)
		var ce *ChangeError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 1, ce.Index)
		assert.Zero(t, rep)
		requireSameTree(t, before, tree)
		assert.Equal(t, before.LocalAdds(), tree.LocalAdds())
	}
}

func TestReconcileClearsLocalMarks(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox))
	require.NoError(t, tree.AddLocal(fo("kept", "1", "Mine", mail)))
	require.NoError(t, tree.AddLocal(fo("dropped", "1", "Mine too", mail)))
	rep, err := tree.Reconcile([]transport.FolderChange{add("1", "0", "Inbox", inbox), add("kept", "1", "Mine", mail)})
	require.NoError(t, err)
	assert.Equal(t, []string{"dropped"}, rep.RemovedIDs)
	assert.Empty(t, tree.LocalAdds())
	assert.Equal(t, 2, tree.Len())
}

// TestReconcileProperty checks Reconcile against a brute-force expectation on
// random trees and random full hierarchies over a small pool of ServerIds: the
// result is the full hierarchy, no folder whose ServerId returns is ever removed,
// and the report counts exactly.
func TestReconcileProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	var done int
	for i := range 500 {
		start := randTree(rng)
		if rng.Intn(2) == 0 {
			_ = start.AddLocal(Folder{ServerID: "local", ParentID: RootID, DisplayName: "Mine", Type: mail})
		}
		var full []transport.FolderChange
		for range rng.Intn(10) {
			f := randFolder(rng, randIDs[rng.Intn(len(randIDs))])
			full = append(full, add(f.ServerID, f.ParentID, f.DisplayName, f.Type))
		}
		tree := start.Clone()
		rep, err := tree.Reconcile(full)

		// Brute force: the last Add of each ServerId wins; a cycle refuses all.
		want := map[string]Folder{}
		for _, c := range full {
			want[c.ServerID] = Folder{ServerID: c.ServerID, ParentID: c.ParentID, DisplayName: c.DisplayName, Type: c.Type}
		}
		if _, berr := BuildTree(mapValues(want)); berr != nil {
			require.ErrorIs(t, berr, ErrCycle, "case %d", i)
			require.ErrorIs(t, err, ErrCycle, "case %d", i)
			assert.Zero(t, rep)
			requireSameTree(t, start, tree, "case %d: a refused Reconcile changes nothing", i)
			continue
		}
		require.NoError(t, err, "case %d", i)
		done++
		var wantRep ReconcileReport
		for id, f := range want {
			switch old, ok := start.Get(id); {
			case !ok:
				wantRep.Added++
				wantRep.AddedIDs = append(wantRep.AddedIDs, id)
			case old == f:
				wantRep.Kept++
			default:
				wantRep.Updated++
				wantRep.UpdatedIDs = append(wantRep.UpdatedIDs, id)
			}
		}
		for _, f := range start.Folders() {
			if _, ok := want[f.ServerID]; !ok {
				wantRep.Removed++
				wantRep.RemovedIDs = append(wantRep.RemovedIDs, f.ServerID)
			}
		}
		slices.Sort(wantRep.AddedIDs)
		slices.Sort(wantRep.UpdatedIDs)
		wantRep.Orphans = treeOf(want).Orphans()
		assert.Equal(t, wantRep, rep, "case %d", i)
		requireSameTree(t, treeOf(want), tree, "case %d", i)
		for id := range want {
			_, ok := tree.Get(id)
			require.True(t, ok, "case %d: %q came back but was removed", i, id)
		}
		assert.Equal(t, rep.Kept+rep.Updated+rep.Added, tree.Len())
		assert.Equal(t, rep.Kept+rep.Updated+rep.Removed, start.Len())
	}
	assert.Greater(t, done, 400)
}

func mapValues(m map[string]Folder) []Folder {
	out := make([]Folder, 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	return out
}
