package hierarchy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/easkit/foldersync/transport"
)

// RootID is the ParentId of a folder at the top of the hierarchy (MS-ASCMD
// 2.2.3.129.2). It names no folder.
const RootID = "0"

// Folder is one folder of the hierarchy, as an Add or Update of a FolderSync
// response's Changes describes it (MS-ASCMD 2.2.1.5, 2.2.3.25).
type Folder struct {
	// ServerID identifies the folder on the server: an opaque string of up to 64
	// characters (MS-ASCMD 2.2.3.166.4), unique in the account.
	ServerID string
	// ParentID is the ServerId of the folder this one is in, or RootID for a top
	// folder (MS-ASCMD 2.2.3.129.2).
	ParentID string
	// DisplayName is the folder's name as the user sees it (MS-ASCMD 2.2.3.49.4).
	DisplayName string
	// Type is the folder type (MS-ASCMD 2.2.3.186.3).
	Type transport.FolderType
}

// String formats f for logs and test failures.
func (f Folder) String() string {
	return fmt.Sprintf("%q in %q named %q, type %d (%s)", f.ServerID, f.ParentID, f.DisplayName, uint8(f.Type), f.Type)
}

// Validate reports whether f can be part of a tree: a ServerID of 1-64 characters that
// is not RootID, a ParentID of at most 64 characters that differs from the ServerID, text
// in UTF-8, and a Type MS-ASCMD 2.2.3.186.3 defines. An empty ParentID is allowed (the
// folder is then an orphan, see [Tree.Orphans]).
func (f Folder) Validate() error {
	if err := checkServerID(f.ServerID); err != nil {
		return err
	}
	if transport.TooLong(f.ParentID, transport.MaxServerIDLength) {
		return fmt.Errorf("%w: ParentId is %d characters", ErrIDTooLong, utf8.RuneCountInString(f.ParentID))
	}
	if !utf8.ValidString(f.ParentID) {
		return fmt.Errorf("%w: ParentId %q", ErrInvalidUTF8, f.ParentID)
	}
	if f.ParentID == f.ServerID {
		return fmt.Errorf("%w: %q is its own parent", ErrCycle, f.ServerID)
	}
	if !utf8.ValidString(f.DisplayName) {
		return fmt.Errorf("%w: DisplayName %q", ErrInvalidUTF8, f.DisplayName)
	}
	if !f.Type.Valid() {
		return fmt.Errorf("%w: %d", ErrInvalidType, uint8(f.Type))
	}
	return nil
}

// checkServerID checks a ServerId: 1-64 characters (MS-ASCMD 2.2.3.166.4), UTF-8, not "0".
func checkServerID(id string) error {
	switch {
	case id == "":
		return ErrEmptyServerID
	case transport.TooLong(id, transport.MaxServerIDLength):
		return fmt.Errorf("%w: ServerId is %d characters", ErrIDTooLong, utf8.RuneCountInString(id))
	case id == RootID:
		return ErrRootID
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: ServerId %q", ErrInvalidUTF8, id)
	}
	return nil
}

// Tree is the folder hierarchy of one account: folders by ServerId, plus the set of
// ServerIds added locally (FolderCreate) since the last commit.
//
// The zero Tree is empty and ready to use. Every method keeps the tree valid: each
// folder passes [Folder.Validate] and no folder is its own ancestor. Folders whose
// parent is not in the tree (orphans) are allowed and reported.
//
// A Tree is not safe for concurrent use. Read-only methods may run concurrently with
// each other.
type Tree struct {
	folders map[string]Folder
	// local holds the ServerIds added by AddLocal since the last ClearLocal.
	local map[string]struct{}
	// kids indexes folders by ParentID (including ParentIDs that name no folder). It is
	// built by the first operation that needs it (a Delete) and then kept up to date;
	// nil means not built.
	kids map[string]map[string]struct{}
}

// NewTree returns a tree holding folders. It is meant for folders known to be valid
// (literals in tests and examples) and panics if one is invalid, two share a ServerID,
// or they form a cycle; use [BuildTree] for other input.
func NewTree(folders ...Folder) *Tree {
	t, err := BuildTree(folders)
	if err != nil {
		panic(err)
	}
	return t
}

