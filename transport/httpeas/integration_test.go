package httpeas_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/httpeas"
)

// The integration tests run against a real EAS server when FOLDERSYNC_TEST_EAS_URL
// is set (.ci/run starts SOGo from ../shared/servers/sogo and sets it):
//
//	FOLDERSYNC_TEST_EAS_URL       the endpoint, e.g. http://127.0.0.1:28080/Microsoft-Server-ActiveSync
//	FOLDERSYNC_TEST_EAS_USER      default alice
//	FOLDERSYNC_TEST_EAS_PASSWORD  default alice-pass
//	FOLDERSYNC_TEST_SOGO_DIR      the folder of mkfolder.sh and rmfolder.sh (needs root);
//	                              without it the server-side change tests are skipped
//
// Each test uses a new DeviceId, so it starts with no server-side state.
type realServer struct {
	url, user, password, sogoDir string
}

func realServerFromEnv(t *testing.T) realServer {
	t.Helper()
	u := os.Getenv("FOLDERSYNC_TEST_EAS_URL")
	if u == "" {
		t.Skip("FOLDERSYNC_TEST_EAS_URL is not set: no real EAS server to test against (.ci/run starts SOGo and sets it)")
	}
	rs := realServer{url: u, user: os.Getenv("FOLDERSYNC_TEST_EAS_USER"), password: os.Getenv("FOLDERSYNC_TEST_EAS_PASSWORD"),
		sogoDir: os.Getenv("FOLDERSYNC_TEST_SOGO_DIR")}
	if rs.user == "" {
		rs.user, rs.password = "alice", "alice-pass"
	}
	return rs
}

func (rs realServer) client(t *testing.T, device string, base64Query bool) *httpeas.Client {
	t.Helper()
	c, err := httpeas.New(httpeas.Options{URL: rs.url, User: rs.user, Password: rs.password, DeviceID: device,
		DeviceType: "foldersynctest", Base64Query: base64Query, AllowInsecureHTTP: strings.HasPrefix(rs.url, "http://")})
	require.NoError(t, err)
	return c
}

// folder runs mkfolder.sh or rmfolder.sh from FOLDERSYNC_TEST_SOGO_DIR.
func (rs realServer) folder(t *testing.T, script, name string) {
	t.Helper()
	if rs.sogoDir == "" {
		t.Skip("FOLDERSYNC_TEST_SOGO_DIR is not set: cannot change folders on the server")
	}
	cmd := exec.Command("bash", filepath.Join(rs.sogoDir, script), rs.user, name)
	if os.Geteuid() != 0 {
		cmd = exec.Command("sudo", "-n", "bash", filepath.Join(rs.sogoDir, script), rs.user, name)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s: %s", script, name, out)
}

var devices atomic.Int64

// deviceID is a new DeviceId (letters and digits, under 32): a device the server
// has no state for.
func deviceID(*testing.T) string {
	return fmt.Sprintf("IT%x%04d", time.Now().UnixNano(), devices.Add(1)%10000)
}

// syncOnce runs one session and returns its result.
func syncOnce(t *testing.T, tr transport.Transport, store hierarchy.Store, audit *strings.Builder) *machine.Result {
	t.Helper()
	pol := policy.Default()
	sink := machine.NewJSONLines(auditWriter{audit})
	sess, err := machine.New(machine.Config{Transport: tr, Store: store, Policy: pol, Audit: sink, SessionID: t.Name()})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := sess.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, states.Synced, res.State)
	return res
}

type auditWriter struct{ b *strings.Builder }

func (w auditWriter) Write(p []byte) (int, error) {
	if w.b == nil {
		return len(p), nil
	}
	return w.b.Write(p)
}

// fullHierarchy is what a brand-new device gets with SyncKey 0: the server's truth.
func (rs realServer) fullHierarchy(t *testing.T) *hierarchy.Tree {
	t.Helper()
	res := syncOnce(t, rs.client(t, deviceID(t)+"R", false), hierarchy.NewMemoryStore(), nil)
	return res.Tree
}

func TestIntegrationInitialAndIncremental(t *testing.T) {
	rs := realServerFromEnv(t)
	for _, b64 := range []bool{false, true} {
		t.Run(fmt.Sprintf("base64=%v", b64), func(t *testing.T) {
			c := rs.client(t, deviceID(t), b64)
			info, err := c.Probe(context.Background())
			require.NoError(t, err)
			assert.NotEmpty(t, info.Chosen)
			store := hierarchy.NewMemoryStore()
			var audit strings.Builder
			first := syncOnce(t, c, store, &audit)
			require.NotNil(t, first.Applied)
			assert.Greater(t, first.Tree.Len(), 0)
			names := map[string]bool{}
			for _, f := range first.Tree.Folders() {
				names[f.DisplayName] = true
			}
			assert.True(t, names["INBOX"] || names["Inbox"], "the initial hierarchy has an inbox: %v", names)
			assert.True(t, first.Tree.Equal(rs.fullHierarchy(t)), "the client holds what a fresh device gets")

			second := syncOnce(t, c, store, &audit)
			assert.Equal(t, first.Tree.Len(), second.Tree.Len())
			assert.True(t, second.Tree.Equal(first.Tree))
			assert.Equal(t, 1, second.Counters.Attempts, "an unchanged hierarchy is one request")
			assert.NotContains(t, audit.String(), rs.password, "the audit log never holds the password")
		})
	}
}

