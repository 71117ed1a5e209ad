package httpeas

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// fakeEAS answers OPTIONS with versions and every POST with handle.
func fakeEAS(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(ashttp.HeaderProtocolVersions, "2.5,12.0,12.1,14.0,14.1")
			w.Header().Set(ashttp.HeaderProtocolCommands, "FolderSync,Provision")
			return
		}
		// Reading the body lets net/http notice a client that hangs up (r.Context()).
		_, _ = io.Copy(io.Discard, r.Body)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func okBody(t *testing.T) []byte {
	b, err := transport.NewSuccessResponse("k1", []transport.FolderChange{{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Op: transport.OpAdd, Type: transport.FolderInbox}}).MarshalWBXML()
	require.NoError(t, err)
	return b
}

func newClient(t *testing.T, url string, edit func(*Options)) *Client {
	t.Helper()
	o := Options{URL: url, User: "alice", Password: "s3cret-pw", DeviceID: "DEV1", AllowInsecureHTTP: true}
	if edit != nil {
		edit(&o)
	}
	c, err := New(o)
	require.NoError(t, err)
	return c
}

func TestOptionsChecked(t *testing.T) {
	ok := Options{URL: "https://mail.example.com/Microsoft-Server-ActiveSync", User: "u", Password: "p", DeviceID: "D1"}
	cases := []struct {
		field string
		edit  func(*Options)
	}{
		{"URL", func(o *Options) { o.URL = "" }},
		{"URL", func(o *Options) { o.URL = "mail.example.com/eas" }},
		{"URL", func(o *Options) { o.URL = "http://mail.example.com/eas" }},
		{"URL", func(o *Options) { o.URL = "https://u:p@mail.example.com/eas" }},
		{"URL", func(o *Options) { o.URL = "https://mail.example.com/eas?Cmd=Sync" }},
		{"URL", func(o *Options) { o.URL = "ftp://mail.example.com/eas" }},
		{"User", func(o *Options) { o.User = "" }},
		{"Password", func(o *Options) { o.Password = "" }},
		{"Token", func(o *Options) { o.Token = func(context.Context, bool) (string, error) { return "t", nil } }},
		{"DeviceID", func(o *Options) { o.DeviceID = "" }},
		{"DeviceID", func(o *Options) { o.DeviceID = strings.Repeat("d", 33) }},
		{"ProtocolVersion", func(o *Options) { o.ProtocolVersion = "15.0" }},
		{"Versions", func(o *Options) { o.Versions = []string{"14.1", "3.0"} }},
	}
	for _, c := range cases {
		o := ok
		c.edit(&o)
		_, err := New(o)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%+v", o)
		assert.Equal(t, c.field, ce.Field)
		assert.NotContains(t, err.Error(), "p@", "no credentials echoed")
	}
	_, err := New(ok)
	require.NoError(t, err)
}

// Every request carries the headers MS-ASHTTP 2.2.1.1.2 asks for, the hosted-
// Exchange anchor, the caller's headers and cookies; the plain query names the
// command, user and device.
func TestRequestHeadersAndPlainQuery(t *testing.T) {
	var got *http.Request
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	})
	c := newClient(t, srv.URL+"/Microsoft-Server-ActiveSync", func(o *Options) {
		o.AnchorMailbox = "alice@example.com"
		o.Headers = http.Header{"X-Extra": {"1"}}
		o.Cookies = []*http.Cookie{{Name: "X-BackEndCookie", Value: "abc"}}
		o.PolicyKey = "1234"
		o.UserAgent = "test-agent/2"
	})
	reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	require.NotNil(t, reply.Response)
	assert.Equal(t, "k1", reply.Response.SyncKey)
	assert.Equal(t, "/Microsoft-Server-ActiveSync", got.URL.Path)
	assert.Equal(t, "Cmd=FolderSync&User=alice&DeviceId=DEV1&DeviceType=foldersync", got.URL.RawQuery)
	assert.Equal(t, ashttp.ContentTypeWBXML, got.Header.Get("Content-Type"))
	assert.Equal(t, "14.1", got.Header.Get(ashttp.HeaderProtocolVersion), "the highest version both speak")
	assert.Equal(t, "1234", got.Header.Get(ashttp.HeaderPolicyKey))
	assert.Equal(t, "test-agent/2", got.Header.Get("User-Agent"))
	assert.Equal(t, "alice@example.com", got.Header.Get("X-AnchorMailbox"))
	assert.Equal(t, "1", got.Header.Get("X-Extra"))
	ck, err := got.Cookie("X-BackEndCookie")
	require.NoError(t, err)
	assert.Equal(t, "abc", ck.Value)
	u, p, ok := got.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "alice", u)
	assert.Equal(t, "s3cret-pw", p)
	assert.Equal(t, "14.1", c.ProtocolVersion())
}

