package httpeas_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport/httpeas"
	"github.com/easkit/foldersync/transport/sim"
)

// End-to-end over real HTTP: a session (machine) drives httpeas against the
// simulated server served by httptest. Each test covers rows of DESIGN rule 6.

const (
	testUser = "alice"
	testPass = "pa55-w0rd-never-logged"
)

type e2e struct {
	t       *testing.T
	srv     *sim.Server
	handler *sim.Handler
	http    *httptest.Server
	client  *httpeas.Client
	store   *hierarchy.MemoryStore
	clock   *machine.SimClock
	audit   strings.Builder
	logs    strings.Builder
}

type e2eOpt func(*httpeas.Options, *sim.HandlerOptions)

func newE2E(t *testing.T, opts ...e2eOpt) *e2e {
	t.Helper()
	e := &e2e{t: t, srv: sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...)), store: hierarchy.NewMemoryStore(),
		clock: machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))}
	ho := sim.HandlerOptions{Users: map[string]string{testUser: testPass}, Now: e.clock.Now}
	co := httpeas.Options{User: testUser, Password: testPass, DeviceID: "E2E1", AllowInsecureHTTP: true, Now: e.clock.Now}
	for _, o := range opts {
		o(&co, &ho)
	}
	e.handler = sim.NewHandler(e.srv, ho)
	e.http = httptest.NewServer(e.handler)
	t.Cleanup(e.http.Close)
	co.URL = e.http.URL + "/Microsoft-Server-ActiveSync"
	var err error
	e.client, err = httpeas.New(co)
	require.NoError(t, err)
	return e
}

// sync runs one session; it never sleeps for real (SimClock).
func (e *e2e) sync(pol ...policy.Policy) (*machine.Result, error) {
	e.t.Helper()
	p := policy.Default()
	if len(pol) > 0 {
		p = pol[0]
	}
	sess, err := machine.New(machine.Config{Transport: e.client, Store: e.store, Policy: p, Clock: e.clock,
		SessionID: e.t.Name(), Audit: machine.NewJSONLines(&e.audit)})
	require.NoError(e.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := sess.Sync(ctx)
	if err != nil {
		e.logs.WriteString(err.Error())
	}
	return res, err
}

func (e *e2e) mustSync() *machine.Result {
	e.t.Helper()
	res, err := e.sync()
	require.NoError(e.t, err)
	require.Equal(e.t, states.Synced, res.State)
	return res
}

// events lists the events of the audit log in order.
func (e *e2e) events() []string {
	recs, err := machine.ReadRecords(strings.NewReader(e.audit.String()))
	require.NoError(e.t, err)
	var out []string
	for _, r := range recs {
		out = append(out, r.Event.String())
	}
	return out
}

func (e *e2e) noSecrets() {
	e.t.Helper()
	for what, text := range map[string]string{"audit log": e.audit.String(), "errors": e.logs.String()} {
		assert.NotContains(e.t, text, testPass, "the password is in the %s", what)
	}
}

func TestE2EInitialAndIncremental(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		t.Run(fmt.Sprintf("base64=%v", b64), func(t *testing.T) {
			e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) { o.Base64Query = b64; ho.Gzip = true })
			first := e.mustSync()
			assert.Equal(t, len(sim.DefaultFolders()), first.Tree.Len())
			require.NoError(t, e.srv.AddFolder(hierarchy.Folder{ServerID: "p1", ParentID: "0", DisplayName: "Projects", Type: 12}))
			second := e.mustSync()
			assert.True(t, second.Tree.Equal(hierarchy.NewTree(e.srv.Folders()...)))
			posts := 0
			for _, ex := range e.handler.Exchanges() {
				if ex.Method == http.MethodPost {
					posts++
					assert.Equal(t, b64, ex.Base64, "query form")
					assert.Equal(t, "E2E1", ex.Query.DeviceID)
					assert.Equal(t, "16.1", ex.Version)
				}
			}
			assert.Equal(t, 2, posts)
			e.noSecrets()
		})
	}
}

