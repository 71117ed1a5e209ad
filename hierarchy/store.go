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
	// Unverified says a response may have been lost since this state was committed:
	// the server may have applied a request the client never saw answered. With a
	// server that never compares keys the lost changes do not come back by
	// themselves, so the next session verifies a no-change answer with a full
	// SyncKey 0 FolderSync (DESIGN rule 3). Set by MarkUnverified, cleared by Commit.
	Unverified bool
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
	// keeps no reference to tree. It stores tree's local-add marks too: a folder the
	// client created since the last FolderSync stays marked across a restart, so a
	// Status 9 can still roll it back; call [Tree.ClearLocal] once a FolderSync has
	// been committed. If it returns an error the store holds the
	// old state or the new; Load says which.
	Commit(ctx context.Context, syncKey string, tree *Tree) error
	// MarkUnverified records, durably, that the committed state may be behind the
	// server (see State.Unverified). On a store never committed it does nothing:
	// the next session fetches the full hierarchy anyway.
	MarkUnverified(ctx context.Context) error
}

// UnverifiedClearer is a Store that can clear State.Unverified without a commit. A
// session marks the state unverified before its first request (a crash between the
// server's answer and the commit is a lost response the process cannot record
// afterwards) and clears the mark when it ends without committing and without losing
// an answer.
type UnverifiedClearer interface {
	ClearUnverified(ctx context.Context) error
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
	mu         sync.Mutex
	committed  bool
	syncKey    string
	tree       *Tree
	unverified bool
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
	return State{SyncKey: m.syncKey, Tree: m.tree.Clone(), Unverified: m.unverified}, nil
}

// Commit replaces the state with syncKey and a copy of tree, local-add marks included.
// It returns ErrInvalidSyncKey or ErrNilTree for bad arguments, as FileStore does.
func (m *MemoryStore) Commit(ctx context.Context, syncKey string, tree *Tree) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkCommit(syncKey, tree); err != nil {
		return err
	}
	c := tree.Clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.committed, m.syncKey, m.tree, m.unverified = true, syncKey, c, false
	return nil
}

// ClearUnverified clears State.Unverified ([UnverifiedClearer]).
func (m *MemoryStore) ClearUnverified(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unverified = false
	return nil
}

// MarkUnverified sets State.Unverified on the committed state.
func (m *MemoryStore) MarkUnverified(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.committed {
		m.unverified = true
	}
	return nil
}
