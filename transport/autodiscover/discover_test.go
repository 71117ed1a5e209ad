package autodiscover_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/easkit/foldersync/transport/autodiscover"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	easURL   = "https://mail.example.com/Microsoft-Server-ActiveSync"
	password = "hunter2-s3cret"
	token    = "eyJ0b2tlbi1zZWNyZXQ"
	adPath   = "/autodiscover/autodiscover.xml"
)

// adServer is an Autodiscover server: it checks the request as MS-ASCMD 2.2.1.1
// has it (POST, text/xml, the request schema, the credentials) and answers with
// what answer returns for the address.
type adServer struct {
	t      *testing.T
	user   string // Basic credentials required, unless bearer is set
	pass   string
	bearer string
	answer func(email string) *autodiscover.Response

	mu     sync.Mutex
	emails []string
}

func (s *adServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "text/xml" {
		s.t.Errorf("%s with Content-Type %q; MS-ASCMD 2.2.1.1 wants a POST of text/xml", r.Method, r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch {
	case s.bearer != "":
		if r.Header.Get("Authorization") != "Bearer "+s.bearer {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	case s.user != "":
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	req, err := autodiscover.ParseRequest(body)
	if err != nil {
		s.t.Errorf("the server cannot read the request: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.emails = append(s.emails, req.Email)
	s.mu.Unlock()
	resp := &autodiscover.Response{Error: &autodiscover.ServerError{Code: 601, Message: "Provider is not available"}}
	if req.AcceptableResponseSchema == autodiscover.ResponseSchema {
		resp = s.answer(req.Email)
	}
	b, err := autodiscover.MarshalResponse(resp)
	if err != nil {
		s.t.Errorf("MarshalResponse: %v", err)
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(b)
}

func (s *adServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.emails...)
}

func settingsFor(email string) *autodiscover.Response {
	return &autodiscover.Response{Culture: "en:us", DisplayName: "Chris Gray", Email: email, Servers: []autodiscover.Server{
		{Type: autodiscover.TypeCertEnroll, URL: "https://cert.example.com/CertEnroll", ServerData: "Template"},
		{Type: autodiscover.TypeMobileSync, URL: easURL, Name: "mail.example.com"},
		{Type: autodiscover.TypeMobileSync, URL: "https://second.example.com/Microsoft-Server-ActiveSync"},
	}}
}

// tlsServer starts an https test server; every httptest TLS server has the same
// certificate, so the Client of one trusts them all.
func tlsServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func outcomes(as []autodiscover.Attempt) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Outcome)
	}
	return out
}

// noSecrets fails when the password, the Basic credentials or the token appear
// in the error or anywhere in the result.
func noSecrets(t *testing.T, res *autodiscover.Result, err error) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte("chris@example.com:" + password))
	texts := []string{fmt.Sprintf("%+v", res), fmt.Sprint(res)}
	if res != nil {
		texts = append(texts, fmt.Sprintf("%+v", *res), fmt.Sprintf("%+v", res.Attempts))
		if res.Response != nil {
			texts = append(texts, fmt.Sprintf("%+v", *res.Response))
		}
	}
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))
		var se *autodiscover.ServerError
		if errors.As(err, &se) {
			texts = append(texts, fmt.Sprintf("%+v", *se))
		}
	}
	for _, s := range texts {
		for _, secret := range []string{password, basic, token} {
			assert.NotContains(t, s, secret)
		}
	}
}

func TestDiscoverSettings(t *testing.T) {
	ad := &adServer{t: t, user: "chris@example.com", pass: password, answer: settingsFor}
	srv := tlsServer(t, ad)

	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints:  []string{srv.URL + adPath},
		HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	assert.Equal(t, easURL, res.URL, "the first MobileSync server")
	assert.Equal(t, "mail.example.com", res.ServerName)
	assert.Equal(t, "Chris Gray", res.DisplayName)
	assert.Equal(t, "chris@example.com", res.Email)
	assert.Equal(t, "en:us", res.Culture)
	require.NotNil(t, res.Response)
	assert.Len(t, res.Response.Servers, 3)
	assert.Equal(t, []autodiscover.Attempt{{Method: "POST", URL: srv.URL + adPath, HTTPStatus: 200, Outcome: "settings"}}, res.Attempts)
	assert.Equal(t, []string{"chris@example.com"}, ad.seen())
	noSecrets(t, res, err)
}