// Rule 6: 401/403/456/457 -> failed, saying which.
func TestE2EAuthAndBlocked(t *testing.T) {
	cases := []struct {
		status int
		kind   error
		event  transitions.Event
	}{
		{401, machine.ErrAuth, transitions.AuthFailed},
		{403, machine.ErrDenied, transitions.Denied},
		{456, machine.ErrDenied, transitions.Denied},
		{457, machine.ErrPasswordExpired, transitions.PasswordExpired},
		{507, machine.ErrServerFull, transitions.ServerFull},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			e := newE2E(t)
			e.mustSync()
			e.handler.Inject(sim.HTTPStep{Status: c.status})
			res, err := e.sync()
			require.Error(t, err)
			assert.ErrorIs(t, err, c.kind)
			assert.Equal(t, states.Failed, res.State)
			assert.Equal(t, c.event, res.Event)
			assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", c.status))
			e.noSecrets()
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		e := newE2E(t, func(o *httpeas.Options, _ *sim.HandlerOptions) { o.Password = "wrong-" + testPass })
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrAuth)
		assert.NotContains(t, err.Error(), "wrong-"+testPass)
	})
}

// Every HTTP code of the classification table, injected on a real HTTP answer,
// fires the event the table names.
func TestE2EEveryHTTPCodeOfTheTable(t *testing.T) {
	for _, r := range transitions.Rules() {
		if r.Source != transitions.HTTPStatus || r.Code == 200 {
			continue
		}
		t.Run(fmt.Sprint(r.Code), func(t *testing.T) {
			e := newE2E(t)
			e.mustSync()
			e.audit.Reset()
			e.handler.Inject(sim.HTTPStep{Status: r.Code, Location: "https://other.example.invalid/eas"})
			_, _ = e.sync()
			recs, err := machine.ReadRecords(strings.NewReader(e.audit.String()))
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(recs), 2)
			assert.Equal(t, r.Event, recs[1].Asked, "HTTP %d", r.Code)
			assert.Equal(t, r.Code, recs[1].HTTPStatus)
		})
	}
}

// Rule 6: 503/500 honour Retry-After (seconds or HTTP-date, capped by policy) and
// surface X-MS-ASThrottle.
func TestE2EThrottled(t *testing.T) {
	e := newE2E(t)
	e.mustSync()
	e.audit.Reset()
	e.handler.Inject(
		sim.HTTPStep{Status: 503, RetryAfter: "45", Throttle: "CommandFrequency"},
		sim.HTTPStep{Status: 503, RetryAfter: e.handler.RetryAfterDate(90 * time.Second)},
		sim.HTTPStep{Status: 500},
	)
	res := e.mustSync()
	assert.Equal(t, []string{"start", "throttled", "backoff_elapsed", "throttled", "backoff_elapsed", "transient", "backoff_elapsed", "success"}, e.events())
	recs, err := machine.ReadRecords(strings.NewReader(e.audit.String()))
	require.NoError(t, err)
	assert.Equal(t, 45*time.Second, time.Duration(recs[1].Delay), "Retry-After in seconds")
	assert.Equal(t, "CommandFrequency", recs[1].Stimulus.Throttle)
	// The date was 90 s after the injection; the session had waited 45 s of them.
	assert.Equal(t, 45*time.Second, time.Duration(recs[3].Delay), "Retry-After as an HTTP date, against the session clock")
	assert.GreaterOrEqual(t, res.Counters.Elapsed, 90*time.Second)

	e.handler.Inject(sim.HTTPStep{Status: 503, RetryAfter: "86400"})
	_, err = e.sync()
	assert.ErrorIs(t, err, machine.ErrThrottled, "a day is over the default retry_after_cap")
}

