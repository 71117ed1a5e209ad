package hierarchy

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/require"
)

// Short constructors for tables.

func fo(id, parent, name string, typ transport.FolderType) Folder {
	return Folder{ServerID: id, ParentID: parent, DisplayName: name, Type: typ}
}

func add(id, parent, name string, typ transport.FolderType) transport.FolderChange {
	return transport.FolderChange{Op: transport.OpAdd, ServerID: id, ParentID: parent, DisplayName: name, Type: typ}
}

func upd(id, parent, name string, typ transport.FolderType) transport.FolderChange {
	return transport.FolderChange{Op: transport.OpUpdate, ServerID: id, ParentID: parent, DisplayName: name, Type: typ}
}

func del(id string) transport.FolderChange {
	return transport.FolderChange{Op: transport.OpDelete, ServerID: id}
}

const (
	mail  = transport.FolderUserMail
	inbox = transport.FolderInbox
)

// requireSameTree fails with a readable diff unless got holds exactly want's folders.
func requireSameTree(t testing.TB, want, got *Tree, msgAndArgs ...any) {
	t.Helper()
	if !want.Equal(got) {
		require.Fail(t, fmt.Sprintf("trees differ (- want, + got):\n%v", want.Diff(got)), msgAndArgs...)
	}
}

// bigChanges returns the Changes of the 10,000-folder initial FolderSync response the
// project's benchmarks use (internal/testutil): SOGo-shaped ServerIds, nested folders,
// all Types, display names in many scripts.
func bigChanges(tb testing.TB, n int, seed int64) []transport.FolderChange {
	tb.Helper()
	resp, err := transport.UnmarshalFolderSyncResponse(testutil.FolderSyncBody(tb, n, seed, false))
	require.NoError(tb, err)
	require.Len(tb, resp.Changes, n)
	return resp.Changes
}

// bigTree returns the tree of bigChanges.
func bigTree(tb testing.TB, n int, seed int64) *Tree {
	tb.Helper()
	tree := &Tree{}
	_, err := tree.Apply(bigChanges(tb, n, seed))
	require.NoError(tb, err)
	require.Equal(tb, n, tree.Len())
	return tree
}

// Random change lists over a small pool of ServerIds, so that ids collide, parents
// come and go, and cycles and orphans happen.

var (
	randIDs     = []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	randParents = append([]string{RootID, RootID, RootID, "gone"}, randIDs...)
	randNames   = []string{"Inbox", "Ünïcödé", "收件箱", "📁", "x"}
)

func randFolder(rng *rand.Rand, id string) Folder {
	parent := randParents[rng.Intn(len(randParents))]
	for parent == id {
		parent = randParents[rng.Intn(len(randParents))]
	}
	return Folder{
		ServerID:    id,
		ParentID:    parent,
		DisplayName: randNames[rng.Intn(len(randNames))],
		Type:        transport.FolderType(1 + rng.Intn(19)),
	}
}

func randChanges(rng *rand.Rand, n int) []transport.FolderChange {
	out := make([]transport.FolderChange, n)
	for i := range out {
		id := randIDs[rng.Intn(len(randIDs))]
		switch rng.Intn(3) {
		case 0:
			out[i] = del(id)
		default:
			f := randFolder(rng, id)
			op := transport.OpAdd
			if rng.Intn(2) == 0 {
				op = transport.OpUpdate
			}
			out[i] = transport.FolderChange{Op: op, ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: f.Type}
		}
	}
	return out
}

// randTree returns a valid random tree (orphans allowed) over the pool.
func randTree(rng *rand.Rand) *Tree {
	for {
		var folders []Folder
		for _, id := range randIDs {
			if rng.Intn(3) > 0 {
				folders = append(folders, randFolder(rng, id))
			}
		}
		if t, err := BuildTree(folders); err == nil {
			return t
		}
	}
}

// refApply is a reference model of Apply, written for clarity, not speed: the
// documented semantics, step by step, on a plain map.
func refApply(start *Tree, changes []transport.FolderChange) (map[string]Folder, ApplyReport, bool) {
	m := map[string]Folder{}
	for _, f := range start.Folders() {
		m[f.ServerID] = f
	}
	spared := map[string]bool{}
	for _, c := range changes {
		if c.Op != transport.OpDelete {
			if c.ParentID == c.ServerID {
				return nil, ApplyReport{}, false // invalid whatever the tree
			}
			spared[c.ServerID] = true
		}
	}
	var rep ApplyReport
	for _, c := range changes {
		if c.Op == transport.OpDelete {
			if _, ok := m[c.ServerID]; ok {
				rep.Deleted++
				delete(m, c.ServerID)
			} else {
				rep.DeletesOfUnknown++
			}
			removed := map[string]bool{c.ServerID: true}
			for more := true; more; {
				more = false
				for id, f := range m {
					if removed[f.ParentID] && !spared[id] {
						delete(m, id)
						removed[id] = true
						rep.CascadeDeleted++
						more = true
					}
				}
			}
			continue
		}
		f := Folder{ServerID: c.ServerID, ParentID: c.ParentID, DisplayName: c.DisplayName, Type: c.Type}
		if old, ok := m[c.ServerID]; ok {
			rep.Updated++
			if c.Op == transport.OpAdd {
				rep.AddsAsUpdates++
			}
			if old == f {
				rep.Unchanged++
			}
		} else {
			rep.Added++
			if c.Op == transport.OpUpdate {
				rep.UpdatesAsAdds++
			}
		}
		m[c.ServerID] = f
	}
	// A cycle anywhere fails the whole list.
	for id := range m {
		p := id
		for range len(m) + 1 {
			f, ok := m[p]
			if !ok {
				break
			}
			p = f.ParentID
		}
		if _, ok := m[p]; ok {
			return nil, ApplyReport{}, false
		}
	}
	for id, f := range m {
		if _, ok := m[f.ParentID]; !ok && f.ParentID != RootID {
			rep.Orphans = append(rep.Orphans, id)
		}
	}
	slices.Sort(rep.Orphans)
	return m, rep, true
}

func treeOf(m map[string]Folder) *Tree {
	t := &Tree{}
	for _, f := range m {
		t.put(f)
	}
	return t
}

// checkInvariants fails unless tree's internal state is consistent: every folder
// valid, no cycle, local marks on present folders only, and the children index (if
// built) exactly the one the folders give.
func checkInvariants(t testing.TB, tree *Tree) {
	t.Helper()
	_, err := BuildTree(tree.Folders())
	require.NoError(t, err)
	for id := range tree.local {
		_, ok := tree.folders[id]
		require.True(t, ok, "local mark on absent folder %q", id)
	}
	if tree.kids == nil {
		return
	}
	want := &Tree{folders: tree.folders}
	want.buildKids()
	require.Equal(t, want.kids, tree.kids, "children index out of date")
}