// Each kind of failure moves on to the next candidate, and the attempts record
// them all, in order.
func TestDiscoverMovesOnAndRecordsAttempts(t *testing.T) {
	ad := &adServer{t: t, answer: settingsFor}
	good := tlsServer(t, ad)
	notFound := tlsServer(t, http.NotFoundHandler())
	html := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><body>Welcome</body></html>")
	}))
	broken := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()

	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints:  []string{closed.URL + adPath, notFound.URL + adPath, html.URL + adPath, broken.URL + adPath, good.URL + adPath},
		HTTPClient: good.Client(),
	})
	require.NoError(t, err)
	assert.Equal(t, easURL, res.URL)
	require.Len(t, res.Attempts, 5)
	assert.Equal(t, closed.URL+adPath, res.Attempts[0].URL)
	assert.Equal(t, 0, res.Attempts[0].HTTPStatus)
	assert.True(t, strings.HasPrefix(res.Attempts[0].Outcome, "connection failed: "), res.Attempts[0].Outcome)
	assert.Equal(t, autodiscover.Attempt{Method: "POST", URL: notFound.URL + adPath, HTTPStatus: 404, Outcome: "http 404"}, res.Attempts[1])
	assert.Equal(t, 200, res.Attempts[2].HTTPStatus)
	assert.Equal(t, "not an Autodiscover response: a DOCTYPE or other declaration (<!...>) is not accepted (at byte 0)", res.Attempts[2].Outcome)
	assert.Equal(t, "http 500", res.Attempts[3].Outcome)
	assert.Equal(t, "settings", res.Attempts[4].Outcome)

	// The same without the good one: nothing useful, so ErrNotFound, with the
	// attempts in the message and in the partial result.
	res, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints:  []string{notFound.URL + adPath, html.URL + adPath},
		HTTPClient: good.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrNotFound)
	assert.NotErrorIs(t, err, autodiscover.ErrAuth)
	assert.Contains(t, err.Error(), "POST "+notFound.URL+adPath+": http 404")
	require.NotNil(t, res)
	assert.Empty(t, res.URL)
	assert.Len(t, res.Attempts, 2)
}

// MS-ASCMD 2.2.3.147: a Redirect restarts with the new address, which the next
// request carries.
func TestDiscoverAddressRedirect(t *testing.T) {
	ad := &adServer{t: t, answer: func(email string) *autodiscover.Response {
		if email == "chris@example.com" {
			return &autodiscover.Response{Redirect: "chris.gray@example.org"}
		}
		return settingsFor(email)
	}}
	srv := tlsServer(t, ad)
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"chris@example.com", "chris.gray@example.org"}, ad.seen())
	assert.Equal(t, "chris.gray@example.org", res.Email, "the address finally used")
	assert.Equal(t, easURL, res.URL)
	assert.Equal(t, []string{"redirect to chris.gray@example.org", "settings"}, outcomes(res.Attempts))
}

func TestDiscoverRedirectLoop(t *testing.T) {
	for name, next := range map[string]map[string]string{
		"to itself":         {"chris@example.com": "chris@example.com"},
		"to itself, case":   {"chris@example.com": "Chris@Example.COM"},
		"back and forth":    {"chris@example.com": "chris@example.org", "chris@example.org": "chris@example.com"},
		"back after detour": {"chris@example.com": "a@example.org", "a@example.org": "b@example.net", "b@example.net": "chris@example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := tlsServer(t, &adServer{t: t, answer: func(email string) *autodiscover.Response {
				return &autodiscover.Response{Redirect: next[email]}
			}})
			res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
				Email: "chris@example.com", Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
			})
			require.ErrorIs(t, err, autodiscover.ErrRedirectLoop)
			assert.Len(t, res.Attempts, len(next))
		})
	}
}