func TestIntegrationFolderAddedAndRemoved(t *testing.T) {
	rs := realServerFromEnv(t)
	c := rs.client(t, deviceID(t), false)
	store := hierarchy.NewMemoryStore()
	syncOnce(t, c, store, nil)

	name := "IT" + fmt.Sprint(time.Now().UnixNano()%1e9)
	rs.folder(t, "mkfolder.sh", name+"/Sub")
	t.Cleanup(func() {
		if rs.sogoDir != "" {
			_ = exec.Command("bash", filepath.Join(rs.sogoDir, "rmfolder.sh"), rs.user, name).Run()
		}
	})
	added := syncOnce(t, c, store, nil)
	require.NotNil(t, added.Applied)
	assert.Equal(t, 2, added.Applied.Added, "the folder and its subfolder arrive as Adds")
	parent := findByName(added.Tree, name)
	require.NotNil(t, parent, "%s is in the client's hierarchy", name)
	sub := findByName(added.Tree, "Sub")
	require.NotNil(t, sub)
	assert.Equal(t, parent.ServerID, sub.ParentID, "the subfolder hangs under its parent")

	rs.folder(t, "rmfolder.sh", name)
	removed := syncOnce(t, c, store, nil)
	assert.Nil(t, findByName(removed.Tree, name))
	assert.Nil(t, findByName(removed.Tree, "Sub"))
	assert.True(t, removed.Tree.Equal(rs.fullHierarchy(t)))
}

// A stored SyncKey from a device the server has no state for gets Status 9 (SOGo
// answers so); the session resets to 0 and reconciles, without wiping first: a
// local add since the last sync is rolled back, every server folder is kept.
func TestIntegrationStatus9Recovery(t *testing.T) {
	rs := realServerFromEnv(t)
	store := hierarchy.NewMemoryStore()
	first := syncOnce(t, rs.client(t, deviceID(t)+"A", false), store, nil)

	// A local add, then the same state used from a device the server never saw.
	st, err := store.Load(context.Background())
	require.NoError(t, err)
	tree := st.Tree.Clone()
	require.NoError(t, tree.AddLocal(hierarchy.Folder{ServerID: "local-1", ParentID: "0", DisplayName: "Created offline", Type: transport.FolderUserMail}))
	require.NoError(t, store.Commit(context.Background(), st.SyncKey, tree))

	var audit strings.Builder
	res := syncOnce(t, rs.client(t, deviceID(t)+"B", false), store, &audit)
	assert.Contains(t, audit.String(), `"event":"key_mismatch"`, "the server answered Status 9")
	assert.Equal(t, 1, len(res.Counters.Resets))
	require.Len(t, res.RolledBack, 1)
	assert.Equal(t, "local-1", res.RolledBack[0].ServerID)
	require.NotNil(t, res.Reconciled)
	assert.Equal(t, first.Tree.Len(), res.Reconciled.Kept, "every server folder kept, none wiped and re-added")
	assert.True(t, res.Tree.Equal(first.Tree))
}

// A response lost on the way back: SOGo never compares keys, so the resend gets
// "no changes" with the same key even though the lost answer carried an Add
// (servers/sogo/README.md). The session verifies with SyncKey 0 and finds it.
func TestIntegrationLostResponseVerified(t *testing.T) {
	rs := realServerFromEnv(t)
	c := rs.client(t, deviceID(t), false)
	store := hierarchy.NewMemoryStore()
	syncOnce(t, c, store, nil)

	name := "ITlost" + fmt.Sprint(time.Now().UnixNano()%1e9)
	rs.folder(t, "mkfolder.sh", name)
	t.Cleanup(func() { _ = exec.Command("bash", filepath.Join(rs.sogoDir, "rmfolder.sh"), rs.user, name).Run() })

	var audit strings.Builder
	res := syncOnce(t, faults.Wrap(c, faults.Sequence(faults.ResponseLost)), store, &audit)
	assert.Contains(t, audit.String(), `"event":"lost"`)
	assert.Contains(t, audit.String(), `"event":"verify"`, "the no-change answer to the resend is verified")
	assert.NotNil(t, findByName(res.Tree, name), "the Add of the lost answer is not lost")
	assert.True(t, res.Tree.Equal(rs.fullHierarchy(t)))
}

func TestIntegrationWrongPassword(t *testing.T) {
	rs := realServerFromEnv(t)
	rs.password = "not-" + rs.password
	c := rs.client(t, deviceID(t), false)
	sess, err := machine.New(machine.Config{Transport: c, Store: hierarchy.NewMemoryStore()})
	require.NoError(t, err)
	res, err := sess.Sync(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, machine.ErrAuth)
	assert.Equal(t, states.Failed, res.State)
	assert.NotContains(t, err.Error(), rs.password)
}

func findByName(t *hierarchy.Tree, name string) *hierarchy.Folder {
	for _, f := range t.Folders() {
		if f.DisplayName == name {
			return &f
		}
	}
	return nil
}

// SOGo has no policy for any device (Provision Status 1, Policy Status 2): that is
// not an error; the client keeps no key and FolderSync goes on.
func TestIntegrationProvisionNoPolicy(t *testing.T) {
	rs := realServerFromEnv(t)
	for _, version := range []string{"12.1", "14.1"} {
		t.Run(version, func(t *testing.T) {
			c, err := httpeas.New(httpeas.Options{URL: rs.url, User: rs.user, Password: rs.password, DeviceID: deviceID(t),
				ProtocolVersion: version, AllowInsecureHTTP: strings.HasPrefix(rs.url, "http://")})
			require.NoError(t, err)
			res, err := c.Provision(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 200, res.HTTPStatus)
			assert.Equal(t, 1, res.Status)
			assert.Equal(t, 2, res.PolicyStatus, "no policy for this client")
			assert.Empty(t, res.PolicyKey)
			assert.False(t, res.RemoteWipe)
			assert.Empty(t, c.PolicyKey())
			syncOnce(t, c, hierarchy.NewMemoryStore(), nil)
		})
	}
}
