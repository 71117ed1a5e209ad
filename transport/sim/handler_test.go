package sim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
	"github.com/easkit/foldersync/transport/sim"
)

// easClient is a bare MS-ASHTTP client built from net/http, ashttp and the wire
// types, to test the Handler without transport/httpeas.
type easClient struct {
	url        string
	hc         *http.Client
	user, pass string
	bearer     string
	deviceID   string
	deviceType string
	version    string
	policyKey  string
	base64     bool
	header     http.Header // extra request headers
}

func newEASClient(url string) *easClient {
	return &easClient{
		url: url + "/Microsoft-Server-ActiveSync", hc: &http.Client{},
		user: "alice", pass: "secret", deviceID: "dev0123456789", deviceType: "SimPhone", version: "14.1",
	}
}

func (c *easClient) request(ctx context.Context, method, cmd string, body []byte) *http.Request {
	u := c.url
	if method == http.MethodPost {
		q := ashttp.Query{Cmd: cmd, User: c.user, DeviceID: c.deviceID, DeviceType: c.deviceType, Version: c.version, PolicyKey: c.policyKey}
		encode := ashttp.EncodePlain
		if c.base64 {
			encode = ashttp.EncodeBase64
		}
		raw, err := encode(q)
		if err != nil {
			panic(err)
		}
		u += "?" + raw
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", ashttp.ContentTypeWBXML)
		if !c.base64 {
			req.Header.Set(ashttp.HeaderProtocolVersion, c.version)
			if c.policyKey != "" {
				req.Header.Set(ashttp.HeaderPolicyKey, c.policyKey)
			}
		}
	}
	switch {
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	case c.user != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	for name, v := range c.header {
		req.Header[name] = v
	}
	return req
}

// do sends a request and reads the whole answer.
func (c *easClient) do(t *testing.T, method, cmd string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.hc.Do(c.request(context.Background(), method, cmd, body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func (c *easClient) folderSync(t *testing.T, key string) (*http.Response, *transport.FolderSyncResponse) {
	t.Helper()
	body, err := (&transport.FolderSyncRequest{SyncKey: key}).MarshalWBXML()
	require.NoError(t, err)
	resp, b := c.do(t, http.MethodPost, "FolderSync", body)
	if resp.StatusCode != http.StatusOK {
		return resp, nil
	}
	fs, err := transport.UnmarshalFolderSyncResponse(b)
	require.NoError(t, err)
	return resp, fs
}

func (c *easClient) provision(t *testing.T, req *transport.ProvisionRequest) (*http.Response, *transport.ProvisionResponse) {
	t.Helper()
	body, err := req.MarshalWBXML()
	require.NoError(t, err)
	resp, b := c.do(t, http.MethodPost, "Provision", body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	pr, err := transport.UnmarshalProvisionResponse(b)
	require.NoError(t, err)
	return resp, pr
}

var testUsers = map[string]string{"alice": "secret"}

// startHandler serves a Lenient server with the default folders.
func startHandler(t *testing.T, opts sim.HandlerOptions) (*sim.Server, *sim.Handler, *easClient) {
	t.Helper()
	srv := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
	h := sim.NewHandler(srv, opts)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, h, newEASClient(ts.URL)
}

func lastExchange(t *testing.T, h *sim.Handler) sim.HTTPExchange {
	t.Helper()
	ex := h.Exchanges()
	require.NotEmpty(t, ex)
	return ex[len(ex)-1]
}

func TestHandlerOptions(t *testing.T) {
	tests := []struct {
		name         string
		versions     []string
		step         *sim.HTTPStep
		wantVersions string
		wantServer   string
		wantCommands string
	}{
		{name: "defaults", wantVersions: "2.5,12.0,12.1,14.0,14.1,16.0,16.1", wantServer: "16.1"},
		{name: "as SOGo", versions: []string{"2.5", "12.0", "12.1", "14.0", "14.1"}, wantVersions: "2.5,12.0,12.1,14.0,14.1", wantServer: "14.1"},
		{name: "commands restricted", step: &sim.HTTPStep{Commands: []string{"Sync", "Ping"}},
			wantVersions: "2.5,12.0,12.1,14.0,14.1,16.0,16.1", wantServer: "16.1", wantCommands: "Sync,Ping"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, h, c := startHandler(t, sim.HandlerOptions{Users: testUsers, Versions: tc.versions})
			if tc.step != nil {
				h.Inject(*tc.step)
			}
			resp, body := c.do(t, http.MethodOptions, "", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, body)
			assert.Equal(t, tc.wantVersions, resp.Header.Get(ashttp.HeaderProtocolVersions))
			assert.Equal(t, tc.wantServer, resp.Header.Get(ashttp.HeaderServerVersion))
			assert.Equal(t, "OPTIONS,POST", resp.Header.Get("Allow"))
			cmds := strings.Split(resp.Header.Get(ashttp.HeaderProtocolCommands), ",")
			if tc.wantCommands != "" {
				assert.Equal(t, tc.wantCommands, resp.Header.Get(ashttp.HeaderProtocolCommands))
			} else {
				assert.Contains(t, cmds, "FolderSync")
				assert.Contains(t, cmds, "Provision")
			}
			ex := lastExchange(t, h)
			assert.Equal(t, http.MethodOptions, ex.Method)
			assert.Equal(t, "alice", ex.User)
			assert.Equal(t, 200, ex.HTTPStatus)

			// The next OPTIONS announces the full list again.
			resp, _ = c.do(t, http.MethodOptions, "", nil)
			assert.Contains(t, strings.Split(resp.Header.Get(ashttp.HeaderProtocolCommands), ","), "FolderSync")
		})
	}
}

// TestHandlerFolderSyncMatchesInProcess: for each profile, the same conversation
// through HTTP and in process gives the same answers, byte for byte.
func TestHandlerFolderSyncMatchesInProcess(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.String(), func(t *testing.T) {
			remote := sim.New(p, sim.WithFolders(sim.DefaultFolders()...), sim.WithKeyPrefix("k_"))
			local := sim.New(p, sim.WithFolders(sim.DefaultFolders()...), sim.WithKeyPrefix("k_"))
			h := sim.NewHandler(remote, sim.HandlerOptions{})
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			c := newEASClient(ts.URL)

			both := func(mut func(s *sim.Server) error) {
				require.NoError(t, mut(remote))
				require.NoError(t, mut(local))
			}
			check := func(key string) *transport.FolderSyncResponse {
				t.Helper()
				resp, got := c.folderSync(t, key)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, ashttp.ContentTypeWBXML, resp.Header.Get("Content-Type"))
				want := send(t, local, key)
				require.Equal(t, want, got)
				return got
			}
			initial := check("0")
			assert.Len(t, initial.Changes, len(sim.DefaultFolders()))
			both(func(s *sim.Server) error { return s.AddFolder(folder("new", "inbox", "New")) })
			both(func(s *sim.Server) error { return s.RenameFolder("archive", "Old") })
			incr := check(initial.SyncKey)
			check(initial.SyncKey) // the resend after a lost response
			check(incr.SyncKey)
			check("bogus")
			assert.Equal(t, local.History(), remote.History())
			for i, ex := range h.Exchanges() {
				assert.Equal(t, "sim-"+strconv.Itoa(i+1), ex.RequestID)
				assert.Equal(t, remote.History()[i].Status, ex.CommandStatus)
				assert.Equal(t, remote.History()[i].RequestKey, ex.SyncKey)
			}
		})
	}
}

// TestHandlerQueryForms: both request-line forms are served and recorded field by
// field.
func TestHandlerQueryForms(t *testing.T) {
	tests := []struct {
		name      string
		base64    bool
		policyKey string
	}{
		{"plain", false, ""},
		{"plain with policy key", false, "3000000002"},
		{"base64", true, ""},
		{"base64 with policy key", true, "3000000002"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, h, c := startHandler(t, sim.HandlerOptions{Users: testUsers})
			c.base64, c.policyKey = tc.base64, tc.policyKey
			c.header = http.Header{"User-Agent": {"sim-test/1"}}
			resp, fs := c.folderSync(t, "0")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, 1, fs.Status)
			assert.Equal(t, 1, srv.Requests())

			ex := lastExchange(t, h)
			assert.Equal(t, 1, ex.N)
			assert.Equal(t, http.MethodPost, ex.Method)
			assert.Equal(t, "FolderSync", ex.Cmd)
			assert.Equal(t, tc.base64, ex.Base64)
			assert.Equal(t, "FolderSync", ex.Query.Cmd)
			assert.Equal(t, "alice", ex.Query.User)
			assert.Equal(t, "dev0123456789", ex.Query.DeviceID)
			assert.Equal(t, "SimPhone", ex.Query.DeviceType)
			assert.Equal(t, "14.1", ex.Query.Version)
			assert.Equal(t, "14.1", ex.Version)
			assert.Equal(t, tc.policyKey, ex.Query.PolicyKey)
			assert.Equal(t, tc.policyKey, ex.PolicyKey)
			if tc.base64 {
				assert.Equal(t, ashttp.DefaultLocale, ex.Query.Locale)
				assert.Empty(t, ex.Header.Get(ashttp.HeaderProtocolVersion))
			} else {
				assert.Equal(t, "14.1", ex.Header.Get(ashttp.HeaderProtocolVersion))
			}
			assert.Equal(t, "alice", ex.User)
			assert.Equal(t, 200, ex.HTTPStatus)
			assert.Equal(t, 1, ex.CommandStatus)
			assert.Equal(t, "0", ex.SyncKey)
			assert.Equal(t, "sim-1", ex.RequestID)
			assert.Empty(t, ex.Error)
			assert.Equal(t, "sim-test/1", ex.Header.Get("User-Agent"))
			assert.Equal(t, ashttp.ContentTypeWBXML, ex.Header.Get("Content-Type"))
			assert.NotContains(t, ex.Header, "Authorization")
		})
	}
}