// BuildTree returns a tree holding folders, or a [*FolderError] if a folder is invalid
// ([Folder.Validate]), two share a ServerID ([ErrDuplicate]) or some folder would be its
// own ancestor ([ErrCycle]).
func BuildTree(folders []Folder) (*Tree, error) {
	t := &Tree{folders: make(map[string]Folder, len(folders))}
	for i, f := range folders {
		if err := f.Validate(); err != nil {
			return nil, &FolderError{Index: i, Folder: f, Err: err}
		}
		if _, dup := t.folders[f.ServerID]; dup {
			return nil, &FolderError{Index: i, Folder: f, Err: ErrDuplicate}
		}
		t.folders[f.ServerID] = f
	}
	check := cycleCheck{t: t}
	for i, f := range folders {
		if cyc := check.from(f.ServerID); cyc != nil {
			return nil, &FolderError{Index: i, Folder: f, Err: cycleErr(cyc)}
		}
	}
	return t, nil
}

// Len returns the number of folders.
func (t *Tree) Len() int {
	if t == nil {
		return 0
	}
	return len(t.folders)
}

// Get returns the folder with the ServerID serverID.
func (t *Tree) Get(serverID string) (Folder, bool) {
	if t == nil {
		return Folder{}, false
	}
	f, ok := t.folders[serverID]
	return f, ok
}

// Folders returns every folder, sorted by ServerID.
func (t *Tree) Folders() []Folder {
	if t == nil {
		return nil
	}
	out := make([]Folder, 0, len(t.folders))
	for _, f := range t.folders {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Folder) int { return strings.Compare(a.ServerID, b.ServerID) })
	return out
}

// Children returns the folders whose ParentID is parentID (RootID for the top
// folders), sorted by DisplayName, then ServerID.
func (t *Tree) Children(parentID string) []Folder {
	if t == nil {
		return nil
	}
	var out []Folder
	if t.kids != nil {
		for id := range t.kids[parentID] {
			out = append(out, t.folders[id])
		}
	} else {
		for _, f := range t.folders {
			if f.ParentID == parentID {
				out = append(out, f)
			}
		}
	}
	slices.SortFunc(out, func(a, b Folder) int {
		return cmp.Or(strings.Compare(a.DisplayName, b.DisplayName), strings.Compare(a.ServerID, b.ServerID))
	})
	return out
}