// At most MaxRedirects redirects, address and HTTP ones counted together.
func TestDiscoverTooManyRedirects(t *testing.T) {
	var hits atomic.Int32
	endless := tlsServer(t, &adServer{t: t, answer: func(email string) *autodiscover.Response {
		hits.Add(1)
		var n int
		_, _ = fmt.Sscanf(email, "u%d@", &n)
		return &autodiscover.Response{Redirect: fmt.Sprintf("u%d@example%d.com", n+1, n+1)}
	}})
	_, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "u0@example0.com", Endpoints: []string{endless.URL + adPath}, HTTPClient: endless.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrTooManyRedirects)
	assert.Equal(t, int32(11), hits.Load(), "10 redirects followed, the 11th refused")

	hits.Store(0)
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "u0@example0.com", Endpoints: []string{endless.URL + adPath}, HTTPClient: endless.Client(), MaxRedirects: 3,
	})
	require.ErrorIs(t, err, autodiscover.ErrTooManyRedirects)
	assert.Equal(t, int32(4), hits.Load())

	// HTTP redirects: /r0 -> /r1 -> ... never ends.
	var httpHits atomic.Int32
	chain := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := httpHits.Add(1)
		http.Redirect(w, r, fmt.Sprintf("/r%d", n), http.StatusFound)
	}))
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "u0@example.com", Endpoints: []string{chain.URL + "/r0"}, HTTPClient: chain.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrTooManyRedirects)
	assert.Equal(t, int32(11), httpHits.Load())

	// Mixed: an HTTP redirect, then address redirects, with MaxRedirects 2.
	httpHits.Store(0)
	var mux http.ServeMux
	mux.Handle("/start", http.RedirectHandler("/ad", http.StatusTemporaryRedirect))
	mux.Handle("/ad", &adServer{t: t, answer: func(email string) *autodiscover.Response {
		httpHits.Add(1)
		return &autodiscover.Response{Redirect: "x" + email}
	}})
	mixed := tlsServer(t, &mux)
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "a@example.com", Endpoints: []string{mixed.URL + "/start"}, HTTPClient: mixed.Client(), MaxRedirects: 2,
	})
	require.ErrorIs(t, err, autodiscover.ErrTooManyRedirects)
	// The new address starts over, with the HTTP redirect again: the third.
	assert.Equal(t, []string{"redirect to " + mixed.URL + "/ad", "redirect to xa@example.com", "redirect to " + mixed.URL + "/ad"}, outcomes(res.Attempts))
	assert.Equal(t, int32(1), httpHits.Load())
}

// An HTTP redirect from a POST is followed to https only; to http it is refused
// and nothing is sent there.
func TestDiscoverHTTPRedirects(t *testing.T) {
	ad := &adServer{t: t, user: "chris@example.com", pass: password, answer: settingsFor}
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { plainHits.Add(1) }))
	defer plain.Close()
	var mux http.ServeMux
	mux.Handle("/old", http.RedirectHandler("/new", http.StatusFound))
	mux.Handle("/new", ad)
	mux.Handle("/to-http", http.RedirectHandler(plain.URL+adPath, http.StatusFound))
	mux.Handle("/with-userinfo", http.RedirectHandler("https://user:pw@example.com/x", http.StatusFound))
	mux.Handle("/no-location", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusFound) }))
	srv := tlsServer(t, &mux)
	opts := autodiscover.Options{Email: "chris@example.com", Password: password, HTTPClient: srv.Client()}

	opts.Endpoints = []string{srv.URL + "/old"}
	res, err := autodiscover.Discover(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, []autodiscover.Attempt{
		{Method: "POST", URL: srv.URL + "/old", HTTPStatus: 302, Outcome: "redirect to " + srv.URL + "/new"},
		{Method: "POST", URL: srv.URL + "/new", HTTPStatus: 200, Outcome: "settings"},
	}, res.Attempts)

	opts.Endpoints = []string{srv.URL + "/to-http"}
	res, err = autodiscover.Discover(context.Background(), opts)
	require.ErrorIs(t, err, autodiscover.ErrInsecure)
	assert.NotErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Contains(t, err.Error(), "AllowInsecureHTTP")
	assert.Equal(t, int32(0), plainHits.Load(), "nothing may be sent over plain HTTP")
	require.Len(t, res.Attempts, 1)
	assert.Contains(t, res.Attempts[0].Outcome, "redirects to plain HTTP")

	// The same redirect is followed when plain HTTP is allowed.
	opts.AllowInsecureHTTP = true
	_, err = autodiscover.Discover(context.Background(), opts)
	require.ErrorIs(t, err, autodiscover.ErrNotFound) // the plain server answers 200 with no body
	assert.Equal(t, int32(1), plainHits.Load())
	opts.AllowInsecureHTTP = false

	opts.Endpoints = []string{srv.URL + "/with-userinfo", srv.URL + "/no-location"}
	res, err = autodiscover.Discover(context.Background(), opts)
	require.ErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Equal(t, []string{"refused redirect: the redirect's Location carries credentials", "http 302 without a Location"}, outcomes(res.Attempts))
	noSecrets(t, res, err)
}

