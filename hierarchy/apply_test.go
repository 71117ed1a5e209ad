package hierarchy

import (
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApplyRules(t *testing.T) {
	inboxF := fo("1", "0", "Inbox", inbox)
	tests := []struct {
		name    string
		start   []Folder
		changes []transport.FolderChange
		want    []Folder
		report  ApplyReport
	}{
		{
			name:    "add to an empty tree",
			changes: []transport.FolderChange{add("1", "0", "Inbox", inbox), add("2", "1", "Sub", mail)},
			want:    []Folder{inboxF, fo("2", "1", "Sub", mail)},
			report:  ApplyReport{Added: 2},
		},
		{
			name:    "no changes",
			start:   []Folder{inboxF},
			changes: nil,
			want:    []Folder{inboxF},
		},
		{
			name:    "add of a known ServerId acts as an update",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{add("1", "0", "Posteingang", inbox)},
			want:    []Folder{fo("1", "0", "Posteingang", inbox)},
			report:  ApplyReport{Updated: 1, AddsAsUpdates: 1},
		},
		{
			name:    "add of a known ServerId with the same values is unchanged",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{add("1", "0", "Inbox", inbox)},
			want:    []Folder{inboxF},
			report:  ApplyReport{Updated: 1, AddsAsUpdates: 1, Unchanged: 1},
		},
		{
			name:    "update renames, moves and retypes",
			start:   []Folder{inboxF, fo("2", "0", "A", mail)},
			changes: []transport.FolderChange{upd("2", "1", "B", transport.FolderUserTasks)},
			want:    []Folder{inboxF, fo("2", "1", "B", transport.FolderUserTasks)},
			report:  ApplyReport{Updated: 1},
		},
		{
			name:    "update of an unknown ServerId acts as an add",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{upd("2", "1", "New", mail)},
			want:    []Folder{inboxF, fo("2", "1", "New", mail)},
			report:  ApplyReport{Added: 1, UpdatesAsAdds: 1},
		},
		{
			name:    "delete of a known folder",
			start:   []Folder{inboxF, fo("2", "0", "A", mail)},
			changes: []transport.FolderChange{del("2")},
			want:    []Folder{inboxF},
			report:  ApplyReport{Deleted: 1},
		},
		{
			name:    "delete of an unknown ServerId is a no-op",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{del("nope")},
			want:    []Folder{inboxF},
			report:  ApplyReport{DeletesOfUnknown: 1},
		},
		{
			name:    "delete twice: the second is of an unknown ServerId",
			start:   []Folder{inboxF, fo("2", "0", "A", mail)},
			changes: []transport.FolderChange{del("2"), del("2")},
			want:    []Folder{inboxF},
			report:  ApplyReport{Deleted: 1, DeletesOfUnknown: 1},
		},
		{
			name: "delete cascades to every folder below",
			start: []Folder{
				inboxF, fo("p", "0", "P", mail), fo("c1", "p", "C1", mail), fo("c2", "p", "C2", mail),
				fo("g", "c1", "G", mail), fo("gg", "g", "GG", mail), fo("other", "0", "O", mail),
			},
			changes: []transport.FolderChange{del("p")},
			want:    []Folder{inboxF, fo("other", "0", "O", mail)},
			report:  ApplyReport{Deleted: 1, CascadeDeleted: 4},
		},
		{
			name:    "a deleted child's own delete, after its parent's, is of an unknown ServerId",
			start:   []Folder{fo("p", "0", "P", mail), fo("c", "p", "C", mail)},
			changes: []transport.FolderChange{del("p"), del("c")},
			want:    nil,
			report:  ApplyReport{Deleted: 1, CascadeDeleted: 1, DeletesOfUnknown: 1},
		},
		{
			name:    "children deleted before their parent",
			start:   []Folder{fo("p", "0", "P", mail), fo("c", "p", "C", mail)},
			changes: []transport.FolderChange{del("c"), del("p")},
			want:    nil,
			report:  ApplyReport{Deleted: 2},
		},
		{
			name:    "delete then add of the same ServerId leaves it present (document order)",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{del("1"), add("1", "0", "Inbox 2", inbox)},
			want:    []Folder{fo("1", "0", "Inbox 2", inbox)},
			report:  ApplyReport{Deleted: 1, Added: 1},
		},
		{
			name:    "add then delete of the same ServerId leaves it absent",
			changes: []transport.FolderChange{add("x", "0", "X", mail), del("x")},
			want:    nil,
			report:  ApplyReport{Added: 1, Deleted: 1},
		},
		{
			name:    "a folder moved out before its old parent is deleted survives",
			start:   []Folder{fo("p", "0", "P", mail), fo("q", "0", "Q", mail), fo("c", "p", "C", mail)},
			changes: []transport.FolderChange{upd("c", "q", "C", mail), del("p")},
			want:    []Folder{fo("q", "0", "Q", mail), fo("c", "q", "C", mail)},
			report:  ApplyReport{Updated: 1, Deleted: 1},
		},
		{
			name:    "a folder moved out after its old parent is deleted survives (cascade spares named folders)",
			start:   []Folder{fo("p", "0", "P", mail), fo("q", "0", "Q", mail), fo("c", "p", "C", mail), fo("g", "c", "G", mail)},
			changes: []transport.FolderChange{del("p"), upd("c", "q", "C", mail)},
			want:    []Folder{fo("q", "0", "Q", mail), fo("c", "q", "C", mail), fo("g", "c", "G", mail)},
			report:  ApplyReport{Deleted: 1, Updated: 1},
		},
		{
			name:    "a folder added under a parent the same response deletes stays, as an orphan",
			start:   []Folder{fo("p", "0", "P", mail)},
			changes: []transport.FolderChange{add("c", "p", "C", mail), del("p")},
			want:    []Folder{fo("c", "p", "C", mail)},
			report:  ApplyReport{Added: 1, Deleted: 1, Orphans: []string{"c"}},
		},
		{
			name:    "delete of an unknown ServerId removes the orphans below it",
			start:   []Folder{inboxF, fo("c", "x", "C", mail), fo("g", "c", "G", mail)},
			changes: []transport.FolderChange{del("x")},
			want:    []Folder{inboxF},
			report:  ApplyReport{DeletesOfUnknown: 1, CascadeDeleted: 2},
		},
		{
			name:    "child before its parent: an orphan until the parent arrives",
			changes: []transport.FolderChange{add("c", "p", "C", mail), add("p", "0", "P", mail)},
			want:    []Folder{fo("c", "p", "C", mail), fo("p", "0", "P", mail)},
			report:  ApplyReport{Added: 2},
		},
		{
			name:    "orphans are reported, sorted",
			start:   []Folder{inboxF},
			changes: []transport.FolderChange{add("z", "missing", "Z", mail), add("y", "1", "Y", mail), add("a", "", "A", mail)},
			want:    []Folder{inboxF, fo("z", "missing", "Z", mail), fo("y", "1", "Y", mail), fo("a", "", "A", mail)},
			report:  ApplyReport{Added: 3, Orphans: []string{"a", "z"}},
		},
		{
			name:    "a transient cycle that the response resolves is fine",
			start:   []Folder{fo("a", "0", "A", mail), fo("b", "a", "B", mail)},
			changes: []transport.FolderChange{upd("a", "b", "A", mail), upd("b", "0", "B", mail)},
			want:    []Folder{fo("a", "b", "A", mail), fo("b", "0", "B", mail)},
			report:  ApplyReport{Updated: 2},
		},
		{
			name:    "moving a subtree",
			start:   []Folder{fo("a", "0", "A", mail), fo("b", "a", "B", mail), fo("c", "b", "C", mail), fo("d", "0", "D", mail)},
			changes: []transport.FolderChange{upd("b", "d", "B", mail)},
			want:    []Folder{fo("a", "0", "A", mail), fo("b", "d", "B", mail), fo("c", "b", "C", mail), fo("d", "0", "D", mail)},
			report:  ApplyReport{Updated: 1},
		},
		{
			name:    "unicode and markup in names",
			changes: []transport.FolderChange{add("mail%2F1", "0", "受信トレイ <R&D> \"q\" 📁", mail)},
			want:    []Folder{fo("mail%2F1", "0", "受信トレイ <R&D> \"q\" 📁", mail)},
			report:  ApplyReport{Added: 1},
		},
		{
			name:    "a 64-byte ServerId is the longest allowed",
			changes: []transport.FolderChange{add(strings.Repeat("x", 64), "0", "Long", mail)},
			want:    []Folder{fo(strings.Repeat("x", 64), "0", "Long", mail)},
			report:  ApplyReport{Added: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := NewTree(tc.start...)
			rep, err := tree.Apply(tc.changes)
			require.NoError(t, err)
			requireSameTree(t, NewTree(tc.want...), tree)
			assert.Equal(t, tc.report, rep)

			// The reference model agrees.
			m, refRep, ok := refApply(NewTree(tc.start...), tc.changes)
			require.True(t, ok)
			requireSameTree(t, treeOf(m), tree, "reference model")
			assert.Equal(t, refRep, rep, "reference model")

			// Idempotence: the same changes again change nothing.
			again := tree.Clone()
			_, err = again.Apply(tc.changes)
			require.NoError(t, err)
			requireSameTree(t, tree, again, "applied twice")
		})
	}
}

// TestApplyIdempotenceCounterexamples holds the change lists that made a plain
// sequential Apply (cascade only from known folders, cascade into any folder) give a
// different tree the second time.
func TestApplyIdempotenceCounterexamples(t *testing.T) {
	tests := []struct {
		name    string
		start   []Folder
		changes []transport.FolderChange
		want    []Folder
	}{
		{
			name:    "add C under P, delete P, add P",
			changes: []transport.FolderChange{add("c", "p", "C", mail), del("p"), add("p", "0", "P", mail)},
			want:    []Folder{fo("c", "p", "C", mail), fo("p", "0", "P", mail)},
		},
		{
			name:    "delete then add X, with an orphan below X",
			start:   []Folder{fo("c", "x", "C", mail)},
			changes: []transport.FolderChange{del("x"), add("x", "0", "X", mail)},
			want:    []Folder{fo("x", "0", "X", mail)},
		},
		{
			name:    "delete X, add Y under X, with an orphan below Y",
			start:   []Folder{fo("x", "0", "X", mail), fo("z", "y", "Z", mail)},
			changes: []transport.FolderChange{del("x"), add("y", "x", "Y", mail), add("x", "0", "X", mail)},
			want:    []Folder{fo("z", "y", "Z", mail), fo("y", "x", "Y", mail), fo("x", "0", "X", mail)},
		},
		{
			name:    "add C under P then delete P",
			start:   []Folder{fo("p", "0", "P", mail)},
			changes: []transport.FolderChange{add("c", "p", "C", mail), del("p")},
			want:    []Folder{fo("c", "p", "C", mail)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tree := NewTree(tc.start...)
			_, err := tree.Apply(tc.changes)
			require.NoError(t, err)
			requireSameTree(t, NewTree(tc.want...), tree, "once")
			_, err = tree.Apply(tc.changes)
			require.NoError(t, err)
			requireSameTree(t, NewTree(tc.want...), tree, "twice")
		})
	}
}

func TestApplyInvalidIsAllOrNothing(t *testing.T) {
	start := func() *Tree {
		return NewTree(fo("1", "0", "Inbox", inbox), fo("a", "0", "A", mail), fo("b", "a", "B", mail), fo("c", "b", "C", mail))
	}
	good := add("new", "0", "New", mail)
	tests := []struct {
		name    string
		changes []transport.FolderChange
		index   int
		err     error
	}{
		{"empty ServerId in an add", []transport.FolderChange{good, add("", "0", "X", mail)}, 1, ErrEmptyServerID},
		{"empty ServerId in a delete", []transport.FolderChange{del("a"), del("")}, 1, ErrEmptyServerID},
		{"65-byte ServerId", []transport.FolderChange{good, add(strings.Repeat("x", 65), "0", "X", mail)}, 1, ErrIDTooLong},
		{"65-byte ParentId", []transport.FolderChange{good, add("x", strings.Repeat("p", 65), "X", mail)}, 1, ErrIDTooLong},
		{"ServerId 0", []transport.FolderChange{good, add("0", "0", "Root", mail)}, 1, ErrRootID},
		{"delete of ServerId 0", []transport.FolderChange{del("0")}, 0, ErrRootID},
		{"type 0", []transport.FolderChange{good, add("x", "0", "X", 0)}, 1, ErrInvalidType},
		{"type 20", []transport.FolderChange{good, upd("x", "0", "X", 20)}, 1, ErrInvalidType},
		{"type 255 after deletes", []transport.FolderChange{del("a"), del("1"), upd("x", "0", "X", 255)}, 2, ErrInvalidType},
		{"no op", []transport.FolderChange{good, {ServerID: "x", ParentID: "0", DisplayName: "X", Type: mail}}, 1, ErrInvalidOp},
		{"op 4", []transport.FolderChange{good, {Op: 4, ServerID: "x"}}, 1, ErrInvalidOp},
		{"invalid UTF-8 name", []transport.FolderChange{good, add("x", "0", "bad \xff", mail)}, 1, ErrInvalidUTF8},
		{"invalid UTF-8 ServerId", []transport.FolderChange{add("\xc3", "0", "X", mail)}, 0, ErrInvalidUTF8},
		{"invalid UTF-8 ParentId", []transport.FolderChange{add("x", "\xc3", "X", mail)}, 0, ErrInvalidUTF8},
		{"own parent", []transport.FolderChange{good, upd("a", "a", "A", mail)}, 1, ErrCycle},
		{"two-folder cycle", []transport.FolderChange{good, upd("a", "b", "A", mail)}, 1, ErrCycle},
		{"three-folder cycle after deletes and adds", []transport.FolderChange{del("1"), good, add("d", "c", "D", mail), upd("a", "d", "A", mail)}, 3, ErrCycle},
		{"cycle of new folders", []transport.FolderChange{add("x", "y", "X", mail), add("y", "x", "Y", mail)}, 1, ErrCycle},
		{"cycle blamed on the last change of a folder on it", []transport.FolderChange{upd("a", "b", "A", mail), good, upd("a", "c", "A", mail)}, 2, ErrCycle},
		{"cycle not blamed on a folder below it", []transport.FolderChange{upd("a", "b", "A", mail), add("x", "a", "X", mail)}, 0, ErrCycle},
	}
	for _, tc := range tests {
		for _, indexed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/indexed=%v", tc.name, indexed), func(t *testing.T) {
				testApplyRefused(t, start(), indexed, tc.changes, tc.index, tc.err)
			})
		}
	}
}