// TestHandlerRejects: requests the handler refuses, and why.
func TestHandlerRejects(t *testing.T) {
	goodBody, err := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
	require.NoError(t, err)
	tests := []struct {
		name       string
		versions   []string
		edit       func(r *http.Request)
		cmd        string
		body       []byte
		wantStatus int
		wantText   string
	}{
		{name: "no query", edit: func(r *http.Request) { r.URL.RawQuery = "" }, wantStatus: 400, wantText: "no query"},
		{name: "base64 garbage", edit: func(r *http.Request) { r.URL.RawQuery = "!!!notbase64" }, wantStatus: 400, wantText: "not base64"},
		{name: "base64 truncated", edit: func(r *http.Request) { r.URL.RawQuery = "jQkJBA==" }, wantStatus: 400, wantText: "Device ID"},
		{name: "plain without DeviceId", edit: func(r *http.Request) { r.URL.RawQuery = "Cmd=FolderSync&User=alice&DeviceType=X" }, wantStatus: 400, wantText: "DeviceId"},
		{name: "unknown command name", edit: func(r *http.Request) {
			r.URL.RawQuery = "Cmd=Teleport&User=alice&DeviceId=d1&DeviceType=X"
		}, wantStatus: 400, wantText: "Teleport"},
		{name: "no version header", edit: func(r *http.Request) { r.Header.Del(ashttp.HeaderProtocolVersion) }, wantStatus: 400, wantText: ashttp.HeaderProtocolVersion},
		{name: "unknown version", edit: func(r *http.Request) { r.Header.Set(ashttp.HeaderProtocolVersion, "99.9") }, wantStatus: 400, wantText: `"99.9" is not supported`},
		{name: "unsupported version", versions: []string{"12.1", "14.0", "14.1"}, edit: func(r *http.Request) {
			r.Header.Set(ashttp.HeaderProtocolVersion, "16.1")
		}, wantStatus: 400, wantText: "12.1,14.0,14.1"},
		{name: "wrong content type", edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/xml") }, wantStatus: 400, wantText: "text/xml"},
		{name: "no content type", edit: func(r *http.Request) { r.Header.Del("Content-Type") }, wantStatus: 400, wantText: "Content-Type"},
		{name: "body too large", body: make([]byte, sim.MaxRequestBody+1), wantStatus: 413, wantText: "larger than"},
		{name: "command not implemented", cmd: "Sync", wantStatus: 501, wantText: "Sync is not implemented"},
		{name: "method not allowed", edit: func(r *http.Request) { r.Method, r.Body, r.ContentLength = http.MethodGet, http.NoBody, 0 }, wantStatus: 405, wantText: "GET"},
		{name: "FolderSync body not WBXML", body: []byte("<FolderSync/>"), wantStatus: 500, wantText: "unreadable FolderSync body"},
		{name: "FolderSync empty body", body: []byte{}, wantStatus: 500, wantText: "unreadable FolderSync body"},
		{name: "Provision body not Provision", cmd: "Provision", wantStatus: 500, wantText: "unreadable Provision body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
			h := sim.NewHandler(srv, sim.HandlerOptions{Versions: tc.versions})
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			c := newEASClient(ts.URL)
			cmd, body := orDefault(tc.cmd, "FolderSync"), goodBody
			if tc.body != nil {
				body = tc.body
			}
			req := c.request(context.Background(), http.MethodPost, cmd, body)
			if tc.edit != nil {
				tc.edit(req)
			}
			resp, err := c.hc.Do(req)
			require.NoError(t, err)
			text, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())

			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Contains(t, string(text), tc.wantText)
			assert.NotEmpty(t, resp.Header.Get(ashttp.HeaderServerVersion), "every answer carries MS-Server-ActiveSync")
			if tc.wantStatus == 405 {
				assert.Equal(t, "OPTIONS,POST", resp.Header.Get("Allow"))
			}
			assert.Equal(t, 0, srv.Requests(), "nothing reaches the server")
			ex := lastExchange(t, h)
			assert.Equal(t, tc.wantStatus, ex.HTTPStatus)
			assert.Contains(t, ex.Error, tc.wantText)
		})
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestHandlerAuth(t *testing.T) {
	tests := []struct {
		name          string
		users         map[string]string
		tokens        map[string]string
		method        string
		edit          func(c *easClient)
		wantStatus    int
		wantChallenge []string
		wantUser      string
	}{
		{name: "basic ok", users: testUsers, wantStatus: 200, wantUser: "alice"},
		{name: "no header", users: testUsers, edit: func(c *easClient) { c.user = "" },
			wantStatus: 401, wantChallenge: []string{`Basic realm="sim"`}},
		{name: "OPTIONS without credentials", users: testUsers, method: http.MethodOptions, edit: func(c *easClient) { c.user = "" },
			wantStatus: 401, wantChallenge: []string{`Basic realm="sim"`}},
		{name: "wrong password", users: testUsers, edit: func(c *easClient) { c.pass = "guess" },
			wantStatus: 401, wantChallenge: []string{`Basic realm="sim"`}},
		{name: "unknown user", users: testUsers, edit: func(c *easClient) { c.user = "mallory" },
			wantStatus: 401, wantChallenge: []string{`Basic realm="sim"`}},
		{name: "bearer ok", tokens: map[string]string{"tok-1": "bob"}, edit: func(c *easClient) { c.bearer = "tok-1" },
			wantStatus: 200, wantUser: "bob"},
		{name: "bearer wrong", tokens: map[string]string{"tok-1": "bob"}, edit: func(c *easClient) { c.bearer = "tok-2" },
			wantStatus: 401, wantChallenge: []string{`Bearer realm="sim", error="invalid_token"`}},
		{name: "bearer missing", tokens: map[string]string{"tok-1": "bob"}, edit: func(c *easClient) { c.user = "" },
			wantStatus: 401, wantChallenge: []string{`Bearer realm="sim"`}},
		{name: "basic where only bearer is accepted", tokens: map[string]string{"tok-1": "bob"},
			wantStatus: 401, wantChallenge: []string{`Bearer realm="sim"`}},
		{name: "both schemes offered", users: testUsers, tokens: map[string]string{"tok-1": "bob"}, edit: func(c *easClient) { c.pass = "x" },
			wantStatus: 401, wantChallenge: []string{`Basic realm="sim"`, `Bearer realm="sim"`}},
		{name: "no auth configured", edit: func(c *easClient) { c.user = "" }, wantStatus: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
			h := sim.NewHandler(srv, sim.HandlerOptions{Users: tc.users, Tokens: tc.tokens})
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			c := newEASClient(ts.URL)
			if tc.edit != nil {
				tc.edit(c)
			}
			var resp *http.Response
			if tc.method == http.MethodOptions {
				resp, _ = c.do(t, http.MethodOptions, "", nil)
			} else {
				resp, _ = c.folderSync(t, "0")
			}
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantChallenge, resp.Header.Values("Www-Authenticate"))
			ex := lastExchange(t, h)
			assert.Equal(t, tc.wantUser, ex.User)
			assert.NotContains(t, ex.Header, "Authorization", "credentials are never recorded")
			if tc.wantStatus == 401 {
				assert.Equal(t, 0, srv.Requests())
			}
		})
	}
}