func TestDiscoverAuth(t *testing.T) {
	ad := &adServer{t: t, user: "chris@example.com", pass: "the-real-one", answer: settingsFor}
	srv := tlsServer(t, ad)
	notFound := tlsServer(t, http.NotFoundHandler())

	// 401 and 404: the 401 is the answer worth reporting.
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints: []string{notFound.URL + adPath, srv.URL + adPath, notFound.URL + "/other"}, HTTPClient: srv.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrAuth)
	assert.NotErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Equal(t, []string{"http 404", "http 401 (authentication failed)", "http 404"}, outcomes(res.Attempts))
	assert.Contains(t, err.Error(), "check the user name and password")
	noSecrets(t, res, err)

	// A server error outranks a 401.
	failing := tlsServer(t, &adServer{t: t, answer: func(string) *autodiscover.Response {
		return &autodiscover.Response{Error: &autodiscover.ServerError{Code: 2, Message: "The directory service could not be reached"}}
	}})
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password,
		Endpoints: []string{srv.URL + adPath, failing.URL + adPath}, HTTPClient: srv.Client(),
	})
	var se *autodiscover.ServerError
	require.ErrorAs(t, err, &se)
	assert.NotErrorIs(t, err, autodiscover.ErrAuth)

	// User defaults to Email; an explicit User is what Basic carries.
	ad.pass = password
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: password, Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	ad.user = `EXAMPLE\chris`
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", User: `EXAMPLE\chris`, Password: password, Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
}

func TestDiscoverBearer(t *testing.T) {
	ad := &adServer{t: t, bearer: token, answer: func(email string) *autodiscover.Response {
		if email == "chris@example.com" {
			return &autodiscover.Response{Redirect: "chris@example.org"}
		}
		return settingsFor(email)
	}}
	srv := tlsServer(t, ad)
	var calls atomic.Int32
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Password: "ignored-when-a-token-is-given",
		Token: func(context.Context) (string, error) {
			calls.Add(1)
			return token, nil
		},
		Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.NoError(t, err)
	assert.Equal(t, easURL, res.URL)
	assert.Equal(t, int32(1), calls.Load(), "one token for the whole search")

	// A wrong token: 401, ErrAuth, and the token nowhere.
	ad.bearer = "another"
	res, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Token: func(context.Context) (string, error) { return token, nil },
		Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrAuth)
	noSecrets(t, res, err)

	// The token source fails: ErrAuth, wrapping its error; no request is sent.
	boom := errors.New("the identity provider is down")
	n := len(ad.seen())
	_, err = autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Token: func(context.Context) (string, error) { return "", boom },
		Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	require.ErrorIs(t, err, autodiscover.ErrAuth)
	require.ErrorIs(t, err, boom)
	assert.Len(t, ad.seen(), n)
}