// Rule 6: 449 and statuses 142-144 -> provision, then rerun; a remote wipe is
// surfaced, never acknowledged; a server that asks again after provisioning fails
// the session instead of looping.
func TestE2EProvisioning(t *testing.T) {
	for _, version := range []string{"12.1", "14.1"} {
		t.Run("require policy "+version, func(t *testing.T) {
			e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) {
				o.ProtocolVersion = version
				ho.RequirePolicy = true
			})
			res := e.mustSync()
			assert.Equal(t, []string{"start", "provision", "backoff_elapsed", "success"}, e.events())
			require.NotNil(t, res.Provisioning)
			assert.Equal(t, e.handler.PolicyKey(), res.Provisioning.PolicyKey)
			assert.Equal(t, e.handler.PolicyKey(), e.client.PolicyKey())
			assert.NotEmpty(t, e.client.PolicyKey())
			e.audit.Reset()
			e.mustSync()
			assert.Equal(t, []string{"start", "success"}, e.events(), "the key is sent on every later request")
			e.noSecrets()
		})
	}
	t.Run("no policy, as SOGo", func(t *testing.T) {
		e := newE2E(t, func(_ *httpeas.Options, ho *sim.HandlerOptions) { ho.NoPolicy = true })
		e.mustSync()
		e.handler.Inject(sim.HTTPStep{Status: 449})
		res := e.mustSync()
		assert.Empty(t, e.client.PolicyKey())
		assert.Contains(t, strings.Join(res.Warnings, "\n"), "continuing without one")
	})
	t.Run("asks again after provisioning", func(t *testing.T) {
		e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) {
			o.ProtocolVersion = "12.1"
			ho.RequirePolicy, ho.NoPolicy = true, true
		})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrProvisioning)
		assert.Equal(t, []string{"start", "provision", "backoff_elapsed", "give_up"}, e.events())
	})
	t.Run("remote wipe", func(t *testing.T) {
		e := newE2E(t, func(_ *httpeas.Options, ho *sim.HandlerOptions) { ho.RequirePolicy, ho.RemoteWipe = true, true })
		res, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrRemoteWipe)
		assert.Equal(t, transitions.RemoteWipe, res.Event)
		assert.True(t, res.Provisioning.RemoteWipe)
		assert.False(t, e.handler.WipeAcknowledged(), "the library never acknowledges a wipe")
	})
}

