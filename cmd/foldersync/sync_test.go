package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/transport/sim"
)

func TestSyncUsageErrors(t *testing.T) {
	t.Setenv("FOLDERSYNC_PASSWORD", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "--url is required"},
		{[]string{"sync", "--url", "https://x/eas"}, "--user is required"},
		{[]string{"sync", "--url", "https://x/eas", "--user", "u"}, "FOLDERSYNC_PASSWORD is empty"},
		{[]string{"sync", "--url", "https://x/eas", "--user", "u", "extra"}, "unexpected argument"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, nil, c.args...)
		assert.Equal(t, 2, code, c.args)
		assert.Empty(t, out)
		assert.Contains(t, errOut, c.want)
	}
	t.Setenv("FOLDERSYNC_PASSWORD", "secret-pass")
	code, _, errOut := runCLI(t, nil, "sync", "--url", "http://example.invalid/eas", "--user", "u", "--state", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "plain HTTP")
	assert.Contains(t, errOut, "--insecure-http")
	assert.NotContains(t, errOut, "secret-pass")
}

// Against a real server (FOLDERSYNC_TEST_EAS_URL; .ci/run starts SOGo): the command
// a new user types, twice. The second run continues from the stored key and
// device id; the password appears in no output and no stored file.
func TestIntegrationSyncCommand(t *testing.T) {
	url := os.Getenv("FOLDERSYNC_TEST_EAS_URL")
	if url == "" {
		t.Skip("FOLDERSYNC_TEST_EAS_URL is not set: no real EAS server (.ci/run starts SOGo and sets it)")
	}
	user, pass := os.Getenv("FOLDERSYNC_TEST_EAS_USER"), os.Getenv("FOLDERSYNC_TEST_EAS_PASSWORD")
	if user == "" {
		user, pass = "alice", "alice-pass"
	}
	t.Setenv("FOLDERSYNC_PASSWORD", pass)
	state := t.TempDir()
	args := []string{"sync", "--url", url, "--user", user, "--state", state, "--insecure-http"}

	code, out, errOut := runCLI(t, nil, args...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	assert.Contains(t, out, "awaiting -success-> synced")
	assert.Contains(t, out, "=> synced after 1 requests")
	assert.Contains(t, out, "INBOX  [Inbox]")

	code, out2, errOut := runCLI(t, nil, args...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out2, errOut)
	assert.Contains(t, out2, "=> synced after 1 requests, 0 resets", "the second run continues from the stored key on the same device")
	assert.Contains(t, out2, "INBOX  [Inbox]")

	t.Setenv("FOLDERSYNC_PASSWORD", "wrong-"+pass)
	code, out3, errOut := runCLI(t, nil, args...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "the credentials were refused")
	assert.Contains(t, out3, "-auth_failed-> failed")

	for _, text := range []string{out, out2, out3, errOut} {
		assert.NotContains(t, text, pass)
	}
	err := filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.False(t, strings.Contains(string(b), pass), "%s holds the password", p)
		return nil
	})
	require.NoError(t, err)
}

// Against the simulated server over HTTP: the state carries the device, key and
// recent resets from run to run, without inflating them, and refuses another
// account's state.
func TestSyncCommandAgainstSim(t *testing.T) {
	newServer := func() *httptest.Server {
		srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
		h := httptest.NewServer(sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{"u": "pw-123456"}}))
		t.Cleanup(h.Close)
		return h
	}
	t.Setenv("FOLDERSYNC_PASSWORD", "pw-123456")
	state := t.TempDir()
	h := newServer()
	args := func(url string) []string {
		return []string{"sync", "--url", url + "/Microsoft-Server-ActiveSync", "--user", "u", "--state", state, "--insecure-http"}
	}
	readEP := func() endpoint {
		ep, err := loadEndpoint(state)
		require.NoError(t, err)
		return ep
	}

	code, out, errOut := runCLI(t, nil, args(h.URL)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "=> synced after 1 requests, 0 resets")
	assert.Contains(t, out, "Inbox  [Inbox]")
	device := readEP().DeviceID
	require.NotEmpty(t, device)

	code, out, errOut = runCLI(t, nil, args(h.URL)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "=> synced after 1 requests, 0 resets", "same server, stored key")

	// A server that lost the device's state answers the stored key with Status 9.
	for i := 0; i < 2; i++ {
		fresh := newServer()
		// The endpoint is tied to its --url: point the stored state at the new server.
		ep := readEP()
		ep.URL, ep.Given = fresh.URL+"/Microsoft-Server-ActiveSync", fresh.URL+"/Microsoft-Server-ActiveSync"
		require.NoError(t, saveEndpoint(state, ep))
		code, out, errOut = runCLI(t, nil, args(fresh.URL)...)
		require.Equal(t, 0, code, "run %d: %s\n%s", i, out, errOut)
		assert.Contains(t, out, "-key_mismatch-> resetting")
		assert.Contains(t, out, "1 resets", "this session's resets only")
		assert.Len(t, readEP().Resets, i+1, "one stored reset per real reset, never doubled")
		assert.Equal(t, device, readEP().DeviceID)
	}

	code, _, errOut = runCLI(t, nil, "sync", "--url", h.URL+"/Microsoft-Server-ActiveSync", "--user", "someone-else", "--state", state, "--insecure-http")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "give each account its own --state directory")
}