// Orphans returns the ServerIDs of the folders whose ParentID is neither RootID nor
// a folder of the tree, sorted. A server may send a child before its parent, so an
// orphan is not an error; an orphan that stays one after a whole response means the
// server's hierarchy and ours disagree.
func (t *Tree) Orphans() []string {
	if t == nil {
		return nil
	}
	var out []string
	for id, f := range t.folders {
		if f.ParentID == RootID {
			continue
		}
		if _, ok := t.folders[f.ParentID]; !ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// Clone returns a copy of t, local-add marks included.
func (t *Tree) Clone() *Tree {
	c := t.cloneFolders()
	if t != nil && len(t.local) > 0 {
		c.local = make(map[string]struct{}, len(t.local))
		for id := range t.local {
			c.local[id] = struct{}{}
		}
	}
	return c
}

// cloneFolders copies the folders only: what a store keeps of a tree.
func (t *Tree) cloneFolders() *Tree {
	if t == nil {
		return &Tree{}
	}
	c := &Tree{folders: make(map[string]Folder, len(t.folders))}
	for id, f := range t.folders {
		c.folders[id] = f
	}
	return c
}

// Equal reports whether t and o hold the same folders. Local-add marks are ignored;
// a nil tree equals an empty one.
func (t *Tree) Equal(o *Tree) bool {
	if t.Len() != o.Len() {
		return false
	}
	for id, f := range t.foldersMap() {
		if g, ok := o.foldersMap()[id]; !ok || g != f {
			return false
		}
	}
	return true
}

func (t *Tree) foldersMap() map[string]Folder {
	if t == nil {
		return nil
	}
	return t.folders
}

// Diff describes how o differs from t, one line per folder, sorted by ServerID:
// "- F" for a folder only t holds, "+ F" for one only o holds, and "~ ID: field a -> b"
// for one both hold with different values. It is empty when t.Equal(o). It is meant
// for test failures and soak reports.
func (t *Tree) Diff(o *Tree) []string {
	a, b := t.foldersMap(), o.foldersMap()
	ids := make([]string, 0, len(a)+len(b))
	for id := range a {
		ids = append(ids, id)
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []string
	for _, id := range ids {
		f, inA := a[id]
		g, inB := b[id]
		switch {
		case !inB:
			out = append(out, "- "+f.String())
		case !inA:
			out = append(out, "+ "+g.String())
		case f != g:
			var changes []string
			if f.ParentID != g.ParentID {
				changes = append(changes, fmt.Sprintf("ParentID %q -> %q", f.ParentID, g.ParentID))
			}
			if f.DisplayName != g.DisplayName {
				changes = append(changes, fmt.Sprintf("DisplayName %q -> %q", f.DisplayName, g.DisplayName))
			}
			if f.Type != g.Type {
				changes = append(changes, fmt.Sprintf("Type %d -> %d", uint8(f.Type), uint8(g.Type)))
			}
			out = append(out, fmt.Sprintf("~ %q: %s", id, strings.Join(changes, ", ")))
		}
	}
	return out
}

// put stores f, keeping the children index (if built) current.
func (t *Tree) put(f Folder) {
	if t.folders == nil {
		t.folders = make(map[string]Folder)
	}
	if t.kids != nil {
		if old, ok := t.folders[f.ServerID]; ok {
			if old.ParentID == f.ParentID {
				t.folders[f.ServerID] = f
				return
			}
			t.unlinkKid(old.ParentID, old.ServerID)
		}
		set := t.kids[f.ParentID]
		if set == nil {
			set = make(map[string]struct{})
			t.kids[f.ParentID] = set
		}
		set[f.ServerID] = struct{}{}
	}
	t.folders[f.ServerID] = f
}

// remove deletes the folder id (which must be present) and its local mark.
func (t *Tree) remove(id string) {
	if t.kids != nil {
		t.unlinkKid(t.folders[id].ParentID, id)
	}
	delete(t.folders, id)
	delete(t.local, id)
}

func (t *Tree) unlinkKid(parent, id string) {
	set := t.kids[parent]
	delete(set, id)
	if len(set) == 0 {
		delete(t.kids, parent)
	}
}

// buildKids builds the children index if it is not built.
func (t *Tree) buildKids() {
	if t.kids != nil {
		return
	}
	t.kids = make(map[string]map[string]struct{})
	for id, f := range t.folders {
		set := t.kids[f.ParentID]
		if set == nil {
			set = make(map[string]struct{})
			t.kids[f.ParentID] = set
		}
		set[id] = struct{}{}
	}
}

// shortWalk bounds the walk up from a folder that a cycleCheck makes before it falls
// back to a memoized walk: real hierarchies are far shallower.
const shortWalk = 64

// Walk states in a cycleCheck's memo.
const (
	walkOnPath uint8 = 1 // on the walk being made
	walkDone   uint8 = 2 // known to reach the root or a ParentID that names no folder
)

// cycleCheck looks for cycles in a tree that does not change while it is used. A
// tree can only get a cycle through a folder whose ParentID was set, so callers check
// from those folders: from every folder of a new tree, from the folders a change list
// touched.
type cycleCheck struct {
	t    *Tree
	memo map[string]uint8 // made by the first long walk
}

// from follows ParentIDs up from id and returns the cycle it runs into, as the
// ServerIDs around it with the first repeated at the end, or nil if it reaches the
// root or a ParentID that names no folder. A shallow folder costs no allocation;
// longer walks share a memo, so checking every folder of a tree is linear.
func (c *cycleCheck) from(id string) []string {
	p := id
	for range shortWalk {
		f, ok := c.t.folders[p]
		if !ok {
			return nil
		}
		p = f.ParentID
	}
	if c.memo == nil {
		c.memo = make(map[string]uint8)
	}
	var path []string
	for p := id; c.memo[p] != walkDone; {
		f, ok := c.t.folders[p]
		if !ok {
			break
		}
		if c.memo[p] == walkOnPath {
			i := slices.Index(path, p)
			return append(path[i:], p)
		}
		c.memo[p] = walkOnPath
		path = append(path, p)
		p = f.ParentID
	}
	for _, q := range path {
		c.memo[q] = walkDone
	}
	return nil
}

// cycleErr describes a cycle, naming at most its first 8 folders.
func cycleErr(cyc []string) error {
	const show = 8
	if n := len(cyc) - 1; n > show {
		return fmt.Errorf("%w: %s -> ... (%d folders)", ErrCycle, strings.Join(quoteAll(cyc[:show]), " -> "), n)
	}
	return fmt.Errorf("%w: %s", ErrCycle, strings.Join(quoteAll(cyc), " -> "))
}

func quoteAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%q", id)
	}
	return out
}
