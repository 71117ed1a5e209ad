package sim

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
)

// ErrNotFound is returned by the mutators for a ServerID the server's hierarchy does
// not hold.
var ErrNotFound = errors.New("sim: no folder with this ServerId")

// DefaultFolders returns a realistic default hierarchy: the ten default folders of
// an Exchange mailbox (types 2-11, MS-ASCMD 2.2.3.186.3) at the top, and a few user
// folders, some nested, sorted by ServerID.
func DefaultFolders() []hierarchy.Folder {
	return sortFolders([]hierarchy.Folder{
		{ServerID: "inbox", ParentID: hierarchy.RootID, DisplayName: "Inbox", Type: transport.FolderInbox},
		{ServerID: "drafts", ParentID: hierarchy.RootID, DisplayName: "Drafts", Type: transport.FolderDrafts},
		{ServerID: "deleted", ParentID: hierarchy.RootID, DisplayName: "Deleted Items", Type: transport.FolderDeletedItems},
		{ServerID: "sent", ParentID: hierarchy.RootID, DisplayName: "Sent Items", Type: transport.FolderSentItems},
		{ServerID: "outbox", ParentID: hierarchy.RootID, DisplayName: "Outbox", Type: transport.FolderOutbox},
		{ServerID: "tasks", ParentID: hierarchy.RootID, DisplayName: "Tasks", Type: transport.FolderTasks},
		{ServerID: "calendar", ParentID: hierarchy.RootID, DisplayName: "Calendar", Type: transport.FolderCalendar},
		{ServerID: "contacts", ParentID: hierarchy.RootID, DisplayName: "Contacts", Type: transport.FolderContacts},
		{ServerID: "notes", ParentID: hierarchy.RootID, DisplayName: "Notes", Type: transport.FolderNotes},
		{ServerID: "journal", ParentID: hierarchy.RootID, DisplayName: "Journal", Type: transport.FolderJournal},
		{ServerID: "projects", ParentID: "inbox", DisplayName: "Projects", Type: transport.FolderUserMail},
		{ServerID: "projects-2024", ParentID: "projects", DisplayName: "2024", Type: transport.FolderUserMail},
		{ServerID: "projects-2025", ParentID: "projects", DisplayName: "2025", Type: transport.FolderUserMail},
		{ServerID: "archive", ParentID: hierarchy.RootID, DisplayName: "Archive", Type: transport.FolderUserMail},
		{ServerID: "team-calendar", ParentID: "calendar", DisplayName: "Team", Type: transport.FolderUserCalendar},
		{ServerID: "family", ParentID: "contacts", DisplayName: "Family", Type: transport.FolderUserContacts},
	})
}

func sortFolders(fs []hierarchy.Folder) []hierarchy.Folder {
	slices.SortFunc(fs, func(a, b hierarchy.Folder) int { return strings.Compare(a.ServerID, b.ServerID) })
	return fs
}

// checkHierarchy reports whether m is a hierarchy a server can hold: valid folders
// ([hierarchy.Folder.Validate]), no cycle, and every ParentID RootID or a folder of m.
func checkHierarchy(m map[string]hierarchy.Folder) error {
	fs := sortFolders(slices.Collect(maps.Values(m)))
	t, err := hierarchy.BuildTree(fs)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	if o := t.Orphans(); len(o) > 0 {
		f, _ := t.Get(o[0])
		return fmt.Errorf("sim: folder %q: %w: %q", f.ServerID, hierarchy.ErrUnknownParent, f.ParentID)
	}
	return nil
}

// mutate applies fn to a copy of the hierarchy and keeps the copy if fn succeeds and
// the result is valid. The hierarchy map is never changed in place: snapshots that
// issued keys refer to earlier maps (copy on write).
func (s *Server) mutate(fn func(m map[string]hierarchy.Folder) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(s.folders)
	if m == nil {
		m = make(map[string]hierarchy.Folder)
	}
	if err := fn(m); err != nil {
		return err
	}
	if err := checkHierarchy(m); err != nil {
		return err
	}
	s.folders = m
	return nil
}

// Seed replaces the whole server-side hierarchy with folders (normally the initial
// hierarchy, before the first sync). It returns an error, and changes nothing, if a
// folder is invalid, two share a ServerID, a ParentID names no folder, or the
// folders form a cycle.
func (s *Server) Seed(folders ...hierarchy.Folder) error {
	return s.mutate(func(m map[string]hierarchy.Folder) error {
		clear(m)
		for _, f := range folders {
			if _, dup := m[f.ServerID]; dup {
				return fmt.Errorf("sim: folder %q: %w", f.ServerID, hierarchy.ErrDuplicate)
			}
			m[f.ServerID] = f
		}
		return nil
	})
}