// The base64 query (MS-ASHTTP 2.2.1.1.1.1), decoded back on the server and
// compared field by field; with it the version and key are not sent as headers.
func TestBase64QueryOnTheWire(t *testing.T) {
	var raw string
	var hdr http.Header
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		raw, hdr = r.URL.RawQuery, r.Header.Clone()
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	})
	c := newClient(t, srv.URL, func(o *Options) {
		o.Base64Query, o.PolicyKey, o.DeviceType, o.Locale = true, "3942919513", "Phone", 0x0407
	})
	_, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(raw, "=") || !strings.Contains(raw, "%3D"), "padding is sent as is: %s", raw)
	q, err := ashttp.ParseBase64(raw)
	require.NoError(t, err)
	assert.Equal(t, "FolderSync", q.Cmd)
	assert.Equal(t, "alice", q.User)
	assert.Equal(t, "DEV1", q.DeviceID)
	assert.Equal(t, "Phone", q.DeviceType)
	assert.Equal(t, "14.1", q.Version)
	assert.Equal(t, "3942919513", q.PolicyKey)
	assert.Equal(t, uint16(0x0407), q.Locale)
	assert.Empty(t, hdr.Get(ashttp.HeaderProtocolVersion))
	assert.Empty(t, hdr.Get(ashttp.HeaderPolicyKey))

	// 12.0 has no base64 form: the plain one is used.
	c = newClient(t, srv.URL, func(o *Options) { o.Base64Query, o.ProtocolVersion = true, "12.0" })
	_, err = c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(raw, "Cmd=FolderSync"), raw)
	assert.Equal(t, "12.0", hdr.Get(ashttp.HeaderProtocolVersion))
}

// Bearer: a 401 gets one refreshed token and one resend; a second 401 is the
// server's answer. The token never appears in an error.
func TestBearerRefreshOnce(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	valid := "tok-2"
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		ok := r.Header.Get("Authorization") == "Bearer "+valid
		mu.Unlock()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	})
	calls := 0
	c := newClient(t, srv.URL, func(o *Options) {
		o.Password = ""
		o.Token = func(_ context.Context, refresh bool) (string, error) {
			calls++
			if refresh {
				return "tok-2", nil
			}
			return "tok-1", nil
		}
	})
	reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.Equal(t, 200, reply.HTTPStatus)
	assert.Equal(t, []string{"Bearer tok-1", "Bearer tok-2"}, seen)
	assert.Equal(t, 2, calls)

	valid = "never"
	seen = nil
	reply, err = c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.Equal(t, 401, reply.HTTPStatus, "one refresh, then the 401 is the answer")
	assert.Len(t, seen, 2)

	c = newClient(t, srv.URL, func(o *Options) {
		o.Password = ""
		o.Token = func(context.Context, bool) (string, error) { return "", errors.New("refresh token expired") }
	})
	_, err = c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	var ae *AuthError
	require.ErrorAs(t, err, &ae)
}

