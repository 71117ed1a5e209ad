package sim_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

var allProfiles = []sim.Profile{sim.Replay, sim.Reexecute, sim.Lenient, sim.SilentReset}

// folder builds a user mail folder.
func folder(id, parent, name string) hierarchy.Folder {
	return hierarchy.Folder{ServerID: id, ParentID: parent, DisplayName: name, Type: transport.FolderUserMail}
}

// send makes one FolderSync with key and requires an HTTP 200 reply with a body.
func send(t *testing.T, s *sim.Server, key string) *transport.FolderSyncResponse {
	t.Helper()
	reply, err := s.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: key})
	require.NoError(t, err)
	require.Equal(t, 200, reply.HTTPStatus)
	require.NotNil(t, reply.Response)
	return reply.Response
}

// client is the minimal state a FolderSync client keeps: its key and its tree.
type client struct {
	key  string
	tree *hierarchy.Tree
}

func newClient() *client { return &client{key: transport.InitialSyncKey, tree: &hierarchy.Tree{}} }

// sync sends the client's key, applies a Status 1 answer and takes its key.
func (c *client) sync(t *testing.T, s *sim.Server) *transport.FolderSyncResponse {
	t.Helper()
	resp := send(t, s, c.key)
	require.Equal(t, 1, resp.Status, "key %q", c.key)
	_, err := c.tree.Apply(resp.Changes)
	require.NoError(t, err)
	c.key = resp.SyncKey
	return resp
}

// serverTree is the server's hierarchy as a Tree.
func serverTree(t *testing.T, s *sim.Server) *hierarchy.Tree {
	t.Helper()
	tr, err := hierarchy.BuildTree(s.Folders())
	require.NoError(t, err)
	return tr
}

// requireInSync fails unless the client's tree is the server's hierarchy.
func requireInSync(t *testing.T, c *client, s *sim.Server, msgAndArgs ...any) {
	t.Helper()
	want := serverTree(t, s)
	require.True(t, want.Equal(c.tree), "client differs from server: %v %v", c.tree.Diff(want), msgAndArgs)
	require.Empty(t, c.tree.Orphans())
}

// requireAllAddsParentsFirst checks that changes are the whole of want as Adds, each
// folder after its parent.
func requireAllAddsParentsFirst(t *testing.T, changes []transport.FolderChange, want []hierarchy.Folder) {
	t.Helper()
	require.Len(t, changes, len(want))
	seen := map[string]bool{hierarchy.RootID: true}
	for _, c := range changes {
		require.Equal(t, transport.OpAdd, c.Op, "%+v", c)
		require.True(t, seen[c.ParentID], "%q comes before its parent %q", c.ServerID, c.ParentID)
		seen[c.ServerID] = true
	}
	got := &hierarchy.Tree{}
	_, err := got.Apply(changes)
	require.NoError(t, err)
	require.True(t, hierarchy.NewTree(want...).Equal(got), "%v", got.Diff(hierarchy.NewTree(want...)))
}

// ops summarises changes as "Op:ServerID" strings, in order.
func ops(changes []transport.FolderChange) []string {
	out := make([]string, 0, len(changes))
	for _, c := range changes {
		out = append(out, c.Op.String()+":"+c.ServerID)
	}
	return out
}