// AddFolder adds f to the hierarchy. Its ServerID must be new (else
// hierarchy.ErrExists) and its ParentID RootID or an existing folder (else
// hierarchy.ErrUnknownParent).
func (s *Server) AddFolder(f hierarchy.Folder) error {
	return s.mutate(func(m map[string]hierarchy.Folder) error {
		if _, ok := m[f.ServerID]; ok {
			return fmt.Errorf("sim: folder %q: %w", f.ServerID, hierarchy.ErrExists)
		}
		m[f.ServerID] = f
		return nil
	})
}

// RenameFolder sets the DisplayName of folder id; the next FolderSync reports an
// Update with the same ServerId.
func (s *Server) RenameFolder(id, name string) error {
	return s.mutate(func(m map[string]hierarchy.Folder) error {
		f, ok := m[id]
		if !ok {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		f.DisplayName = name
		m[id] = f
		return nil
	})
}

// MoveFolder moves folder id (and its subtree) under parent (RootID for the top);
// the next FolderSync reports an Update. Moving a folder below itself is refused
// with an error wrapping hierarchy.ErrCycle.
func (s *Server) MoveFolder(id, parent string) error {
	return s.mutate(func(m map[string]hierarchy.Folder) error {
		f, ok := m[id]
		if !ok {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		f.ParentID = parent
		m[id] = f
		return nil
	})
}

// DeleteFolder removes folder id and every folder below it; the next FolderSync
// reports one Delete for each, as SOGo does.
func (s *Server) DeleteFolder(id string) error {
	return s.mutate(func(m map[string]hierarchy.Folder) error {
		if _, ok := m[id]; !ok {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		gone := map[string]bool{id: true}
		for grew := true; grew; { // the hierarchy is small: iterate to a fixed point
			grew = false
			for sid, f := range m {
				if !gone[sid] && gone[f.ParentID] {
					gone[sid], grew = true, true
				}
			}
		}
		for sid := range gone {
			delete(m, sid)
		}
		return nil
	})
}

// Folders returns the server's current hierarchy, sorted by ServerID.
func (s *Server) Folders() []hierarchy.Folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortFolders(slices.Collect(maps.Values(s.folders)))
}

// diff returns the changes that take a client from hierarchy old to hierarchy now:
// Adds for new folders (parents before children), Updates for folders whose name,
// parent or type changed, then one Delete per removed folder. Each group is in a
// fixed order (depth, then ServerID), so the same states give the same response.
func diff(old, now map[string]hierarchy.Folder) []transport.FolderChange {
	var adds, updates, deletes []hierarchy.Folder
	for id, f := range now {
		switch o, ok := old[id]; {
		case !ok:
			adds = append(adds, f)
		case o != f:
			updates = append(updates, f)
		}
	}
	for id, f := range old {
		if _, ok := now[id]; !ok {
			deletes = append(deletes, f)
		}
	}
	sortByDepth(adds, now)
	sortByDepth(updates, now)
	sortByDepth(deletes, old)
	out := make([]transport.FolderChange, 0, len(adds)+len(updates)+len(deletes))
	for _, f := range adds {
		out = append(out, change(transport.OpAdd, f))
	}
	for _, f := range updates {
		out = append(out, change(transport.OpUpdate, f))
	}
	for _, f := range deletes {
		out = append(out, transport.FolderChange{Op: transport.OpDelete, ServerID: f.ServerID})
	}
	return out
}

func change(op transport.ChangeOp, f hierarchy.Folder) transport.FolderChange {
	return transport.FolderChange{Op: op, ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: f.Type}
}

// depth is the number of ancestors of f in m (m has no cycle: checkHierarchy).
func depth(m map[string]hierarchy.Folder, f hierarchy.Folder) int {
	d := 0
	for p, ok := m[f.ParentID]; ok; p, ok = m[p.ParentID] {
		d++
	}
	return d
}

// sortByDepth sorts fs by depth in m, then ServerID, computing each depth once:
// O(n * depth) map lookups and O(n log n) string comparisons, where computing the
// depths inside the comparison costs O(n log n * depth) lookups.
func sortByDepth(fs []hierarchy.Folder, m map[string]hierarchy.Folder) {
	type keyed struct {
		depth int
		f     hierarchy.Folder
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		ks[i] = keyed{depth(m, f), f}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.depth, b.depth), strings.Compare(a.f.ServerID, b.f.ServerID))
	})
	for i := range ks {
		fs[i] = ks[i].f
	}
}
