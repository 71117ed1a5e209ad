package faults_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// ruleThreeClient is a minimal client that follows DESIGN rules 3 and 5: resend the
// same key after an error; verify a "no changes, same key" answer to a resend with
// a SyncKey-0 sync; on Status 9 reset to key 0; reconcile every key-0 answer.
type ruleThreeClient struct {
	tr       transport.Transport
	key      string
	tree     *hierarchy.Tree
	verifies int
	resets   int
}

func (c *ruleThreeClient) sync(t *testing.T) {
	t.Helper()
	resent := false
	for range 40 {
		reply, err := c.tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: c.key})
		if err != nil {
			require.True(t, errors.Is(err, transport.ErrTimeout) || errors.Is(err, transport.ErrConnection) ||
				errors.Is(err, transport.ErrUnreadable), "%v", err)
			resent = true
			continue
		}
		require.Equal(t, 200, reply.HTTPStatus)
		resp := reply.Response
		switch resp.Status {
		case 1:
		case 9:
			c.key = transport.InitialSyncKey
			c.resets++
			continue
		default:
			t.Fatalf("status %d", resp.Status)
		}
		if c.key == transport.InitialSyncKey {
			_, err := c.tree.Reconcile(resp.Changes)
			require.NoError(t, err)
			c.key = resp.SyncKey
			return
		}
		if resent && len(resp.Changes) == 0 && resp.SyncKey == c.key {
			c.key = transport.InitialSyncKey // the lost answer may have carried changes
			c.verifies++
			continue
		}
		_, err = c.tree.Apply(resp.Changes)
		require.NoError(t, err)
		c.key = resp.SyncKey
		return
	}
	t.Fatal("resend budget exhausted")
}

// TestRecoveryUnderFaults: a rule-3 client over each profile (except SilentReset,
// whose silent full answers a client cannot tell from changes) stays equal to the
// server through seeded faults and random mutations.
func TestRecoveryUnderFaults(t *testing.T) {
	for _, p := range []sim.Profile{sim.Replay, sim.Reexecute, sim.Lenient} {
		for _, seed := range []int64{1, 2} {
			t.Run(p.String()+"/"+strconv.FormatInt(seed, 10), func(t *testing.T) {
				srv := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
				tr := faults.Wrap(srv, faults.Seeded(seed, 0.3))
				c := &ruleThreeClient{tr: tr, key: transport.InitialSyncKey, tree: &hierarchy.Tree{}}
				rng := rand.New(rand.NewPCG(uint64(seed), 99))
				for round := range 150 {
					fs := srv.Folders()
					switch f := fs[rng.IntN(len(fs))]; rng.IntN(4) {
					case 0, 1:
						require.NoError(t, srv.AddFolder(hierarchy.Folder{ServerID: "r" + strconv.Itoa(round), ParentID: f.ServerID,
							DisplayName: "R", Type: transport.FolderUserMail}))
					case 2:
						require.NoError(t, srv.RenameFolder(f.ServerID, "N"+strconv.Itoa(round)))
					default:
						if len(fs) > 8 {
							require.NoError(t, srv.DeleteFolder(f.ServerID))
						}
					}
					c.sync(t)
					want := hierarchy.NewTree(srv.Folders()...)
					require.True(t, want.Equal(c.tree), "round %d: %v", round, c.tree.Diff(want))
				}
				assert.NotEmpty(t, tr.Injected())
				if p == sim.Lenient {
					assert.Positive(t, c.verifies, "lost answers were verified with key 0")
				}
				if p == sim.Replay || p == sim.Reexecute {
					assert.Zero(t, c.resets)
				}
			})
		}
	}
}
