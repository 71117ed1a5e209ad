package hierarchy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealServerHistories replays the FolderSync responses recorded against SOGo 5.8
// and Horde ActiveSync 2.41 (../shared/captures) through a tree and a FileStore: the
// initial sync, an added folder, a replayed response (Horde answers a resent key with
// the same response), the full hierarchy after a reset to 0 (reconciled: nothing that
// comes back is removed), and a deleted folder.
func TestRealServerHistories(t *testing.T) {
	shared := testutil.SharedDir(t)
	ctx := context.Background()
	for _, server := range []string{"sogo", "horde"} {
		t.Run(server, func(t *testing.T) {
			resp := func(name string) *transport.FolderSyncResponse {
				t.Helper()
				body, err := os.ReadFile(filepath.Join(shared, "captures", server, "foldersync-"+name+".resp.wbxml"))
				require.NoError(t, err)
				r, err := transport.UnmarshalFolderSyncResponse(body)
				require.NoError(t, err)
				require.Equal(t, 1, r.Status)
				return r
			}
			store := openStore(t, t.TempDir())
			commit := func(r *transport.FolderSyncResponse, tree *Tree) {
				t.Helper()
				require.NoError(t, store.Commit(ctx, r.SyncKey, tree))
				st, err := store.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, r.SyncKey, st.SyncKey)
				requireSameTree(t, tree, st.Tree)
			}

			st, err := store.Load(ctx)
			require.NoError(t, err)
			tree := st.Tree
			initial := resp("initial")
			rep, err := tree.Apply(initial.Changes)
			require.NoError(t, err)
			assert.Equal(t, len(initial.Changes), rep.Added)
			assert.Empty(t, rep.Orphans)
			commit(initial, tree)

			added := resp("after-add")
			rep, err = tree.Apply(added.Changes)
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Added)
			commit(added, tree)

			// The same response again (Horde's replay of a resent key) changes nothing.
			before := tree.Clone()
			rep, err = tree.Apply(added.Changes)
			require.NoError(t, err)
			assert.Equal(t, ApplyReport{Updated: 1, AddsAsUpdates: 1, Unchanged: 1}, rep)
			requireSameTree(t, before, tree)
			if server == "horde" {
				_, err = tree.Apply(resp("replay-2").Changes)
				require.NoError(t, err)
				requireSameTree(t, before, tree)
			}

			full := resp("recover-0")
			rrep, err := tree.Reconcile(full.Changes)
			require.NoError(t, err)
			assert.Equal(t, len(full.Changes), tree.Len())
			assert.Equal(t, len(full.Changes), rrep.Kept+rrep.Updated+rrep.Added)
			assert.Empty(t, rrep.Orphans)
			switch server {
			case "sogo":
				// SOGo's ServerIds are stable: every folder comes back, none is removed.
				assert.Equal(t, ReconcileReport{Kept: 10}, rrep)
			case "horde":
				// Horde's reset was recorded for another device, whose folders have
				// other ServerIds: "a completely different set of mapped data"
				// (MS-ASCMD 2.2.3.25). Only the one id they share is kept.
				assert.Equal(t, 1, rrep.Kept)
				assert.Len(t, rrep.AddedIDs, 7)
				assert.Len(t, rrep.RemovedIDs, 7)
			}
			commit(full, tree)

			deleted := resp("after-delete")
			rep, err = tree.Apply(deleted.Changes)
			require.NoError(t, err)
			assert.Equal(t, ApplyReport{Deleted: 1}, rep)
			commit(deleted, tree)
		})
	}
}