// A hostile server echoes the credentials back everywhere it can; none of it
// reaches an error or the attempt log.
func TestDiscoverRedactsEchoedCredentials(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) string {
		u, p, _ := r.BasicAuth()
		return u + ":" + p + " " + r.Header.Get("Authorization")
	}
	var mux http.ServeMux
	mux.HandleFunc("/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := autodiscover.MarshalResponse(&autodiscover.Response{Error: &autodiscover.ServerError{Code: 2, Message: "bad " + echo(w, r), DebugData: echo(w, r)}})
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		b, _ := autodiscover.MarshalResponse(&autodiscover.Response{Redirect: echo(w, r)})
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/location", func(w http.ResponseWriter, r *http.Request) {
		_, p, _ := r.BasicAuth()
		http.Redirect(w, r, "http://evil.example/"+p, http.StatusFound)
	})
	mux.HandleFunc("/settings", func(w http.ResponseWriter, r *http.Request) {
		_, p, _ := r.BasicAuth()
		b, _ := autodiscover.MarshalResponse(&autodiscover.Response{Servers: []autodiscover.Server{{Type: "MobileSync", URL: "http://" + p + ".example/"}}})
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/tag", func(w http.ResponseWriter, r *http.Request) {
		_, p, _ := r.BasicAuth()
		_, _ = io.WriteString(w, "<Autodiscover><"+p+"></Autodiscover>")
	})
	mux.HandleFunc("/bearer", func(w http.ResponseWriter, r *http.Request) {
		b, _ := autodiscover.MarshalResponse(&autodiscover.Response{Error: &autodiscover.ServerError{Code: 2, Message: r.Header.Get("Authorization")}})
		_, _ = w.Write(b)
	})
	srv := tlsServer(t, &mux)
	for _, path := range []string{"/error", "/redirect", "/location", "/settings", "/tag"} {
		res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "chris@example.com", Password: password, Endpoints: []string{srv.URL + path}, HTTPClient: srv.Client(),
		})
		require.Error(t, err, path)
		assert.Contains(t, err.Error()+fmt.Sprint(res), "[redacted]", path)
		noSecrets(t, res, err)
	}
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Token: func(context.Context) (string, error) { return token, nil },
		Endpoints: []string{srv.URL + "/bearer"}, HTTPClient: srv.Client(),
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Bearer [redacted]")
	noSecrets(t, res, err)
}

func TestDiscoverServerError(t *testing.T) {
	for _, want := range []autodiscover.ServerError{
		{Code: 2, Message: "The directory service could not be reached", DebugData: "MailUser"},
		{Code: 600, Message: "Invalid Request"},
	} {
		srv := tlsServer(t, &adServer{t: t, answer: func(string) *autodiscover.Response {
			return &autodiscover.Response{Error: &want}
		}})
		res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "chris@example.com", Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
		})
		var se *autodiscover.ServerError
		require.ErrorAs(t, err, &se)
		want.URL = srv.URL + adPath
		assert.Equal(t, want, *se)
		assert.NotErrorIs(t, err, autodiscover.ErrNotFound)
		assert.Contains(t, err.Error(), want.Message)
		assert.Equal(t, fmt.Sprintf("server error %d: %s", want.Code, want.Message), res.Attempts[0].Outcome)
	}

	// A server that does not serve the mobilesync schema answers 601 (our test
	// server does so for any other AcceptableResponseSchema).
	srv := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, specFrameworkError)
	}))
	_, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
	})
	var se *autodiscover.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 600, se.Code)
	assert.Contains(t, err.Error(), "error 600 (invalid request): Invalid Request")
}

