package hierarchy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/easkit/foldersync/transport"
)

// ApplyReport says what [Tree.Apply] did. The counters count changes and their
// effects; a ServerId named by several changes is counted for each.
type ApplyReport struct {
	// Added counts Adds and Updates of folders that were not in the tree.
	Added int
	// Updated counts Adds and Updates of folders that were in the tree, including
	// those that changed nothing (see Unchanged).
	Updated int
	// Deleted counts Deletes of folders that were in the tree.
	Deleted int
	// AddsAsUpdates counts the Adds among Updated: an Add of a known ServerId acts as
	// an Update (DESIGN rule 2).
	AddsAsUpdates int
	// UpdatesAsAdds counts the Updates among Added: an Update of an unknown ServerId
	// acts as an Add.
	UpdatesAsAdds int
	// Unchanged counts the Updated whose values were already those of the tree. A
	// response whose changes are all Unchanged or DeletesOfUnknown has most likely
	// been applied before (a replayed response, DESIGN rule 3).
	Unchanged int
	// DeletesOfUnknown counts Deletes of ServerIds not in the tree: no-ops for the
	// folder itself (DESIGN rule 2).
	DeletesOfUnknown int
	// CascadeDeleted counts folders removed because they were below a deleted folder.
	CascadeDeleted int
	// Orphans lists, sorted, the ServerIds of the folders of the resulting tree whose
	// ParentId is neither RootID nor a folder of the tree (see [Tree.Orphans]).
	Orphans []string
}

// Apply applies the changes of a FolderSync response (MS-ASCMD 2.2.1.5.2,
// 2.2.3.25) in document order, idempotently (DESIGN rule 2):
//
//   - an Add of a ServerId the tree holds acts as an Update, and an Update of a
//     ServerId it does not hold acts as an Add (both counted in the report);
//   - a Delete removes the folder and every folder below it (the cascade is counted
//     separately); a Delete of a ServerId the tree does not hold is a no-op for that
//     folder (counted) but still removes the folders below it, if any are left as
//     orphans: they are gone on the server with their parent;
//   - a cascade stops at a folder that an Add or Update of the same response names,
//     whatever the order: the response states that folder's values explicitly, so it
//     stays, and so do the folders below it.
//
// So every ServerId a change names ends as its last change says (present with its
// values after an Add or Update, absent after a Delete), and every other folder stays
// as it was unless it lies below a deleted folder. The last two rules are what make
// applying the same changes twice give the same tree as applying them once, for every
// change list and every starting tree: a server that replays a response, or re-runs
// a resent request, may hand us changes we have applied already (DESIGN rules 2 and 3).
// Without them, [Add C under P, Delete P, Add P] would leave C once and remove it the
// second time, and so would [Delete X, Add X] with an orphan C under X.
//
// An Add or Update clears the local-add mark of its folder (the server now reports
// it); removed folders lose theirs.
//
// Apply is all or nothing: a change with an empty, overlong (MS-ASCMD 2.2.3.166.4) or
// non-UTF-8 ServerId, an unknown Op, an Add or Update with an invalid Type
// (transport.FolderType.Valid) or ParentId, or changes after which a folder would be
// its own ancestor, make Apply return a [*ChangeError] and leave the tree unchanged.
// The changes are checked first; the one check that depends on the tree, for cycles,
// is made on the result (the order of a response's changes may pass through a
// transient cycle that the response as a whole resolves), and the changes are undone
// if it fails.
func (t *Tree) Apply(changes []transport.FolderChange) (ApplyReport, error) {
	for i := range changes {
		if err := checkChange(&changes[i]); err != nil {
			return ApplyReport{}, &ChangeError{Index: i, Change: changes[i], Err: err}
		}
	}
	var (
		rep    ApplyReport
		undo   = make(journal, 0, len(changes))
		spared map[string]struct{} // ServerIds with an Add or Update; made at the first Delete
	)
	wasEmpty := len(t.folders) == 0
	if t.folders == nil {
		t.folders = make(map[string]Folder, len(changes))
	}
	// Into an empty tree (an initial sync, Reconcile), parentFirst stays true while
	// every change adds a new folder whose parent is the root or already in the tree
	// (servers send parents first): the order of insertion is then a topological
	// order, so no cycle can have formed and no folder is an orphan. (A tree that was
	// not empty may hold an orphan whose missing parent a change adds.)
	parentFirst := wasEmpty
	for i := range changes {
		c := &changes[i]
		if c.Op == transport.OpDelete {
			parentFirst = false
			if spared == nil {
				spared = upserted(changes)
			}
			t.deleteBelow(c.ServerID, spared, &undo, &rep)
			continue
		}
		f := Folder{ServerID: c.ServerID, ParentID: c.ParentID, DisplayName: c.DisplayName, Type: c.Type}
		old, exists := t.folders[f.ServerID]
		if parentFirst && (exists || f.ParentID != RootID && !t.has(f.ParentID)) {
			parentFirst = false
		}
		undo.note(t, f.ServerID, old, exists)
		if exists {
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
		t.put(f)
		if len(t.local) > 0 {
			delete(t.local, f.ServerID)
		}
	}
	// The tree had no cycle, so a cycle now runs through a folder whose ParentId a
	// change set: walking up from each of those finds it.
	check := cycleCheck{t: t}
	for i := range changes {
		if parentFirst {
			break
		}
		if changes[i].Op == transport.OpDelete {
			continue
		}
		if cyc := check.from(changes[i].ServerID); cyc != nil {
			undo.rollback(t)
			j := lastUpsertOf(changes, cyc)
			return ApplyReport{}, &ChangeError{Index: j, Change: changes[j], Err: cycleErr(cyc)}
		}
	}
	if !parentFirst {
		rep.Orphans = t.Orphans()
	}
	return rep, nil
}

// lastUpsertOf returns the index of the last Add or Update of a folder on the cycle
// cyc: the change to blame. There is one, since the tree had no cycle before.
func lastUpsertOf(changes []transport.FolderChange, cyc []string) int {
	for i := len(changes) - 1; i >= 0; i-- {
		if changes[i].Op != transport.OpDelete && slices.Contains(cyc, changes[i].ServerID) {
			return i
		}
	}
	return 0
}

// checkChange makes the checks of a change that do not depend on the tree.
func checkChange(c *transport.FolderChange) error {
	switch c.Op {
	case transport.OpAdd, transport.OpUpdate:
		f := Folder{ServerID: c.ServerID, ParentID: c.ParentID, DisplayName: c.DisplayName, Type: c.Type}
		return f.Validate()
	case transport.OpDelete:
		return checkServerID(c.ServerID)
	}
	return fmt.Errorf("%w: Op %d", ErrInvalidOp, uint8(c.Op))
}

// upserted returns the ServerIds that an Add or Update of changes names.
func upserted(changes []transport.FolderChange) map[string]struct{} {
	set := make(map[string]struct{})
	for i := range changes {
		if changes[i].Op != transport.OpDelete {
			set[changes[i].ServerID] = struct{}{}
		}
	}
	return set
}

// deleteBelow removes the folder id, if present, and the folders below it, except
// those in spared and the folders below them.
func (t *Tree) deleteBelow(id string, spared map[string]struct{}, undo *journal, rep *ApplyReport) {
	if _, ok := t.folders[id]; ok {
		undo.record(t, id)
		t.remove(id)
		rep.Deleted++
	} else {
		rep.DeletesOfUnknown++
	}
	t.buildKids()
	stack := []string{id}
	var kids []string
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids = kids[:0]
		for k := range t.kids[p] {
			kids = append(kids, k)
		}
		for _, k := range kids {
			if _, keep := spared[k]; keep {
				continue
			}
			if _, ok := t.folders[k]; !ok {
				continue
			}
			undo.record(t, k)
			t.remove(k)
			rep.CascadeDeleted++
			stack = append(stack, k)
		}
	}
}