// fixedNow is the handler clock of the step tests.
var fixedNow = time.Date(2026, 11, 21, 23, 3, 42, 0, time.UTC)

// TestHandlerSteps covers each injected behaviour.
func TestHandlerSteps(t *testing.T) {
	type result struct {
		resp   *http.Response
		body   []byte
		err    error // from Do
		rerr   error // from reading the body
		server *sim.Server
		h      *sim.Handler
		took   time.Duration
	}
	tests := []struct {
		name    string
		step    func(h *sim.Handler) sim.HTTPStep
		timeout time.Duration
		check   func(t *testing.T, r result)
	}{
		{"503 with Retry-After seconds", func(*sim.Handler) sim.HTTPStep {
			return sim.HTTPStep{Status: 503, RetryAfter: "30", Throttle: "CommandFrequency"}
		}, 0, func(t *testing.T, r result) {
			assert.Equal(t, 503, r.resp.StatusCode)
			assert.Empty(t, r.body)
			assert.Equal(t, "30", r.resp.Header.Get(ashttp.HeaderRetryAfter))
			assert.Equal(t, "CommandFrequency", r.resp.Header.Get(ashttp.HeaderThrottle))
			assert.Equal(t, 0, r.server.Requests(), "not served")
		}},
		{"503 with Retry-After date", func(h *sim.Handler) sim.HTTPStep {
			return sim.HTTPStep{Status: 503, RetryAfter: h.RetryAfterDate(2 * time.Minute)}
		}, 0, func(t *testing.T, r result) {
			assert.Equal(t, 503, r.resp.StatusCode)
			assert.Equal(t, "Sat, 21 Nov 2026 23:05:42 GMT", r.resp.Header.Get(ashttp.HeaderRetryAfter))
			assert.Equal(t, "Sat, 21 Nov 2026 23:03:42 GMT", r.resp.Header.Get("Date"), "the Date header follows Now")
			d, ok, err := ashttp.ParseRetryAfter(r.resp.Header.Get(ashttp.HeaderRetryAfter), fixedNow)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.Equal(t, 2*time.Minute, d)
		}},
		{"451 with X-MS-Location", func(*sim.Handler) sim.HTTPStep {
			return sim.HTTPStep{Status: 451, Location: "https://mail2.example.com/Microsoft-Server-ActiveSync"}
		}, 0, func(t *testing.T, r result) {
			assert.Equal(t, 451, r.resp.StatusCode)
			assert.Equal(t, "https://mail2.example.com/Microsoft-Server-ActiveSync", r.resp.Header.Get(ashttp.HeaderLocation))
			assert.NotEmpty(t, r.resp.Header.Get(ashttp.HeaderServerVersion))
		}},
		{"short delay is served", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Delay: 50 * time.Millisecond} }, 0,
			func(t *testing.T, r result) {
				assert.Equal(t, 200, r.resp.StatusCode)
				assert.GreaterOrEqual(t, r.took, 50*time.Millisecond)
				assert.Equal(t, 1, r.server.Requests())
			}},
		{"delay beyond the client timeout", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Delay: time.Minute} }, 100 * time.Millisecond,
			func(t *testing.T, r result) {
				require.Error(t, r.err)
				var ne interface{ Timeout() bool }
				require.True(t, errors.As(r.err, &ne) && ne.Timeout(), "%v", r.err)
				assert.Less(t, r.took, 10*time.Second)
				// The handler notices the client left and returns without answering.
				require.Eventually(t, func() bool { return len(r.h.Exchanges()) == 1 }, 5*time.Second, 10*time.Millisecond)
				assert.Equal(t, 0, r.h.Exchanges()[0].HTTPStatus)
				assert.Equal(t, time.Minute, r.h.Exchanges()[0].Step.Delay)
				assert.Equal(t, 0, r.server.Requests())
			}},
		{"reset", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Reset: true} }, 0, func(t *testing.T, r result) {
			require.Error(t, r.err)
			assert.ErrorIs(t, r.err, syscall.ECONNRESET, "SO_LINGER 0: a TCP reset, not a clean close")
			assert.Nil(t, r.resp)
			assert.Equal(t, 0, r.server.Requests())
			assert.Equal(t, 0, r.h.Exchanges()[0].HTTPStatus)
			assert.True(t, r.h.Exchanges()[0].Step.Reset)
		}},
		{"truncate", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Truncate: true} }, 0, func(t *testing.T, r result) {
			require.NoError(t, r.err)
			assert.Equal(t, 200, r.resp.StatusCode)
			assert.ErrorIs(t, r.rerr, io.ErrUnexpectedEOF)
			assert.Positive(t, r.resp.ContentLength)
			assert.Equal(t, int(r.resp.ContentLength)/2, len(r.body))
			assert.Equal(t, 1, r.server.Requests(), "served: the response was lost on the way")
			assert.Equal(t, "1", r.server.CurrentKey())
		}},
		{"drop", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Drop: true} }, 0, func(t *testing.T, r result) {
			require.Error(t, r.err)
			assert.ErrorIs(t, r.err, syscall.ECONNRESET)
			assert.Nil(t, r.resp)
			assert.Equal(t, 1, r.server.Requests(), "served: the answer was lost on the way")
			assert.Equal(t, "1", r.server.CurrentKey())
			ex := r.h.Exchanges()[0]
			assert.Equal(t, 0, ex.HTTPStatus, "nothing answered")
			assert.Equal(t, 1, ex.CommandStatus, "what it would have answered")
			assert.Equal(t, "sim-1", ex.RequestID)
			assert.True(t, ex.Step.Drop)
		}},
		{"mangle", func(*sim.Handler) sim.HTTPStep {
			return sim.HTTPStep{Mangle: func(b []byte) []byte { b[len(b)/2] = 0xFF; return b[:len(b)-1] }}
		}, 0, func(t *testing.T, r result) {
			require.NoError(t, r.rerr)
			assert.Equal(t, 200, r.resp.StatusCode)
			clean, err := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...)).FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
			require.NoError(t, err)
			want, err := clean.Response.MarshalWBXML()
			require.NoError(t, err)
			want[len(want)/2] = 0xFF
			assert.Equal(t, want[:len(want)-1], r.body, "the served answer, through Mangle")
			assert.Equal(t, 1, r.server.Requests())
		}},
		{"garbage", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Garbage: true} }, 0, func(t *testing.T, r result) {
			assert.Equal(t, 200, r.resp.StatusCode)
			require.NoError(t, r.rerr)
			assert.NotEmpty(t, r.body)
			_, err := transport.UnmarshalFolderSyncResponse(r.body)
			assert.Error(t, err)
			assert.Equal(t, 0, r.server.Requests())
		}},
		{"oversize", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{Oversize: 3<<20 + 1} }, 0, func(t *testing.T, r result) {
			assert.Equal(t, 200, r.resp.StatusCode)
			require.NoError(t, r.rerr)
			assert.Equal(t, int64(3<<20+1), r.resp.ContentLength)
			assert.Len(t, r.body, 3<<20+1)
			assert.Equal(t, []byte{0x03, 0x01, 0x6a, 0x00}, r.body[:4], "a WBXML header")
			_, err := transport.UnmarshalFolderSyncResponse(r.body)
			assert.Error(t, err)
			assert.Equal(t, 0, r.server.Requests())
		}},
		{"X-MS-RP", func(*sim.Handler) sim.HTTPStep { return sim.HTTPStep{ResetRequested: true} }, 0, func(t *testing.T, r result) {
			assert.Equal(t, 200, r.resp.StatusCode)
			assert.Equal(t, ashttp.Versions, ashttp.ParseVersions(r.resp.Header.Get(ashttp.HeaderRP)))
			fs, err := transport.UnmarshalFolderSyncResponse(r.body)
			require.NoError(t, err)
			assert.Equal(t, 1, fs.Status)
			assert.Equal(t, 1, r.server.Requests())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
			h := sim.NewHandler(srv, sim.HandlerOptions{Now: func() time.Time { return fixedNow }})
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			c := newEASClient(ts.URL)
			c.hc.Timeout = tc.timeout
			h.Inject(tc.step(h))

			body, err := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
			require.NoError(t, err)
			start := time.Now()
			r := result{server: srv, h: h}
			r.resp, r.err = c.hc.Do(c.request(context.Background(), http.MethodPost, "FolderSync", body))
			if r.err == nil {
				r.body, r.rerr = io.ReadAll(r.resp.Body)
				r.resp.Body.Close()
			}
			r.took = time.Since(start)
			tc.check(t, r)

			// One step per request: the next is served normally.
			c.hc.Timeout = 0
			resp, fs := c.folderSync(t, "0")
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, 1, fs.Status)
			assert.Empty(t, resp.Header.Get(ashttp.HeaderRP))
			assert.Empty(t, resp.Header.Get(ashttp.HeaderRetryAfter))
		})
	}
}