// Bodies: gzip decoded; a body over the cap (before or after gzip) is unreadable;
// a 200 that is empty, HTML or broken gzip is unreadable; a body cut by the
// connection is a connection error.
func TestResponseBodies(t *testing.T) {
	body := okBody(t)
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return buf.Bytes()
	}
	bomb := gz(make([]byte, 8<<20)) // 8 MiB of zeros in a few KiB
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter)
		kind  error
		check func(t *testing.T, err error)
	}{
		{"gzip", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
			_, _ = w.Write(gz(body))
		}, nil, nil},
		{"gzip bomb over the cap", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb)
		}, transport.ErrUnreadable, func(t *testing.T, err error) {
			var tl *TooLargeError
			require.ErrorAs(t, err, &tl)
			assert.True(t, tl.Gzip)
		}},
		{"plain body over the cap", func(w http.ResponseWriter) {
			_, _ = w.Write(make([]byte, 2<<20))
		}, transport.ErrUnreadable, func(t *testing.T, err error) {
			var tl *TooLargeError
			require.ErrorAs(t, err, &tl)
		}},
		{"broken gzip", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write([]byte("not gzip at all"))
		}, transport.ErrUnreadable, nil},
		{"empty 200", func(w http.ResponseWriter) {}, transport.ErrUnreadable, nil},
		{"html 200", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>login</html>"))
		}, transport.ErrUnreadable, func(t *testing.T, err error) { assert.Contains(t, err.Error(), "text/html") }},
		{"not wbxml", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
			_, _ = w.Write([]byte("garbage"))
		}, transport.ErrUnreadable, nil},
		{"cut by the connection", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write(body[:10])
		}, transport.ErrConnection, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) { tc.serve(w) })
			c := newClient(t, srv.URL, func(o *Options) { o.MaxResponseBytes = 1 << 20 })
			reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
			if tc.kind == nil {
				require.NoError(t, err)
				require.NotNil(t, reply.Response)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.NotContains(t, err.Error(), "s3cret-pw")
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

// Recovery headers: Retry-After in seconds and as an HTTP date (against the
// injected clock), X-MS-ASThrottle, X-MS-RP; a 3xx is not followed.
func TestRecoveryHeaders(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	var serve func(w http.ResponseWriter)
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) { serve(w) })
	c := newClient(t, srv.URL, func(o *Options) { o.Now = func() time.Time { return now } })
	do := func(s func(w http.ResponseWriter)) *transport.Reply {
		serve = s
		reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "k"})
		require.NoError(t, err)
		return reply
	}
	r := do(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "45")
		w.Header().Set(ashttp.HeaderThrottle, "CommandFrequency")
		w.WriteHeader(503)
	})
	assert.Equal(t, 503, r.HTTPStatus)
	assert.True(t, r.HasRetryAfter)
	assert.Equal(t, 45*time.Second, r.RetryAfter)
	assert.Equal(t, "CommandFrequency", r.Throttle)

	r = do(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", now.Add(2*time.Minute).Format(http.TimeFormat))
		w.WriteHeader(503)
	})
	assert.True(t, r.HasRetryAfter)
	assert.Equal(t, 2*time.Minute, r.RetryAfter)

	r = do(func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "soon")
		w.WriteHeader(503)
	})
	assert.False(t, r.HasRetryAfter, "an unreadable Retry-After is no Retry-After: the policy's backoff applies")

	r = do(func(w http.ResponseWriter) {
		w.Header().Set(ashttp.HeaderRP, "2.5,12.0,12.1,14.0")
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	})
	assert.True(t, r.ResetRequested)
	assert.Equal(t, "14.0", c.ProtocolVersion(), "X-MS-RP's list renegotiates the version")

	r = do(func(w http.ResponseWriter) {
		w.Header().Set("Location", "https://elsewhere.example/")
		w.WriteHeader(302)
	})
	assert.Equal(t, 302, r.HTTPStatus, "a 3xx is reported, never followed with the credentials")
}

// No answer: a refused connection and a server slower than the deadline.
func TestNoAnswer(t *testing.T) {
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	c := newClient(t, srv.URL, nil)
	_, err := c.Probe(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = c.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: "0"})
	assert.ErrorIs(t, err, transport.ErrTimeout)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c = newClient(t, closed.URL, nil)
	_, err = c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	assert.ErrorIs(t, err, transport.ErrConnection)
	assert.NotContains(t, err.Error(), "s3cret-pw")
}

// OPTIONS: a refusal is the server's answer (a 401 on OPTIONS is a 401); no shared
// version is a NegotiationError from Probe, and a request at the client's best
// version otherwise.
func TestProbe(t *testing.T) {
	var versions string
	var optionsStatus int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set(ashttp.HeaderProtocolVersions, versions)
			w.Header().Set(ashttp.HeaderServerVersion, "14.1")
			if optionsStatus != 0 {
				w.WriteHeader(optionsStatus)
			}
			return
		}
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	}))
	defer srv.Close()

	versions = "2.5,12.0,12.1,14.0,14.1,16.0,16.1"
	info, err := newClient(t, srv.URL, nil).Probe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "16.1", info.Chosen)
	assert.Equal(t, "14.1", info.Server)

	info, err = newClient(t, srv.URL, func(o *Options) { o.Versions = []string{"12.1", "14.0"} }).Probe(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "14.0", info.Chosen)

	versions = "2.5"
	c := newClient(t, srv.URL, func(o *Options) { o.ProtocolVersion = "14.1" })
	_, err = c.Probe(context.Background())
	var ne *ashttp.NegotiationError
	require.ErrorAs(t, err, &ne)
	reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.Equal(t, 200, reply.HTTPStatus)
	assert.Equal(t, "14.1", c.ProtocolVersion())

	versions, optionsStatus = "14.1", 401
	c = newClient(t, srv.URL, nil)
	_, err = c.Probe(context.Background())
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Contains(t, err.Error(), "check the user name and password")
	reply, err = c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	assert.Equal(t, 401, reply.HTTPStatus)
}

