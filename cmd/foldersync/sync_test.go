package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
