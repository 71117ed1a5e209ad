package hierarchy

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/easkit/foldersync/transport"
)

// State is what a [Store] holds: the SyncKey of the last successful FolderSync and
// the hierarchy it describes.
type State struct {
	// SyncKey is the key to send in the next FolderSync: transport.InitialSyncKey
	// ("0") if there has been no successful one.
	SyncKey string
	// Tree is the hierarchy. It belongs to the caller: a store keeps its own copy.
	Tree *Tree
}

// Diverged reports whether the state holds a non-zero SyncKey with an empty
// hierarchy: no account has zero folders once synced (the default folders,
// MS-ASCMD 2.2.3.186.3, always exist), so the client must reset to SyncKey 0
// (DESIGN rule 7).
func (s State) Diverged() bool {
	return s.SyncKey != transport.InitialSyncKey && s.Tree.Len() == 0
}

// Store keeps the committed state of one account's hierarchy.
type Store interface {
	// Load returns the last committed state. A store never committed returns
	// SyncKey "0" and an empty tree. The tree is the caller's.
	Load(ctx context.Context) (State, error)
	// Commit replaces the state with syncKey and tree durably and atomically: after a
	// crash the store holds the old state or the new, never a mix (DESIGN rule 1:
	// commit a Status 1 response's SyncKey and all its changes in one transaction). It
	// keeps no reference to tree, and does not clear tree's local-add marks (call
	// [Tree.ClearLocal] after it succeeds). If it returns an error the store holds the
	// old state or the new; Load says which.
	Commit(ctx context.Context, syncKey string, tree *Tree) error
}

// checkCommit checks Commit's arguments, the same way for every store: a SyncKey of
// 1-64 characters of UTF-8 (MS-ASCMD 2.2.3.181.2) and a tree.
func checkCommit(syncKey string, tree *Tree) error {
	if err := checkSyncKey(syncKey); err != nil {
		return err
	}
	if tree == nil {
		return ErrNilTree
	}
	return nil
}

func checkSyncKey(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: empty", ErrInvalidSyncKey)
	case transport.TooLong(k, transport.MaxSyncKeyLength):
		return fmt.Errorf("%w: %d characters, more than %d", ErrInvalidSyncKey, utf8.RuneCountInString(k), transport.MaxSyncKeyLength)
	case !utf8.ValidString(k):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidSyncKey)
	}
	return nil
}

// MemoryStore is a [Store] in memory, for tests and for clients that keep no state
// across runs. It copies trees in and out, so callers never share one with it. It is
// safe for concurrent use; the zero MemoryStore is ready to use.
type MemoryStore struct {
	mu        sync.Mutex
	committed bool
	syncKey   string
	tree      *Tree
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Load returns a copy of the committed state, or SyncKey "0" and an empty tree.
func (m *MemoryStore) Load(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.committed {
		return State{SyncKey: transport.InitialSyncKey, Tree: &Tree{}}, nil
	}
	return State{SyncKey: m.syncKey, Tree: m.tree.cloneFolders()}, nil
}

// Commit replaces the state with syncKey and a copy of tree (without local-add marks).
// It returns ErrInvalidSyncKey or ErrNilTree for bad arguments, as FileStore does.
func (m *MemoryStore) Commit(ctx context.Context, syncKey string, tree *Tree) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkCommit(syncKey, tree); err != nil {
		return err
	}
	c := tree.cloneFolders()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.committed, m.syncKey, m.tree = true, syncKey, c
	return nil
}