// Rule 6: 451 -> follow X-MS-Location only to HTTPS (or allowed HTTP), only if it
// differs, verified with OPTIONS, at most 3 times per session; the adopted URL is
// reported.
func TestE2ERedirects(t *testing.T) {
	t.Run("followed and reported", func(t *testing.T) {
		e := newE2E(t)
		e.mustSync()
		other := newE2E(t)
		// The mailbox moved: the new server holds the same device state.
		other.srv = e.srv
		other.handler = sim.NewHandler(e.srv, sim.HandlerOptions{Users: map[string]string{testUser: testPass}})
		other.http.Config.Handler = other.handler
		target := other.http.URL + "/Microsoft-Server-ActiveSync"
		e.audit.Reset()
		e.handler.Inject(sim.HTTPStep{Status: 451, Location: target})
		res := e.mustSync()
		assert.Equal(t, target, res.URL)
		assert.Equal(t, []string{target}, res.Redirects)
		assert.Equal(t, target, e.client.URL())
		assert.Equal(t, []string{"start", "redirect", "backoff_elapsed", "success"}, e.events())
		methods := []string{}
		for _, ex := range other.handler.Exchanges() {
			methods = append(methods, ex.Method)
		}
		assert.Equal(t, []string{"OPTIONS", "POST"}, methods, "verified with OPTIONS, then used")
	})
	t.Run("same URL is a loop", func(t *testing.T) {
		e := newE2E(t)
		e.mustSync()
		e.handler.Inject(sim.HTTPStep{Status: 451, Location: e.client.URL()})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrRedirect)
		assert.Contains(t, err.Error(), "redirect loop")
	})
	t.Run("plain HTTP refused", func(t *testing.T) {
		e := newE2E(t, func(o *httpeas.Options, _ *sim.HandlerOptions) {})
		e.mustSync()
		// A client that does not allow insecure HTTP, on TLS.
		tlsSrv := httptest.NewTLSServer(e.handler)
		defer tlsSrv.Close()
		c, err := httpeas.New(httpeas.Options{URL: tlsSrv.URL, User: testUser, Password: testPass, DeviceID: "E2E1", HTTPClient: tlsSrv.Client()})
		require.NoError(t, err)
		e.client = c
		e.handler.Inject(sim.HTTPStep{}, sim.HTTPStep{Status: 451, Location: e.http.URL + "/eas"}) // OPTIONS of the new client, then its FolderSync
		_, err = e.sync()
		assert.ErrorIs(t, err, machine.ErrRedirect)
		assert.Contains(t, err.Error(), "plain HTTP")
	})
	t.Run("target does not answer OPTIONS", func(t *testing.T) {
		e := newE2E(t)
		e.mustSync()
		dead := httptest.NewServer(http.NotFoundHandler())
		defer dead.Close()
		e.handler.Inject(sim.HTTPStep{Status: 451, Location: dead.URL + "/eas"})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrNotSupported, "the target's 404 is classified like any answer")
		assert.Contains(t, err.Error(), "the redirect target "+dead.URL+"/eas answered HTTP 404 to OPTIONS")
		assert.NotEqual(t, dead.URL+"/eas", e.client.URL(), "an unverified URL is never adopted")
	})
	t.Run("a loop between two servers stops after 3", func(t *testing.T) {
		a := newE2E(t)
		a.mustSync()
		b := httptest.NewServer(a.handler)
		defer b.Close()
		aURL, bURL := a.client.URL(), b.URL+"/Microsoft-Server-ActiveSync"
		a.handler.Inject(
			sim.HTTPStep{Status: 451, Location: bURL}, sim.HTTPStep{}, // POST at a -> b; OPTIONS at b
			sim.HTTPStep{Status: 451, Location: aURL}, sim.HTTPStep{}, // POST at b -> a; OPTIONS at a
			sim.HTTPStep{Status: 451, Location: bURL}, sim.HTTPStep{}, // third redirect
			sim.HTTPStep{Status: 451, Location: aURL}, // fourth: refused, and never contacted
		)
		res, err := a.sync()
		assert.ErrorIs(t, err, machine.ErrRedirect)
		assert.Contains(t, err.Error(), "more than 3 redirects")
		assert.Len(t, res.Redirects, 3)
		options := 0
		for _, ex := range a.handler.Exchanges() {
			if ex.Method == http.MethodOptions {
				options++
			}
		}
		assert.Equal(t, 1+3, options, "the first probe and one per redirect followed: none for the refused one")
	})
}

// No usable answer over real HTTP: slow past the timeout, a reset connection, a
// truncated, garbage or oversized body: each is Lost and resent with the same key.
func TestE2ENoUsableAnswer(t *testing.T) {
	pol := policy.Default()
	pol.Resend.RequestTimeout = 200 * time.Millisecond
	pol.Resend.MaxRequestTimeout = 400 * time.Millisecond
	cases := []struct {
		name string
		step sim.HTTPStep
	}{
		{"slow past the timeout", sim.HTTPStep{Delay: 2 * time.Second}},
		{"connection reset", sim.HTTPStep{Reset: true}},
		{"truncated body", sim.HTTPStep{Truncate: true}},
		{"garbage body", sim.HTTPStep{Garbage: true}},
		{"oversized body", sim.HTTPStep{Oversize: 2 << 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) { o.MaxResponseBytes = 1 << 20; ho.Gzip = true })
			stored := e.mustSync().SyncKey
			require.NoError(t, e.srv.AddFolder(hierarchy.Folder{ServerID: "n1", ParentID: "0", DisplayName: "New", Type: 12}))
			e.audit.Reset()
			e.handler.Inject(c.step)
			res, err := e.sync(pol)
			require.NoError(t, err)
			// Resent, then the answer after the lost one verified (verify_after_lost_response).
			assert.Equal(t, []string{"start", "lost", "backoff_elapsed", "verify", "reset_sent", "success"}, e.events())
			assert.True(t, res.Tree.Equal(hierarchy.NewTree(e.srv.Folders()...)), "nothing lost")
			hist := e.srv.History()
			require.GreaterOrEqual(t, len(hist), 3)
			assert.Equal(t, stored, hist[len(hist)-2].RequestKey, "the identical request is resent with the stored key")
			assert.Equal(t, "0", hist[len(hist)-1].RequestKey, "then verified with SyncKey 0")
		})
	}
}