// TestHandlerStepsInOrder: queued steps are taken one per request, OPTIONS
// included, then normal service resumes.
func TestHandlerStepsInOrder(t *testing.T) {
	srv, h, c := startHandler(t, sim.HandlerOptions{})
	h.Inject(sim.HTTPStep{Status: 503}, sim.HTTPStep{Status: 500})
	h.Inject(sim.HTTPStep{Status: 507})
	resp, _ := c.do(t, http.MethodOptions, "", nil)
	assert.Equal(t, 503, resp.StatusCode)
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 500, resp.StatusCode)
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 507, resp.StatusCode)
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 1, srv.Requests())
	var got []int
	for _, ex := range h.Exchanges() {
		got = append(got, ex.HTTPStatus)
	}
	assert.Equal(t, []int{503, 500, 507, 200}, got)
}

// A step with Cmd waits for that command: OPTIONS and a Provision pass it by and
// leave it queued; Uninject takes back what no request took.
func TestHandlerStepForCommand(t *testing.T) {
	srv, h, c := startHandler(t, sim.HandlerOptions{})
	h.Inject(sim.HTTPStep{Cmd: "FolderSync", Status: 503})
	resp, _ := c.do(t, http.MethodOptions, "", nil)
	assert.Equal(t, 200, resp.StatusCode)
	resp, _ = c.do(t, http.MethodPost, "Provision", []byte{0x03, 0x01, 0x6a, 0x00})
	assert.NotEqual(t, 503, resp.StatusCode)
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 503, resp.StatusCode)
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 1, srv.Requests())

	h.Inject(sim.HTTPStep{Cmd: "FolderSync", Reset: true}, sim.HTTPStep{Status: 500})
	assert.Equal(t, 2, h.Uninject())
	assert.Equal(t, 0, h.Uninject())
	resp, _ = c.folderSync(t, "0")
	assert.Equal(t, 200, resp.StatusCode)
}