// journal records the state of folders before Apply changes them, so that a failed
// Apply can restore the tree.
type journal []journalEntry

type journalEntry struct {
	old     Folder // zero when the folder was absent
	id      string
	present bool
	local   bool
}

// record notes the current state of folder id, before a change to it.
func (j *journal) record(t *Tree, id string) {
	old, present := t.folders[id]
	j.note(t, id, old, present)
}

// note is record for a caller that has looked the folder up already.
func (j *journal) note(t *Tree, id string, old Folder, present bool) {
	local := false
	if len(t.local) > 0 {
		_, local = t.local[id]
	}
	*j = append(*j, journalEntry{old: old, id: id, present: present, local: local})
}

// rollback restores what record noted, newest first, so that each folder ends as it
// was before its first recorded change.
func (j journal) rollback(t *Tree) {
	for _, e := range slices.Backward(j) {
		if _, ok := t.folders[e.id]; ok {
			t.remove(e.id)
		}
		if e.present {
			t.put(e.old)
		}
		if e.local {
			t.markLocal(e.id)
		}
	}
}

func (t *Tree) markLocal(id string) {
	if t.local == nil {
		t.local = make(map[string]struct{})
	}
	t.local[id] = struct{}{}
}

// ReconcileReport says what [Tree.Reconcile] did. Kept + Updated + Added is the
// number of folders in the full hierarchy; Kept + Updated + Removed the number the
// tree held before.
type ReconcileReport struct {
	// Kept counts folders whose ServerId came back with the same values.
	Kept int
	// Updated counts folders whose ServerId came back with other values (a new name,
	// parent or type); they were updated in place.
	Updated int
	// Added counts folders the tree did not hold.
	Added int
	// Removed counts folders whose ServerId did not come back.
	Removed int
	// UpdatedIDs, AddedIDs and RemovedIDs list the ServerIds of each kind, sorted. A
	// client drops its per-folder data (item SyncKeys, cached items) only for
	// RemovedIDs.
	UpdatedIDs, AddedIDs, RemovedIDs []string
	// Orphans lists, sorted, the folders of the result whose parent is not in it.
	Orphans []string
}