// X-MS-RP on a real answer: the session returns to SyncKey 0.
func TestE2EResetRequested(t *testing.T) {
	e := newE2E(t)
	e.mustSync()
	e.audit.Reset()
	e.handler.Inject(sim.HTTPStep{ResetRequested: true})
	res := e.mustSync()
	assert.Equal(t, []string{"start", "key_mismatch", "reset_sent", "success"}, e.events())
	assert.NotNil(t, res.Reconciled)
	assert.True(t, res.ResetRequested, "the caller learns it must reset its item sync state too")
}

// The first contact is an OPTIONS: a 451 there is followed like one on a POST
// (MS-ASHTTP 3.1.5.2.2's own example), a 503 there honours Retry-After and its cap.
func TestE2EAnswersToOptions(t *testing.T) {
	t.Run("451", func(t *testing.T) {
		other := newE2E(t)
		e := newE2E(t)
		other.srv = e.srv
		other.handler = sim.NewHandler(e.srv, sim.HandlerOptions{Users: map[string]string{testUser: testPass}})
		other.http.Config.Handler = other.handler
		target := other.http.URL + "/Microsoft-Server-ActiveSync"
		e.handler.Inject(sim.HTTPStep{Status: 451, Location: target})
		res := e.mustSync()
		assert.Equal(t, target, res.URL)
		assert.Equal(t, []string{"start", "redirect", "backoff_elapsed", "success"}, e.events())
	})
	t.Run("503 over the cap", func(t *testing.T) {
		e := newE2E(t)
		e.handler.Inject(sim.HTTPStep{Status: 503, RetryAfter: "86400", Throttle: "CommandFrequency"})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrThrottled)
	})
	t.Run("503 within the cap", func(t *testing.T) {
		e := newE2E(t)
		e.handler.Inject(sim.HTTPStep{Status: 503, RetryAfter: "20"})
		res := e.mustSync()
		assert.Equal(t, 20*time.Second, res.Counters.Elapsed)
	})
}

// Bearer: an expired cached token meets a 401 on the first OPTIONS; one refresh,
// then the session goes on.
func TestE2EBearerRefreshOnOptions(t *testing.T) {
	var asked []bool
	e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) {
		o.Password = ""
		o.Token = func(_ context.Context, refresh bool) (string, error) {
			asked = append(asked, refresh)
			if refresh {
				return "fresh-token", nil
			}
			return "expired-token", nil
		}
		ho.Users, ho.Tokens = nil, map[string]string{"fresh-token": testUser}
	})
	e.mustSync()
	assert.Equal(t, []bool{false, true}, asked)
	assert.NotContains(t, e.audit.String(), "fresh-token")
}