func testApplyRefused(t *testing.T, tree *Tree, indexed bool, changes []transport.FolderChange, index int, wantErr error) {
	require.NoError(t, tree.AddLocal(fo("local", "1", "Mine", mail)))
	if indexed {
		tree.buildKids()
	}
	before := tree.Clone()
	rep, err := tree.Apply(changes)
	require.Error(t, err)
	assert.ErrorIs(t, err, wantErr)
	var ce *ChangeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, index, ce.Index)
	assert.Equal(t, changes[index], ce.Change)
	assert.Zero(t, rep)
	requireSameTree(t, before, tree)
	assert.Equal(t, before.LocalAdds(), tree.LocalAdds(), "local marks restored")
	assert.Equal(t, before.Children("1"), tree.Children("1"))
	checkInvariants(t, tree)
	// The tree still works.
	_, err = tree.Apply([]transport.FolderChange{del("a")})
	require.NoError(t, err)
	assert.Equal(t, 2, tree.Len())
	checkInvariants(t, tree)
}

func TestApplyCycleMessageNamesTheFolders(t *testing.T) {
	tree := NewTree(fo("a", "0", "A", mail), fo("b", "a", "B", mail))
	_, err := tree.Apply([]transport.FolderChange{upd("a", "b", "A", mail)})
	require.ErrorIs(t, err, ErrCycle)
	assert.Contains(t, err.Error(), `"a" -> "b" -> "a"`)
}