// Reconcile is the mark-and-sweep that follows a reset to SyncKey 0 (DESIGN rule 5;
// MS-ASCMD 2.2.3.25: "clients MUST be able to handle having the server return a
// completely different set of mapped data"). full is the Changes of the SyncKey-0
// FolderSync response: the complete hierarchy, normally all Adds. The hierarchy it
// describes is what [Tree.Apply] of full to an empty tree gives (so Updates and Deletes,
// should a server send them, are taken in document order). Then folders whose
// ServerId comes back are kept, updated to the new values; new ones are added; and
// only folders whose ServerId does not come back are removed. The tree is never wiped
// first: nothing changes until full has been checked, and then the tree moves to the
// new hierarchy in one step.
//
// Local-add marks are cleared: every folder of the result is the server's. Call
// [Tree.RollbackLocal] first (Status 9, DESIGN rule 5) to see which local folders were
// dropped; a local folder the server returns is kept like any other.
//
// Reconcile checks full as Apply does and, on error, returns a [*ChangeError] and leaves
// the tree unchanged.
func (t *Tree) Reconcile(full []transport.FolderChange) (ReconcileReport, error) {
	fresh := &Tree{folders: make(map[string]Folder, len(full))}
	if _, err := fresh.Apply(full); err != nil {
		return ReconcileReport{}, err
	}
	var rep ReconcileReport
	for id, f := range fresh.folders {
		switch old, ok := t.folders[id]; {
		case !ok:
			rep.Added++
			rep.AddedIDs = append(rep.AddedIDs, id)
		case old == f:
			rep.Kept++
		default:
			rep.Updated++
			rep.UpdatedIDs = append(rep.UpdatedIDs, id)
		}
	}
	for id := range t.folders {
		if _, ok := fresh.folders[id]; !ok {
			rep.Removed++
			rep.RemovedIDs = append(rep.RemovedIDs, id)
		}
	}
	slices.Sort(rep.AddedIDs)
	slices.Sort(rep.UpdatedIDs)
	slices.Sort(rep.RemovedIDs)
	t.folders, t.kids, t.local = fresh.folders, nil, nil
	rep.Orphans = t.Orphans()
	return rep, nil
}

// AddLocal adds f as a folder the client created itself (FolderCreate, MS-ASCMD
// 2.2.1.3) since the last committed FolderSync, and marks it as added locally. It
// returns a [*FolderError] if f is invalid ([Folder.Validate]), its ServerID is in the
// tree ([ErrExists]), its ParentID is neither RootID nor a folder of the tree
// ([ErrUnknownParent]), or it would close a cycle through orphans below it ([ErrCycle]).
func (t *Tree) AddLocal(f Folder) error {
	if err := f.Validate(); err != nil {
		return &FolderError{Index: -1, Folder: f, Err: err}
	}
	if _, ok := t.folders[f.ServerID]; ok {
		return &FolderError{Index: -1, Folder: f, Err: ErrExists}
	}
	if _, ok := t.folders[f.ParentID]; !ok && f.ParentID != RootID {
		return &FolderError{Index: -1, Folder: f, Err: fmt.Errorf("%w: %q", ErrUnknownParent, f.ParentID)}
	}
	t.put(f)
	check := cycleCheck{t: t}
	if cyc := check.from(f.ServerID); cyc != nil {
		t.remove(f.ServerID)
		return &FolderError{Index: -1, Folder: f, Err: cycleErr(cyc)}
	}
	t.markLocal(f.ServerID)
	return nil
}

// IsLocal reports whether the folder serverID was added by AddLocal since the last
// ClearLocal and not reported by the server since.
func (t *Tree) IsLocal(serverID string) bool {
	if t == nil {
		return false
	}
	_, ok := t.local[serverID]
	return ok
}

// LocalAdds returns the folders added by AddLocal since the last ClearLocal (less
// those the server has reported or deleted since), sorted by ServerID.
func (t *Tree) LocalAdds() []Folder {
	if t == nil {
		return nil
	}
	out := make([]Folder, 0, len(t.local))
	for id := range t.local {
		out = append(out, t.folders[id])
	}
	slices.SortFunc(out, func(a, b Folder) int { return strings.Compare(a.ServerID, b.ServerID) })
	return out
}

// RollbackLocal removes the folders added locally since the last ClearLocal and
// returns them, sorted by ServerID: the first step of Status 9 recovery (DESIGN rule 5;
// MS-ASCMD 2.2.3.177.5 and "Handling Status Errors": the synchronization key is
// invalid, so the client's hierarchy is out of step with the server's). Only
// the marked folders are removed: a folder the server placed below one of them stays,
// as an orphan, until the Reconcile that follows decides.
func (t *Tree) RollbackLocal() []Folder {
	out := t.LocalAdds()
	for _, f := range out {
		t.remove(f.ServerID)
	}
	t.local = nil
	return out
}

// ClearLocal forgets the local-add marks, keeping the folders: call it once the state
// holding them has been committed.
func (t *Tree) ClearLocal() { t.local = nil }

func (t *Tree) has(id string) bool {
	_, ok := t.folders[id]
	return ok
}