// TestHandlerProvision is the two-phase exchange of MS-ASPROV 3.2.5.1 in both query
// forms.
func TestHandlerProvision(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		t.Run("base64="+strconv.FormatBool(b64), func(t *testing.T) {
			_, h, c := startHandler(t, sim.HandlerOptions{})
			c.base64 = b64
			_, initial := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML})
			assert.Equal(t, 1, initial.Status)
			assert.True(t, initial.HasPolicy)
			assert.Equal(t, transport.PolicyTypeWBXML, initial.PolicyType)
			assert.Equal(t, 1, initial.PolicyStatus)
			assert.NotEmpty(t, initial.PolicyKey)
			assert.Contains(t, initial.Settings, transport.PolicySetting{Name: "DevicePasswordEnabled", Value: "1"})
			assert.False(t, initial.NoPolicy())
			assert.False(t, initial.RemoteWipe)
			assert.Empty(t, h.PolicyKey(), "a temporary key is not the policy key yet")

			_, wrong := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "12345", Status: 1})
			assert.Equal(t, 1, wrong.Status)
			assert.Equal(t, 5, wrong.PolicyStatus, "the wrong key acknowledged")
			assert.Empty(t, wrong.PolicyKey)

			c.policyKey = initial.PolicyKey // clients send the temporary key with the acknowledgement
			_, ack := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: initial.PolicyKey, Status: 1})
			assert.Equal(t, 1, ack.Status)
			assert.Equal(t, 1, ack.PolicyStatus)
			assert.NotEmpty(t, ack.PolicyKey)
			assert.NotEqual(t, initial.PolicyKey, ack.PolicyKey)
			assert.Empty(t, ack.Settings)
			assert.Equal(t, ack.PolicyKey, h.PolicyKey())
			_, err := strconv.ParseUint(ack.PolicyKey, 10, 32)
			assert.NoError(t, err, "the key fits the base64 form")

			_, again := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: initial.PolicyKey, Status: 1})
			assert.Equal(t, 5, again.PolicyStatus, "a temporary key is acknowledged once")

			_, unknown := c.provision(t, &transport.ProvisionRequest{PolicyType: "MS-Made-Up"})
			assert.Equal(t, 3, unknown.PolicyStatus)
			assert.Equal(t, ack.PolicyKey, h.PolicyKey())

			ex := h.Exchanges()
			require.Len(t, ex, 5)
			assert.Equal(t, "Provision", ex[0].Cmd)
			assert.Equal(t, b64, ex[0].Base64)
			assert.Equal(t, 1, ex[0].CommandStatus)
			assert.Equal(t, initial.PolicyKey, ex[2].PolicyKey)
			assert.False(t, h.WipeAcknowledged())
		})
	}
}

