package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/transport/autodiscover"
	"github.com/easkit/foldersync/transport/sim"
)

func TestSyncUsageErrors(t *testing.T) {
	t.Setenv("FOLDERSYNC_PASSWORD", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "--url or --email is required"},
		{[]string{"sync", "--url", "https://x/eas", "--user", "u", "--autodiscover-url", "https://x/autodiscover/autodiscover.xml"}, "--autodiscover-url needs --email"},
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

// autodiscoverServer answers every Autodiscover request with the MobileSync URL
// *target, and counts the requests.
func autodiscoverServer(t *testing.T, target *string, hits *int) string {
	t.Helper()
	ad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		body, _ := io.ReadAll(r.Body)
		req, err := autodiscover.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := autodiscover.MarshalResponse(&autodiscover.Response{Culture: "en:us", Email: req.Email,
			Servers: []autodiscover.Server{{Type: autodiscover.TypeMobileSync, URL: *target, Name: *target}}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(out)
	}))
	t.Cleanup(ad.Close)
	return ad.URL + "/autodiscover/autodiscover.xml"
}

// --email: the first run finds the endpoint with Autodiscover and keeps it; the
// next runs use it without asking again. When the server then refuses the
// account (a 401: the mailbox moved), Autodiscover is asked again and the session
// runs once more at the server it names (MS-ASHTTP 3.1.5.2.1); a 451 that names no
// server is followed the same way (3.1.5.2.2).
func TestSyncCommandWithAutodiscover(t *testing.T) {
	const email, password = "u@example.test", "pw-123456"
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	newEAS := func(pw string) (*httptest.Server, *sim.Handler) {
		h := sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: pw}})
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s, h
	}
	a, _ := newEAS(password)
	target, hits := a.URL+"/Microsoft-Server-ActiveSync", 0
	adURL := autodiscoverServer(t, &target, &hits)
	t.Setenv("FOLDERSYNC_PASSWORD", password)
	state := t.TempDir()
	args := []string{"sync", "--email", email, "--autodiscover-url", adURL, "--state", state, "--insecure-http"}

	code, out, errOut := runCLI(t, nil, args...)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "autodiscover: "+email+" is served at "+target+" (1 endpoints asked)")
	assert.Contains(t, out, "=> synced after 1 requests")
	ep, err := loadEndpoint(state)
	require.NoError(t, err)
	assert.Equal(t, target, ep.URL)
	assert.Equal(t, "autodiscover:"+email, ep.Given)
	assert.Equal(t, email, ep.User, "--user defaults to the address")

	code, out, errOut = runCLI(t, nil, args...)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.NotContains(t, out, "autodiscover:")
	assert.Equal(t, 1, hits, "the stored endpoint is used")

	// The mailbox moves to b; a no longer knows the password.
	b, _ := newEAS(password)
	a.Config.Handler = sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: "changed-elsewhere"}})
	target = b.URL + "/Microsoft-Server-ActiveSync"
	code, out, errOut = runCLI(t, nil, args...)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "=> failed: ")
	assert.Contains(t, out, "autodiscover: "+email+" is served at "+target)
	assert.Contains(t, out, "foldersync sync: "+target)
	ep, err = loadEndpoint(state)
	require.NoError(t, err)
	assert.Equal(t, target, ep.URL, "the new server is kept")
	assert.NotContains(t, out+errOut, password)

	// A 401 where Autodiscover names the same server: the refusal stands.
	bHandler := sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: "changed-again"}})
	b.Config.Handler = bHandler
	code, out, _ = runCLI(t, nil, args...)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "autodiscover names the same server: the refusal stands")

	// A 451 without X-MS-Location: the mailbox moves to c, found by Autodiscover.
	bHandler = sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: password}})
	b.Config.Handler = bHandler
	c, _ := newEAS(password)
	target = c.URL + "/Microsoft-Server-ActiveSync"
	bHandler.Inject(sim.HTTPStep{}, sim.HTTPStep{Status: 451}) // OPTIONS, then the FolderSync
	code, out, errOut = runCLI(t, nil, args...)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "-redirect->")
	assert.Contains(t, out, "followed a 451 redirect to "+target)
	ep, err = loadEndpoint(state)
	require.NoError(t, err)
	assert.Equal(t, target, ep.URL)

	// Every session of the account, the reruns after Autodiscover included, replays.
	code, out, errOut = runCLI(t, nil, "replay", filepath.Join(state, "audit.jsonl"))
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "6 sessions") // 2 runs, 401 and the rerun, 401 again, the 451
}

// A URL is stored only once a session has synced there: neither the endpoint of a
// first run that failed nor a server Autodiscover named after a 401 that then did
// not answer takes the stored one's place.
func TestSyncCommandKeepsOnlyASyncedURL(t *testing.T) {
	const email, password = "u@example.test", "pw-123456"
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/Microsoft-Server-ActiveSync"
	dead.Close()
	target, hits := deadURL, 0
	adURL := autodiscoverServer(t, &target, &hits)
	t.Setenv("FOLDERSYNC_PASSWORD", password)
	state := t.TempDir()
	args := []string{"sync", "--email", email, "--autodiscover-url", adURL, "--state", state, "--insecure-http"}
	storedURL := func() string {
		ep, err := loadEndpoint(state)
		require.NoError(t, err)
		return ep.URL
	}

	code, out, _ := runCLI(t, nil, args...)
	assert.Equal(t, 1, code, out)
	assert.Empty(t, storedURL(), "a first run that did not sync keeps no URL")

	good := httptest.NewServer(sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: password}}))
	t.Cleanup(good.Close)
	target = good.URL + "/Microsoft-Server-ActiveSync"
	code, out, errOut := runCLI(t, nil, args...)
	require.Equal(t, 0, code, "%s\n%s", out, errOut)
	assert.Equal(t, 2, hits, "asked again, since nothing was kept")
	assert.Equal(t, target, storedURL())

	// The server refuses the account and Autodiscover names a server that is gone.
	good.Config.Handler = sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{email: "changed"}})
	kept := target
	target = deadURL
	code, out, _ = runCLI(t, nil, args...)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "autodiscover: "+email+" is served at "+deadURL)
	assert.Equal(t, kept, storedURL(), "the server that never synced is not kept")
}

func TestInDomain(t *testing.T) {
	for _, c := range []struct {
		url  string
		want bool
	}{
		{"https://example.com/autodiscover/autodiscover.xml", true},
		{"https://autodiscover.EXAMPLE.com/autodiscover/autodiscover.xml", true},
		{"https://a.b.example.com:8443/x", true},
		{"https://badexample.com/autodiscover/autodiscover.xml", false},
		{"https://example.com.evil.net/autodiscover/autodiscover.xml", false},
		{"https://autodiscover.outlook.com/autodiscover/autodiscover.xml", false},
		{"::not a url", false},
	} {
		assert.Equal(t, c.want, inDomain(c.url, "chris@example.com"), c.url)
	}
	assert.False(t, inDomain("https://example.com/", "no-at-sign"))
}