// Well-formed answers that cannot be used: a bad Redirect address, no
// MobileSync server, an http or relative MobileSync URL.
func TestDiscoverUnusableAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		resp     *autodiscover.Response
		reason   string
		insecure bool
	}{
		"bad redirect":      {&autodiscover.Response{Redirect: "not-an-address"}, `a Redirect to "not-an-address", which must hold exactly one '@'`, false},
		"redirect with url": {&autodiscover.Response{Redirect: "a@evil.example/x"}, `which has '/' in the domain`, false},
		"no mobilesync":     {&autodiscover.Response{Servers: []autodiscover.Server{{Type: "CertEnroll", URL: "https://cert.example.com/"}}}, "no Server of Type MobileSync", false},
		"http mobilesync":   {&autodiscover.Response{Servers: []autodiscover.Server{{Type: "MobileSync", URL: "http://mail.example.com/Microsoft-Server-ActiveSync"}}}, "is plain HTTP", true},
		"relative url":      {&autodiscover.Response{Servers: []autodiscover.Server{{Type: "MobileSync", URL: "/Microsoft-Server-ActiveSync"}}}, "not an absolute URL", false},
		"empty url":         {&autodiscover.Response{Servers: []autodiscover.Server{{Type: "MobileSync"}}}, "Url is empty", false},
	} {
		t.Run(name, func(t *testing.T) {
			srv := tlsServer(t, &adServer{t: t, answer: func(string) *autodiscover.Response { return tc.resp }})
			_, err := autodiscover.Discover(context.Background(), autodiscover.Options{
				Email: "chris@example.com", Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(),
			})
			var re *autodiscover.ResponseError
			require.ErrorAs(t, err, &re)
			assert.Contains(t, re.Reason, tc.reason)
			assert.Equal(t, srv.URL+adPath, re.URL)
			assert.Equal(t, tc.insecure, errors.Is(err, autodiscover.ErrInsecure))
		})
	}
}

// MS-ASHTTP 3.1.5.2.4: 456 and 457 stop the search.
func TestDiscoverAccountErrors(t *testing.T) {
	second := &adServer{t: t, answer: settingsFor}
	good := tlsServer(t, second)
	for _, code := range []int{456, 457} {
		blocked := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-MS-Credential-Service-Url", "https://passwords.example.com/")
			w.WriteHeader(code)
		}))
		_, err := autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "chris@example.com", Endpoints: []string{blocked.URL + adPath, good.URL + adPath}, HTTPClient: good.Client(),
		})
		var ae *autodiscover.AccountError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, code, ae.StatusCode)
		assert.Empty(t, second.seen(), "the search stops")
		if code == 457 {
			assert.Contains(t, err.Error(), "password has expired")
			assert.Contains(t, err.Error(), "https://passwords.example.com/")
		} else {
			assert.Contains(t, err.Error(), "contact the administrator")
		}
	}
}

func TestDiscoverContextCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hang := tlsServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	res, err := autodiscover.Discover(ctx, autodiscover.Options{
		Email: "chris@example.com", Endpoints: []string{hang.URL + adPath, hang.URL + "/second"}, HTTPClient: hang.Client(),
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, []string{"canceled"}, outcomes(res.Attempts), "the second endpoint is not tried")

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = autodiscover.Discover(ctx, autodiscover.Options{
		Email: "chris@example.com", Endpoints: []string{hang.URL + adPath}, HTTPClient: hang.Client(),
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A body over MaxResponseBytes fails the candidate; an endless one is not read
// to its end.
func TestDiscoverResponseSizeCap(t *testing.T) {
	endless := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<Autodiscover><Response><Culture>")
		chunk := strings.Repeat("x", 32<<10)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	done := make(chan struct{})
	var res *autodiscover.Result
	var err error
	go func() {
		defer close(done)
		res, err = autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "chris@example.com", Endpoints: []string{endless.URL + adPath}, HTTPClient: endless.Client(),
		})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Discover reads an endless body")
	}
	require.ErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Equal(t, []string{"response larger than 1048576 bytes"}, outcomes(res.Attempts))

	srv := tlsServer(t, &adServer{t: t, answer: settingsFor})
	b, _ := autodiscover.MarshalResponse(settingsFor("chris@example.com"))
	for limit, ok := range map[int64]bool{int64(len(b)) - 1: false, int64(len(b)): true} {
		res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "chris@example.com", Endpoints: []string{srv.URL + adPath}, HTTPClient: srv.Client(), MaxResponseBytes: limit,
		})
		if ok {
			require.NoError(t, err, "limit %d", limit)
			continue
		}
		require.ErrorIs(t, err, autodiscover.ErrNotFound)
		assert.Equal(t, []string{fmt.Sprintf("response larger than %d bytes", limit)}, outcomes(res.Attempts))
	}
}