// A 503 on the Provision request leaves provisioning pending: after the wait the
// session provisions again, then reruns.
func TestE2EProvisionThrottled(t *testing.T) {
	e := newE2E(t, func(o *httpeas.Options, ho *sim.HandlerOptions) {
		o.ProtocolVersion = "12.1"
		ho.RequirePolicy = true
	})
	// OPTIONS, FolderSync (449), Provision (503), then normal service.
	e.handler.Inject(sim.HTTPStep{}, sim.HTTPStep{}, sim.HTTPStep{Status: 503, RetryAfter: "30"})
	res := e.mustSync()
	assert.Equal(t, []string{"start", "provision", "backoff_elapsed", "throttled", "backoff_elapsed", "success"}, e.events())
	assert.Equal(t, 30*time.Second, res.Counters.Elapsed)
	assert.NotEmpty(t, e.client.PolicyKey())
}

// An untrusted TLS certificate is not resent three times: the session fails at
// once and says why.
func TestE2EUntrustedCertificate(t *testing.T) {
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	ts := httptest.NewTLSServer(sim.NewHandler(srv, sim.HandlerOptions{}))
	defer ts.Close()
	c, err := httpeas.New(httpeas.Options{URL: ts.URL, User: testUser, Password: testPass, DeviceID: "E2E1"})
	require.NoError(t, err)
	defer c.Close()
	sess, err := machine.New(machine.Config{Transport: c, Store: hierarchy.NewMemoryStore(), Clock: machine.NewSimClock(time.Now())})
	require.NoError(t, err)
	res, err := sess.Sync(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, machine.ErrRequest)
	assert.Contains(t, err.Error(), "certificate is not trusted")
	assert.Equal(t, 1, res.Counters.Attempts)
	assert.Equal(t, 0, srv.Requests())
}

// MS-ASHTTP 3.1.5.2.2: a 451 without X-MS-Location is followed through Autodiscover
// (Options.Autodiscover): its URL is checked like an X-MS-Location, recorded, and
// followed with OPTIONS first; without the option, or when Autodiscover fails, the
// session fails with ErrRedirect and says why.
func TestE2ERedirectWithoutLocation(t *testing.T) {
	var discovered atomic.Int32
	withDiscovery := func(url string, err error) e2eOpt {
		return func(o *httpeas.Options, _ *sim.HandlerOptions) {
			o.Autodiscover = func(context.Context) (string, error) {
				discovered.Add(1)
				return url, err
			}
		}
	}
	t.Run("found and followed", func(t *testing.T) {
		discovered.Store(0)
		other := newE2E(t)
		target := other.http.URL + "/Microsoft-Server-ActiveSync"
		e := newE2E(t, withDiscovery(target, nil))
		e.mustSync()
		other.srv = e.srv // the mailbox moved with its device state
		other.handler = sim.NewHandler(e.srv, sim.HandlerOptions{Users: map[string]string{testUser: testPass}})
		other.http.Config.Handler = other.handler
		e.audit.Reset()
		e.handler.Inject(sim.HTTPStep{Status: 451})
		res := e.mustSync()
		assert.EqualValues(t, 1, discovered.Load())
		assert.Equal(t, target, res.URL)
		assert.Equal(t, []string{target}, res.Redirects)
		assert.Equal(t, []string{"start", "redirect", "backoff_elapsed", "success"}, e.events())
		assert.Contains(t, e.audit.String(), `"detail":"the 451 named no server; Autodiscover found `+target+`"`)
		var methods []string
		for _, ex := range other.handler.Exchanges() {
			methods = append(methods, ex.Method)
		}
		assert.Equal(t, []string{"OPTIONS", "POST"}, methods)
	})
	t.Run("a 451 that names a server does not run Autodiscover", func(t *testing.T) {
		discovered.Store(0)
		e := newE2E(t, withDiscovery("https://never.example/eas", nil))
		e.mustSync()
		e.handler.Inject(sim.HTTPStep{Status: 451, Location: e.client.URL()})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrRedirect)
		assert.Contains(t, err.Error(), "redirect loop")
		assert.Zero(t, discovered.Load())
	})
	for _, tc := range []struct {
		name string
		url  string
		err  error
		want string
	}{
		{"Autodiscover fails", "", errors.New("autodiscover: no candidate answered with settings"),
			"the 451 has no X-MS-Location, and Autodiscover found no server: autodiscover: no candidate answered with settings"},
		{"Autodiscover returns nothing", "", nil, "Autodiscover returned no URL"},
		{"Autodiscover names plain HTTP", "http://eas.example.com/Microsoft-Server-ActiveSync", nil, "Autodiscover: ashttp: not following the 451 redirect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, withDiscovery(tc.url, tc.err))
			e.mustSync()
			if strings.HasPrefix(tc.url, "http:") {
				// A client on TLS that does not allow insecure HTTP.
				tlsSrv := httptest.NewTLSServer(e.handler)
				defer tlsSrv.Close()
				opts := httpeas.Options{URL: tlsSrv.URL, User: testUser, Password: testPass, DeviceID: "E2E1", HTTPClient: tlsSrv.Client(),
					Autodiscover: func(context.Context) (string, error) { return tc.url, nil }}
				c, err := httpeas.New(opts)
				require.NoError(t, err)
				e.client = c
				e.handler.Inject(sim.HTTPStep{})
			}
			e.handler.Inject(sim.HTTPStep{Status: 451})
			_, err := e.sync()
			assert.ErrorIs(t, err, machine.ErrRedirect)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testPass)
		})
	}
	t.Run("without the option the reason says to run Autodiscover", func(t *testing.T) {
		e := newE2E(t)
		e.mustSync()
		e.handler.Inject(sim.HTTPStep{Status: 451})
		_, err := e.sync()
		assert.ErrorIs(t, err, machine.ErrRedirect)
		assert.Contains(t, err.Error(), "run Autodiscover")
	})
}