func TestHandlerProvisionProtocol25(t *testing.T) {
	_, _, c := startHandler(t, sim.HandlerOptions{})
	c.version = "2.5"
	_, resp := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeXML})
	assert.Equal(t, 1, resp.PolicyStatus)
	require.Len(t, resp.Settings, 1)
	assert.Equal(t, "Data", resp.Settings[0].Name)
	assert.Contains(t, resp.Settings[0].Value, "wap-provisioningdoc")
}

// TestHandlerRequirePolicy: before 14.0 a FolderSync without the policy key gets
// HTTP 449, from 14.0 on a Status 142 body; after provisioning it is served.
func TestHandlerRequirePolicy(t *testing.T) {
	tests := []struct {
		version    string
		base64     bool
		wantHTTP   int
		wantStatus int
	}{
		{"12.1", false, 449, 0},
		{"12.1", true, 449, 0},
		{"14.0", false, 200, 142},
		{"14.1", false, 200, 142},
		{"14.1", true, 200, 142},
		{"16.1", false, 200, 142},
	}
	for _, tc := range tests {
		t.Run(tc.version+"/base64="+strconv.FormatBool(tc.base64), func(t *testing.T) {
			srv, h, c := startHandler(t, sim.HandlerOptions{RequirePolicy: true})
			c.version, c.base64 = tc.version, tc.base64
			check := func(what string) {
				t.Helper()
				resp, fs := c.folderSync(t, "0")
				require.Equal(t, tc.wantHTTP, resp.StatusCode, what)
				if tc.wantStatus != 0 {
					assert.Equal(t, tc.wantStatus, fs.Status, what)
					assert.False(t, fs.Present.SyncKey)
				}
				assert.Equal(t, 0, srv.Requests(), what)
				assert.Equal(t, tc.wantHTTP, lastExchange(t, h).HTTPStatus)
				assert.Equal(t, tc.wantStatus, lastExchange(t, h).CommandStatus)
			}
			check("no key")
			c.policyKey = "4242"
			check("a key never issued")

			c.policyKey = ""
			_, initial := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML})
			c.policyKey = initial.PolicyKey
			check("the temporary key")
			_, ack := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: initial.PolicyKey, Status: 1})

			c.policyKey = ack.PolicyKey
			resp, fs := c.folderSync(t, "0")
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, 1, fs.Status)
			assert.Equal(t, 1, srv.Requests())
		})
	}
}