func TestApplyDeepChain(t *testing.T) {
	// A 5,000-deep chain: the cycle check falls back to its memoized walk and stays
	// linear; closing the chain into a ring is caught; deleting the top removes all.
	const n = 5000
	changes := make([]transport.FolderChange, n)
	changes[0] = add("f0", "0", "F", mail)
	for i := 1; i < n; i++ {
		changes[i] = add(fmtID(i), fmtID(i-1), "F", mail)
	}
	tree := &Tree{}
	_, err := tree.Apply(changes)
	require.NoError(t, err)
	_, err = tree.Apply([]transport.FolderChange{upd("f0", fmtID(n-1), "F", mail)})
	require.ErrorIs(t, err, ErrCycle)
	assert.Contains(t, err.Error(), "... (5000 folders)")
	assert.Less(t, len(err.Error()), 300)
	assert.Equal(t, n, tree.Len())
	rep, err := tree.Apply([]transport.FolderChange{del("f0")})
	require.NoError(t, err)
	assert.Equal(t, ApplyReport{Deleted: 1, CascadeDeleted: n - 1}, rep)
	assert.Zero(t, tree.Len())
}

func fmtID(i int) string { return "f" + strconv.Itoa(i) }

func TestApplyClearsLocalMarksOfReportedFolders(t *testing.T) {
	tree := NewTree(fo("1", "0", "Inbox", inbox))
	require.NoError(t, tree.AddLocal(fo("l1", "1", "Mine 1", mail)))
	require.NoError(t, tree.AddLocal(fo("l2", "1", "Mine 2", mail)))
	require.NoError(t, tree.AddLocal(fo("l3", "1", "Mine 3", mail)))
	_, err := tree.Apply([]transport.FolderChange{add("l1", "1", "Mine 1", mail), del("l2")})
	require.NoError(t, err)
	assert.Equal(t, []Folder{fo("l3", "1", "Mine 3", mail)}, tree.LocalAdds())
	assert.False(t, tree.IsLocal("l1"))
	assert.True(t, tree.IsLocal("l3"))
}