func TestDiscoverConfigErrors(t *testing.T) {
	var hits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer plain.Close()
	for _, tc := range []struct {
		opts     autodiscover.Options
		field    string
		part     string
		insecure bool
	}{
		{autodiscover.Options{}, "Email", "is empty", false},
		{autodiscover.Options{Email: "chris"}, "Email", "exactly one '@'", false},
		{autodiscover.Options{Email: "a@b@example.com"}, "Email", "exactly one '@'", false},
		{autodiscover.Options{Email: "@example.com"}, "Email", "nothing before the '@'", false},
		{autodiscover.Options{Email: "chris@"}, "Email", "no domain", false},
		{autodiscover.Options{Email: "chris@example.com/evil"}, "Email", `'/'`, false},
		{autodiscover.Options{Email: "chris@example.com:8080"}, "Email", `':'`, false},
		{autodiscover.Options{Email: "chris@exa mple.com"}, "Email", "space", false},
		{autodiscover.Options{Email: "chris@example..com"}, "Email", "empty label", false},
		{autodiscover.Options{Email: "chris@example.com?x"}, "Email", `'?'`, false},
		{autodiscover.Options{Email: "chr is@example.com"}, "Email", "space", false},
		{autodiscover.Options{Email: strings.Repeat("a", 250) + "@example.com"}, "Email", "longer than 254", false},
		{autodiscover.Options{Email: "chris@example.com", Endpoints: []string{plain.URL + adPath}}, "Endpoints[0]", "plain HTTP", true},
		{autodiscover.Options{Email: "chris@example.com", Endpoints: []string{"https://ok.example.com/", "https://u:p@example.com/"}}, "Endpoints[1]", "must not carry credentials", false},
		{autodiscover.Options{Email: "chris@example.com", Endpoints: []string{"/autodiscover/autodiscover.xml"}}, "Endpoints[0]", "absolute", false},
		{autodiscover.Options{Email: "chris@example.com", Endpoints: []string{"ftp://example.com/"}}, "Endpoints[0]", "use https", false},
		{autodiscover.Options{Email: "chris@example.com", Endpoints: []string{"https://example.com/%zz"}}, "Endpoints[0]", "not a URL", false},
	} {
		res, err := autodiscover.Discover(context.Background(), tc.opts)
		var ce *autodiscover.ConfigError
		require.ErrorAs(t, err, &ce, "%+v", tc.opts)
		assert.Equal(t, tc.field, ce.Field)
		assert.Contains(t, ce.Msg, tc.part)
		assert.Equal(t, tc.insecure, errors.Is(err, autodiscover.ErrInsecure))
		assert.Nil(t, res)
	}
	assert.Equal(t, int32(0), hits.Load())
}

// With AllowInsecureHTTP, plain httptest servers and an http MobileSync URL work.
func TestDiscoverAllowInsecureHTTP(t *testing.T) {
	srv := httptest.NewServer(&adServer{t: t, user: "chris", pass: password, answer: func(email string) *autodiscover.Response {
		return &autodiscover.Response{Email: email, Servers: []autodiscover.Server{{Type: "MobileSync", URL: "http://127.0.0.1:1/Microsoft-Server-ActiveSync"}}}
	}})
	defer srv.Close()
	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email: "chris@example.com", User: "chris", Password: password, Endpoints: []string{srv.URL + adPath}, AllowInsecureHTTP: true,
	})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/Microsoft-Server-ActiveSync", res.URL)
}

// The User-Agent is sent, default or given.
func TestDiscoverUserAgent(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.UserAgent())
		mu.Unlock()
		b, _ := autodiscover.MarshalResponse(settingsFor("a@example.com"))
		_, _ = w.Write(b)
	}))
	for _, ua := range []string{"", "probe/2"} {
		_, err := autodiscover.Discover(context.Background(), autodiscover.Options{
			Email: "a@example.com", Endpoints: []string{srv.URL}, HTTPClient: srv.Client(), UserAgent: ua,
		})
		require.NoError(t, err)
	}
	assert.Equal(t, []string{autodiscover.DefaultUserAgent, "probe/2"}, got)
}