// Autodiscover has its own budget (AutodiscoverTimeout), not the request's: a
// search slower than the request timeout still finds the server. The session's
// end stops it: a cancelled session ends Cancelled, at once, not with a refusal.
func TestE2EAutodiscoverBudget(t *testing.T) {
	pol := policy.Default()
	pol.Resend.RequestTimeout = 100 * time.Millisecond
	pol.Resend.MaxRequestTimeout = 100 * time.Millisecond
	slow := func(target string, started chan<- struct{}) e2eOpt {
		return func(o *httpeas.Options, _ *sim.HandlerOptions) {
			o.Autodiscover = func(ctx context.Context) (string, error) {
				if started != nil {
					close(started)
				}
				select {
				case <-time.After(400 * time.Millisecond):
					return target, nil
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}
		}
	}
	t.Run("slower than the request timeout", func(t *testing.T) {
		other := newE2E(t)
		target := other.http.URL + "/Microsoft-Server-ActiveSync"
		e := newE2E(t, slow(target, nil))
		e.mustSync()
		other.handler = sim.NewHandler(e.srv, sim.HandlerOptions{Users: map[string]string{testUser: testPass}})
		other.http.Config.Handler = other.handler
		e.handler.Inject(sim.HTTPStep{Status: 451})
		res, err := e.sync(pol)
		require.NoError(t, err)
		assert.Equal(t, []string{target}, res.Redirects)
	})
	t.Run("the session is cancelled", func(t *testing.T) {
		started := make(chan struct{})
		e := newE2E(t, slow("https://never.example/eas", started))
		e.mustSync()
		e.handler.Inject(sim.HTTPStep{Status: 451})
		sess, err := machine.New(machine.Config{Transport: e.client, Store: e.store, Policy: pol, Clock: e.clock, SessionID: t.Name()})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		begin := time.Now()
		res, err := sess.Sync(ctx)
		assert.ErrorIs(t, err, machine.ErrCancelled)
		assert.NotContains(t, err.Error(), "Autodiscover found no server")
		assert.Equal(t, states.Failed, res.State)
		assert.Less(t, time.Since(begin), 5*time.Second)
	})
}