// TestApplyIdempotentProperty: 500 seeded random change lists over a small pool of
// ServerIds (so that adds, updates, deletes, cascades, orphans and cycles mix),
// applied to random trees: applying once and twice gives equal trees, and the result
// and report match the reference model. Lists that fail (cycles) leave the tree as
// it was.
func TestApplyIdempotentProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(20261122))
	var applied, refused int
	for i := range 500 {
		start := randTree(rng)
		changes := randChanges(rng, 1+rng.Intn(24))
		once := start.Clone()
		rep, err := once.Apply(changes)
		m, refRep, ok := refApply(start, changes)
		if err != nil {
			refused++
			require.ErrorIs(t, err, ErrCycle, "list %d", i)
			require.False(t, ok, "list %d: the reference model applies it: %v", i, changes)
			requireSameTree(t, start, once, "list %d: a refused list changes nothing", i)
			checkInvariants(t, once)
			continue
		}
		applied++
		checkInvariants(t, once)
		require.True(t, ok, "list %d: the reference model refuses it: %v", i, changes)
		requireSameTree(t, treeOf(m), once, "list %d vs the reference model: %v", i, changes)
		require.Equal(t, refRep, rep, "list %d", i)

		twice := once.Clone()
		_, err = twice.Apply(changes)
		require.NoError(t, err, "list %d", i)
		checkInvariants(t, twice)
		requireSameTree(t, once, twice, "list %d applied twice: start %v, changes %v", i, start.Folders(), changes)
	}
	t.Logf("%d lists applied, %d refused", applied, refused)
	assert.Greater(t, applied, 250)
	assert.Greater(t, refused, 5)
}