// TestHandlerNoPolicy answers Provision as SOGo 5.8 does.
func TestHandlerNoPolicy(t *testing.T) {
	srv, h, c := startHandler(t, sim.HandlerOptions{NoPolicy: true})
	_, resp := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML})
	assert.Equal(t, &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 2}, resp)
	assert.True(t, resp.NoPolicy())
	assert.Empty(t, h.PolicyKey())
	r, fs := c.folderSync(t, "0")
	require.Equal(t, 200, r.StatusCode)
	assert.Equal(t, 1, fs.Status, "no policy is required")
	assert.Equal(t, 1, srv.Requests())

	// With RequirePolicy too, the server asks for a policy it never grants.
	_, h2, c2 := startHandler(t, sim.HandlerOptions{NoPolicy: true, RequirePolicy: true})
	c2.version = "12.1"
	for range 3 {
		r, _ := c2.folderSync(t, "0")
		assert.Equal(t, 449, r.StatusCode)
		_, resp := c2.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML})
		assert.True(t, resp.NoPolicy())
	}
	assert.Empty(t, h2.PolicyKey())
}

// TestHandlerRemoteWipe: the wipe directive is sent, and the handler records
// whether a client ever acknowledged it.
func TestHandlerRemoteWipe(t *testing.T) {
	_, h, c := startHandler(t, sim.HandlerOptions{RemoteWipe: true})
	_, initial := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML})
	assert.True(t, initial.RemoteWipe)
	assert.False(t, initial.NoPolicy(), "a wipe order is never a no-policy answer")
	_, ack := c.provision(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: initial.PolicyKey, Status: 1})
	assert.True(t, ack.RemoteWipe)
	assert.NotEmpty(t, ack.PolicyKey)
	_, empty := c.provision(t, &transport.ProvisionRequest{})
	assert.Equal(t, 1, empty.Status)
	assert.True(t, empty.RemoteWipe, "an empty Provision asks whether to wipe")
	assert.False(t, h.WipeAcknowledged())

	_, done := c.provision(t, &transport.ProvisionRequest{RemoteWipeStatus: 1})
	assert.Equal(t, 1, done.Status)
	assert.False(t, done.RemoteWipe)
	assert.True(t, h.WipeAcknowledged())

	// Without RemoteWipe an empty Provision is a protocol error.
	_, _, c2 := startHandler(t, sim.HandlerOptions{})
	_, resp := c2.provision(t, &transport.ProvisionRequest{})
	assert.Equal(t, 2, resp.Status)
	assert.False(t, resp.RemoteWipe)
}

