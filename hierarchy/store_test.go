package hierarchy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stores returns a constructor for each Store implementation, so that one contract
// test runs against all of them.
func stores() map[string]func(t testing.TB) Store {
	return map[string]func(t testing.TB) Store{
		"MemoryStore": func(testing.TB) Store { return NewMemoryStore() },
		"FileStore": func(t testing.TB) Store {
			s, err := OpenFileStore(t.TempDir())
			require.NoError(t, err)
			return s
		},
	}
}

var (
	_ Store = (*MemoryStore)(nil)
	_ Store = (*FileStore)(nil)
)

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			t.Run("never committed", func(t *testing.T) {
				st, err := open(t).Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, transport.InitialSyncKey, st.SyncKey)
				require.NotNil(t, st.Tree)
				assert.Zero(t, st.Tree.Len())
				assert.False(t, st.Diverged())
			})
			t.Run("round trip", func(t *testing.T) {
				s := open(t)
				tree := NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Ünïcödé 📁 \"quoted\" \\ \t\n", mail), fo("o", "gone", "", transport.FolderRecipientCache))
				require.NoError(t, s.Commit(ctx, "vm_2061_30b25ace_0", tree))
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, "vm_2061_30b25ace_0", st.SyncKey)
				requireSameTree(t, tree, st.Tree)

				tree2 := st.Tree.Clone()
				_, err = tree2.Apply([]transport.FolderChange{del("2"), add("3", "0", "Sent", transport.FolderSentItems)})
				require.NoError(t, err)
				require.NoError(t, s.Commit(ctx, "vm_2061_30b25ace_1", tree2))
				st, err = s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, "vm_2061_30b25ace_1", st.SyncKey)
				requireSameTree(t, tree2, st.Tree)
			})
			t.Run("10,000 folders with Unicode names", func(t *testing.T) {
				s := open(t)
				tree := bigTree(t, 10000, 42)
				require.NoError(t, s.Commit(ctx, "big", tree))
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, "big", st.SyncKey)
				requireSameTree(t, tree, st.Tree)
			})
			t.Run("copies in and out", func(t *testing.T) {
				s := open(t)
				tree := NewTree(fo("1", "0", "Inbox", inbox))
				require.NoError(t, s.Commit(ctx, "1", tree))
				_, err := tree.Apply([]transport.FolderChange{add("2", "0", "After commit", mail)})
				require.NoError(t, err)
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, 1, st.Tree.Len(), "the store keeps no reference to the committed tree")
				_, err = st.Tree.Apply([]transport.FolderChange{del("1")})
				require.NoError(t, err)
				st, err = s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, 1, st.Tree.Len(), "a loaded tree is the caller's")
			})
			t.Run("local marks are kept", func(t *testing.T) {
				s := open(t)
				tree := NewTree(fo("1", "0", "Inbox", inbox))
				require.NoError(t, tree.AddLocal(fo("l", "1", "Mine", mail)))
				require.NoError(t, s.Commit(ctx, "1", tree))
				assert.True(t, tree.IsLocal("l"), "Commit does not clear the caller's marks")
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, 2, st.Tree.Len())
				// A folder created locally stays marked across a restart, so a Status 9
				// in the next session can still roll it back.
				require.Len(t, st.Tree.LocalAdds(), 1)
				assert.True(t, st.Tree.IsLocal("l"))
			})
			t.Run("bad arguments change nothing", func(t *testing.T) {
				s := open(t)
				tree := NewTree(fo("1", "0", "Inbox", inbox))
				require.NoError(t, s.Commit(ctx, "good", tree))
				assert.ErrorIs(t, s.Commit(ctx, "", tree), ErrInvalidSyncKey)
				assert.ErrorIs(t, s.Commit(ctx, strings.Repeat("k", 65), tree), ErrInvalidSyncKey)
				assert.ErrorIs(t, s.Commit(ctx, "\xff", tree), ErrInvalidSyncKey)
				assert.ErrorIs(t, s.Commit(ctx, "k", nil), ErrNilTree)
				require.NoError(t, s.Commit(ctx, strings.Repeat("k", 64), &Tree{}), "a 64-byte key and an empty tree are fine")
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.True(t, st.Diverged(), "a non-zero key with no folders (DESIGN rule 7)")
			})
			t.Run("cancelled context", func(t *testing.T) {
				s := open(t)
				tree := NewTree(fo("1", "0", "Inbox", inbox))
				require.NoError(t, s.Commit(ctx, "1", tree))
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				assert.ErrorIs(t, s.Commit(cctx, "2", &Tree{}), context.Canceled)
				_, err := s.Load(cctx)
				assert.ErrorIs(t, err, context.Canceled)
				st, err := s.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, "1", st.SyncKey)
			})
			t.Run("concurrent commits and loads", func(t *testing.T) {
				testConcurrent(t, open(t))
			})
		})
	}
}

// testConcurrent commits and loads from many goroutines: every load must see one
// whole committed state (the tree of key K holds folders named K), never a mix.
func testConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	const writers, commits, readers = 4, 15, 4
	stateFor := func(key string, n int) *Tree {
		tree := &Tree{}
		for i := range n {
			tree.put(fo(fmt.Sprintf("%s-%d", key, i), RootID, key, mail))
		}
		return tree
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*commits+readers*commits)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range commits {
				key := fmt.Sprintf("w%d-%d", w, i)
				if err := s.Commit(ctx, key, stateFor(key, 1+i%7)); err != nil {
					errs <- err
				}
			}
		}()
	}
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range commits {
				st, err := s.Load(ctx)
				if err != nil {
					errs <- err
					continue
				}
				for _, f := range st.Tree.Folders() {
					if f.DisplayName != st.SyncKey {
						errs <- fmt.Errorf("state %q holds folder %v of another commit", st.SyncKey, f)
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, transport.InitialSyncKey, st.SyncKey)
}

func TestZeroMemoryStore(t *testing.T) {
	var s MemoryStore
	st, err := s.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "0", st.SyncKey)
	require.NoError(t, s.Commit(context.Background(), "1", NewTree(fo("1", "0", "Inbox", inbox))))
}