// MS-ASHTTP 2.2.1.1.2.4: cookies the server sets come back (the default client has
// a jar); the caller's own cookies go only to the configured host.
func TestCookies(t *testing.T) {
	var seen []string
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Cookie"))
		http.SetCookie(w, &http.Cookie{Name: "DefaultAnchorMailbox", Value: "alice"})
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		_, _ = w.Write(okBody(t))
	})
	c := newClient(t, srv.URL, func(o *Options) { o.Cookies = []*http.Cookie{{Name: "mine", Value: "1"}} })
	for i := 0; i < 2; i++ {
		_, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
		require.NoError(t, err)
	}
	require.Len(t, seen, 2)
	assert.Equal(t, "mine=1", seen[0])
	assert.Contains(t, seen[1], "DefaultAnchorMailbox=alice")
	assert.Contains(t, seen[1], "mine=1")

	var elsewhere string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = r.Header.Get("Cookie")
		w.Header().Set(ashttp.HeaderProtocolVersions, "14.1")
	}))
	defer other.Close()
	reply, err := c.FollowRedirect(context.Background(), other.URL+"/eas")
	require.NoError(t, err)
	assert.Nil(t, reply)
	assert.NotContains(t, elsewhere, "mine=1", "the caller's cookies stay with the configured host")
	assert.Equal(t, other.URL+"/eas", c.URL())
}

// A refusal whose body breaks is still the server's answer: its status and
// Retry-After count; only a 200's body matters.
func TestRefusalWithBrokenBodyKeepsHeaders(t *testing.T) {
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(503)
		_, _ = w.Write([]byte("short"))
	})
	c := newClient(t, srv.URL, nil)
	reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "k"})
	require.NoError(t, err)
	assert.Equal(t, 503, reply.HTTPStatus)
	assert.Equal(t, 2*time.Minute, reply.RetryAfter)
}

// The default provisioner: no acknowledgement of a wipe of either kind, an honest
// "not applied" acknowledgement unless Apply says otherwise.
func TestTwoPhaseProvisioner(t *testing.T) {
	ok := func(resp *transport.ProvisionResponse) *ProvisionAnswer {
		return &ProvisionAnswer{Reply: &transport.Reply{HTTPStatus: 200}, Response: resp}
	}
	policy := &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 1, PolicyKey: "111"}
	final := &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 1, PolicyKey: "222"}
	for name, tc := range map[string]struct {
		first   *transport.ProvisionResponse
		apply   func(context.Context, *transport.ProvisionResponse) (int, error)
		sends   int
		ack     int
		key     string
		wipe    bool
		account bool
	}{
		"policy, not applied": {first: policy, sends: 2, ack: PolicyNotApplied, key: "222"},
		"policy, applied":     {first: policy, apply: func(context.Context, *transport.ProvisionResponse) (int, error) { return PolicyApplied, nil }, sends: 2, ack: PolicyApplied, key: "222"},
		"no policy":           {first: &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 2}, sends: 1},
		"remote wipe":         {first: &transport.ProvisionResponse{Status: 1, RemoteWipe: true}, sends: 1, wipe: true},
		"account-only wipe":   {first: &transport.ProvisionResponse{Status: 1, AccountOnlyRemoteWipe: true}, sends: 1, account: true},
	} {
		t.Run(name, func(t *testing.T) {
			var reqs []*transport.ProvisionRequest
			send := func(_ context.Context, req *transport.ProvisionRequest, key string) (*ProvisionAnswer, error) {
				reqs = append(reqs, req)
				if len(reqs) == 1 {
					assert.Empty(t, key)
					return ok(tc.first), nil
				}
				assert.Equal(t, "111", key)
				return ok(final), nil
			}
			res, err := TwoPhaseProvisioner{Apply: tc.apply}.Provision(context.Background(), send)
			require.NoError(t, err)
			require.Len(t, reqs, tc.sends)
			if tc.sends == 2 {
				assert.Equal(t, tc.ack, reqs[1].Status)
				assert.Equal(t, "111", reqs[1].PolicyKey)
			}
			assert.Equal(t, tc.key, res.PolicyKey)
			assert.Equal(t, tc.wipe, res.RemoteWipe)
			assert.Equal(t, tc.account, res.AccountOnlyRemoteWipe)
			for _, r := range reqs {
				assert.Zero(t, r.RemoteWipeStatus, "a wipe is never acknowledged")
				assert.Zero(t, r.AccountOnlyRemoteWipeStatus)
			}
		})
	}
}

// A 457 names where the password is changed (MS-ASHTTP 3.1.5.2.4); the failed
// session says it.
func TestPasswordExpiredNamesTheService(t *testing.T) {
	srv := fakeEAS(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-MS-Credential-Service-Url", "https://password.example.com/")
		w.WriteHeader(457)
	})
	c := newClient(t, srv.URL, nil)
	reply, err := c.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "k"})
	require.NoError(t, err)
	assert.Equal(t, "https://password.example.com/", reply.CredentialServiceURL)
}