// TestApplySequenceProperty applies 1,000 random lists one after another to one tree,
// so that the children index, once built, is kept up to date through many changes,
// refusals and rollbacks, and checks each step against the reference model.
func TestApplySequenceProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(99))
	tree := randTree(rng)
	if rng.Intn(2) == 0 {
		require.NoError(t, tree.AddLocal(fo("local", RootID, "Mine", mail)))
	}
	for i := range 1000 {
		changes := randChanges(rng, 1+rng.Intn(8))
		m, refRep, ok := refApply(tree, changes)
		before := tree.Clone()
		rep, err := tree.Apply(changes)
		if !ok {
			require.ErrorIs(t, err, ErrCycle, "step %d", i)
			requireSameTree(t, before, tree, "step %d", i)
		} else {
			require.NoError(t, err, "step %d", i)
			requireSameTree(t, treeOf(m), tree, "step %d", i)
			require.Equal(t, refRep, rep, "step %d", i)
		}
		checkInvariants(t, tree)
		if i%50 == 0 {
			tree.RollbackLocal()
			_ = tree.AddLocal(fo("local", RootID, "Mine", mail))
			checkInvariants(t, tree)
		}
	}
}

func TestApplyBigResponseTwice(t *testing.T) {
	changes := bigChanges(t, 2000, 7)
	tree := &Tree{}
	rep, err := tree.Apply(changes)
	require.NoError(t, err)
	assert.Equal(t, 2000, rep.Added)
	assert.Empty(t, rep.Orphans)
	again := tree.Clone()
	rep, err = again.Apply(changes)
	require.NoError(t, err)
	assert.Equal(t, ApplyReport{Updated: 2000, AddsAsUpdates: 2000, Unchanged: 2000}, rep)
	requireSameTree(t, tree, again)
}

func TestChangeErrorMessage(t *testing.T) {
	err := error(&ChangeError{Index: 3, Change: add("x", "0", "X", 0), Err: ErrInvalidType})
	assert.Equal(t, `hierarchy: change 3 (Add "x"): `+ErrInvalidType.Error(), err.Error())
	assert.True(t, errors.Is(err, ErrInvalidType))
}