func TestHandlerGzip(t *testing.T) {
	tests := []struct {
		name           string
		gzip           bool
		acceptEncoding string // "" leaves it to net/http, which asks for gzip and decodes it
		wantEncoded    bool
	}{
		{"explicit gzip", true, "gzip", true},
		{"gzip among others", true, "deflate, gzip;q=0.8", true},
		{"gzip refused", true, "gzip;q=0", false},
		{"identity", true, "identity", false},
		{"disabled", false, "gzip", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, h, c := startHandler(t, sim.HandlerOptions{Gzip: tc.gzip})
			want, err := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
			require.NoError(t, err)
			c.header = http.Header{"Accept-Encoding": {tc.acceptEncoding}}
			resp, body := c.do(t, http.MethodPost, "FolderSync", want)
			require.Equal(t, 200, resp.StatusCode)
			if tc.wantEncoded {
				assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
				assert.Equal(t, int64(len(body)), resp.ContentLength)
				zr, err := gzip.NewReader(bytes.NewReader(body))
				require.NoError(t, err)
				body, err = io.ReadAll(zr)
				require.NoError(t, err)
			} else {
				assert.Empty(t, resp.Header.Get("Content-Encoding"))
			}
			fs, err := transport.UnmarshalFolderSyncResponse(body)
			require.NoError(t, err)
			assert.Len(t, fs.Changes, len(sim.DefaultFolders()))
			assert.Equal(t, tc.acceptEncoding, lastExchange(t, h).Header.Get("Accept-Encoding"))
		})
	}

	t.Run("transparent", func(t *testing.T) {
		_, _, c := startHandler(t, sim.HandlerOptions{Gzip: true})
		resp, fs := c.folderSync(t, "0")
		assert.True(t, resp.Uncompressed, "net/http asked for gzip and decoded it")
		assert.Equal(t, 1, fs.Status)
	})
	t.Run("errors are not compressed", func(t *testing.T) {
		_, _, c := startHandler(t, sim.HandlerOptions{Gzip: true})
		c.header = http.Header{"Accept-Encoding": {"gzip"}}
		resp, body := c.do(t, http.MethodPost, "Sync", nil)
		assert.Equal(t, 501, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Contains(t, string(body), "not implemented")
	})
}

// TestHandlerConcurrent runs clients, provisioning, injections and mutations at once
// (for -race).
func TestHandlerConcurrent(t *testing.T) {
	srv, h, c0 := startHandler(t, sim.HandlerOptions{Users: testUsers, Gzip: true})
	var wg sync.WaitGroup
	const workers, rounds = 6, 20
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *c0
			c.hc, c.base64 = &http.Client{}, g%2 == 0
			for i := range rounds {
				switch g % 3 {
				case 0:
					body, _ := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
					resp, err := c.hc.Do(c.request(context.Background(), http.MethodPost, "FolderSync", body))
					if assert.NoError(t, err) {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				case 1:
					body, _ := (&transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML}).MarshalWBXML()
					resp, err := c.hc.Do(c.request(context.Background(), http.MethodPost, "Provision", body))
					if assert.NoError(t, err) {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					_ = h.PolicyKey()
				default:
					h.Inject(sim.HTTPStep{ResetRequested: true})
					_ = srv.AddFolder(folder(fmt.Sprintf("g%d-%d", g, i), hierarchy.RootID, "X"))
					_ = h.Exchanges()
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, h.Exchanges(), 4*rounds)
	seen := map[int]bool{}
	for _, ex := range h.Exchanges() {
		seen[ex.N] = true
	}
	assert.Len(t, seen, 4*rounds)
}

func ExampleNewHandler() {
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	h := sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{"alice": "secret"}})
	ts := httptest.NewServer(h)
	defer ts.Close()

	// The next request gets a 503 with Retry-After; the one after is served.
	h.Inject(sim.HTTPStep{Status: http.StatusServiceUnavailable, RetryAfter: "5"})

	query, _ := ashttp.EncodeBase64(ashttp.Query{Cmd: "FolderSync", User: "alice", DeviceID: "dev1", DeviceType: "Example", Version: "14.1"})
	body, _ := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/Microsoft-Server-ActiveSync?"+query, bytes.NewReader(body))
		req.SetBasicAuth("alice", "secret")
		req.Header.Set("Content-Type", ashttp.ContentTypeWBXML)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(resp.StatusCode, "Retry-After:", resp.Header.Get("Retry-After"))
			continue
		}
		fs, _ := transport.UnmarshalFolderSyncResponse(b)
		fmt.Println(resp.StatusCode, "Status", fs.Status, "SyncKey", fs.SyncKey, "folders", len(fs.Changes))
	}
	// Output:
	// 503 Retry-After: 5
	// 200 Status 1 SyncKey 1 folders 16
}

// TestHandlerBrokenAnswersTLS: Reset and Truncate also break the connection over
// TLS (HTTP/1.1, hijacked) and HTTP/2 (where the handler aborts the stream).
func TestHandlerBrokenAnswersTLS(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(h2), func(t *testing.T) {
			srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
			h := sim.NewHandler(srv, sim.HandlerOptions{})
			ts := httptest.NewUnstartedServer(h)
			ts.EnableHTTP2 = h2
			ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the aborted handler is logged otherwise
			ts.StartTLS()
			t.Cleanup(ts.Close)
			c := newEASClient(ts.URL)
			c.hc = ts.Client()
			body, err := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
			require.NoError(t, err)

			h.Inject(sim.HTTPStep{Reset: true})
			resp, err := c.hc.Do(c.request(context.Background(), http.MethodPost, "FolderSync", body))
			if err == nil { // HTTP/2 may deliver the headers before the reset
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			require.Error(t, err, "reset")

			h.Inject(sim.HTTPStep{Truncate: true})
			resp, err = c.hc.Do(c.request(context.Background(), http.MethodPost, "FolderSync", body))
			require.NoError(t, err)
			assert.Equal(t, h2, resp.ProtoMajor == 2)
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Error(t, err, "truncate")
			assert.Less(t, int64(len(got)), resp.ContentLength)

			resp2, fs := c.folderSync(t, "0")
			require.Equal(t, 200, resp2.StatusCode)
			assert.Equal(t, 1, fs.Status)
		})
	}
}
