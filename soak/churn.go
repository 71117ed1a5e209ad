package soak

import (
	"fmt"
	"math/rand/v2"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

// maxUserFolders keeps an account's hierarchy small: above it, churn deletes
// instead of adding.
const maxUserFolders = 40

var userTypes = []transport.FolderType{
	transport.FolderUserMail, transport.FolderUserMail, transport.FolderUserCalendar,
	transport.FolderUserContacts, transport.FolderUserTasks, transport.FolderUserNotes, transport.FolderUserGeneric,
}

// churnCounts says what one round of churn did to the server.
type churnCounts struct {
	adds, renames, moves, deletes int
}

// churn changes the server's hierarchy as a user on another device would between
// two syncs: 0 to 4 operations among adding a folder or a small subtree, renaming
// any folder, moving a user folder with its subtree, and deleting a user folder
// with its subtree. Default folders are never moved or deleted. New ServerIds are
// built from tag, so they never repeat in an account. The choices depend on r and
// the server's hierarchy alone.
func churn(r *rand.Rand, s *sim.Server, tag string) (churnCounts, error) {
	var n churnCounts
	ops := r.IntN(5)
	for op := range ops {
		all := s.Folders() // sorted by ServerID: the choices below are reproducible
		var user []hierarchy.Folder
		for _, f := range all {
			if !f.Type.IsDefault() {
				user = append(user, f)
			}
		}
		kind := r.IntN(10)
		switch {
		case len(user) > maxUserFolders:
			kind = 9
		case len(user) == 0 && kind >= 6:
			kind = 0
		}
		switch {
		case kind < 4: // add one folder, or a subtree of two or three levels
			parent := hierarchy.RootID
			if k := r.IntN(len(all) + 1); k < len(all) {
				parent = all[k].ServerID
			}
			levels := 1 + r.IntN(3)
			for l := range levels {
				id := fmt.Sprintf("%s-%d-%d", tag, op, l)
				f := hierarchy.Folder{ServerID: id, ParentID: parent, DisplayName: "Folder " + id, Type: userTypes[r.IntN(len(userTypes))]}
				if err := s.AddFolder(f); err != nil {
					return n, fmt.Errorf("soak: churn add %s: %w", id, err)
				}
				n.adds++
				parent = id
			}
		case kind < 6: // rename any folder
			f := all[r.IntN(len(all))]
			if err := s.RenameFolder(f.ServerID, fmt.Sprintf("%s (%s)", f.DisplayName, tag)); err != nil {
				return n, fmt.Errorf("soak: churn rename %s: %w", f.ServerID, err)
			}
			n.renames++
		case kind < 8: // move a user folder and its subtree elsewhere
			f := user[r.IntN(len(user))]
			below := subtree(all, f.ServerID)
			targets := []string{}
			if f.ParentID != hierarchy.RootID {
				targets = append(targets, hierarchy.RootID)
			}
			for _, g := range all {
				if !below[g.ServerID] && g.ServerID != f.ParentID {
					targets = append(targets, g.ServerID)
				}
			}
			if len(targets) == 0 {
				continue
			}
			to := targets[r.IntN(len(targets))]
			if err := s.MoveFolder(f.ServerID, to); err != nil {
				return n, fmt.Errorf("soak: churn move %s under %s: %w", f.ServerID, to, err)
			}
			n.moves++
		default: // delete a user folder and its subtree
			f := user[r.IntN(len(user))]
			if err := s.DeleteFolder(f.ServerID); err != nil {
				return n, fmt.Errorf("soak: churn delete %s: %w", f.ServerID, err)
			}
			n.deletes++
		}
	}
	return n, nil
}

// subtree returns id and every folder below it.
func subtree(all []hierarchy.Folder, id string) map[string]bool {
	in := map[string]bool{id: true}
	for grew := true; grew; {
		grew = false
		for _, f := range all {
			if !in[f.ServerID] && in[f.ParentID] {
				in[f.ServerID], grew = true, true
			}
		}
	}
	return in
}
