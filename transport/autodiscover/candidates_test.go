package autodiscover_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/easkit/foldersync/transport/autodiscover"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeNet is the network of the default search (steps 1 to 4), with no network:
// an http.RoundTripper that records every request and answers per "METHOD URL";
// anything else fails to connect. It fails the test if credentials ever travel
// over plain HTTP.
type fakeNet struct {
	t       *testing.T
	answers map[string]func(*http.Request) *http.Response

	mu   sync.Mutex
	reqs []fakeReq
	srv  []string // SRV names looked up
}

type fakeReq struct {
	Method, URL, Auth, Email string
}

func (f *fakeNet) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := fakeReq{Method: r.Method, URL: r.URL.String(), Auth: r.Header.Get("Authorization")}
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if req, err := autodiscover.ParseRequest(b); err == nil {
			rec.Email = req.Email
		}
		if r.Method == http.MethodGet && len(b) > 0 {
			f.t.Errorf("GET %s carries a body", rec.URL)
		}
	}
	if r.URL.Scheme != "https" && rec.Auth != "" {
		f.t.Errorf("credentials sent over plain HTTP to %s", rec.URL)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	if a, ok := f.answers[r.Method+" "+rec.URL]; ok {
		resp := a(r)
		resp.Request = r
		return resp, nil
	}
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
}

func (f *fakeNet) lookupSRV(records map[string][]*net.SRV) func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return func(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
		full := "_" + service + "._" + proto + "." + name
		f.mu.Lock()
		f.srv = append(f.srv, full)
		f.mu.Unlock()
		if rs, ok := records[full]; ok {
			return "", rs, nil
		}
		return "", nil, &net.DNSError{Err: "no such host", Name: full, IsNotFound: true}
	}
}

func (f *fakeNet) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs {
		out = append(out, r.Method+" "+r.URL)
	}
	return out
}

func (f *fakeNet) options(email string) autodiscover.Options {
	return autodiscover.Options{Email: email, Password: password, HTTPClient: &http.Client{Transport: f}, LookupSRV: f.lookupSRV(nil)}
}

func status(code int, header ...string) func(*http.Request) *http.Response {
	return func(*http.Request) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(""))}
	}
}

func answer(r *autodiscover.Response) func(*http.Request) *http.Response {
	return func(*http.Request) *http.Response {
		b, err := autodiscover.MarshalResponse(r)
		if err != nil {
			panic(err)
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(string(b)))}
	}
}

const (
	step1 = "POST https://example.com/autodiscover/autodiscover.xml"
	step2 = "POST https://autodiscover.example.com/autodiscover/autodiscover.xml"
	step3 = "GET http://autodiscover.example.com/autodiscover/autodiscover.xml"
)

// Every step in turn (MS-OXDISCO 3.1.5.2 to 3.1.5.4): step 1 unreachable, step 2
// 404, step 3's redirect leads to a 500, and the best SRV record gives the
// settings.
func TestDefaultCandidateOrder(t *testing.T) {
	f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step2: status(404),
		step3: status(302, "Location", "https://redir.example.net/autodiscover/autodiscover.xml"),
		"POST https://redir.example.net/autodiscover/autodiscover.xml":    status(500),
		"POST https://srv2.example.net:444/autodiscover/autodiscover.xml": answer(settingsFor("chris@example.com")),
	}}
	opts := f.options("chris@example.com")
	opts.LookupSRV = f.lookupSRV(map[string][]*net.SRV{"_autodiscover._tcp.example.com": {
		{Target: "low.example.net.", Port: 443, Priority: 20, Weight: 100},
		{Target: "srv1.example.net.", Port: 8443, Priority: 10, Weight: 5},
		{Target: "srv2.example.net.", Port: 444, Priority: 10, Weight: 50},
		{Target: ".", Port: 443, Priority: 0, Weight: 100}, // "no service": skipped
	}})
	res, err := autodiscover.Discover(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, easURL, res.URL)
	assert.Equal(t, []string{
		step1,
		step2,
		step3,
		"POST https://redir.example.net/autodiscover/autodiscover.xml",
		"POST https://srv2.example.net:444/autodiscover/autodiscover.xml",
	}, f.requests())
	assert.Equal(t, []string{"_autodiscover._tcp.example.com"}, f.srv)

	// Step 3 is a GET without credentials; what it leads to is POSTed with them.
	assert.Empty(t, f.reqs[2].Auth)
	for _, i := range []int{0, 1, 3, 4} {
		assert.True(t, strings.HasPrefix(f.reqs[i].Auth, "Basic "), "request %d: %q", i, f.reqs[i].Auth)
		assert.Equal(t, "chris@example.com", f.reqs[i].Email)
	}

	assert.Equal(t, []autodiscover.Attempt{
		{Method: "POST", URL: "https://example.com/autodiscover/autodiscover.xml", Outcome: "connection failed: dial tcp: connection refused"},
		{Method: "POST", URL: "https://autodiscover.example.com/autodiscover/autodiscover.xml", HTTPStatus: 404, Outcome: "http 404"},
		{Method: "GET", URL: "http://autodiscover.example.com/autodiscover/autodiscover.xml", HTTPStatus: 302, Outcome: "redirect to https://redir.example.net/autodiscover/autodiscover.xml"},
		{Method: "POST", URL: "https://redir.example.net/autodiscover/autodiscover.xml", HTTPStatus: 500, Outcome: "http 500"},
		{Method: "SRV", URL: "_autodiscover._tcp.example.com", Outcome: "record srv2.example.net port 444"},
		{Method: "POST", URL: "https://srv2.example.net:444/autodiscover/autodiscover.xml", HTTPStatus: 200, Outcome: "settings"},
	}, res.Attempts)
}

// The first candidate that answers with settings ends the search.
func TestDefaultStepOneWins(t *testing.T) {
	f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step1: answer(settingsFor("chris@example.com")),
		step2: answer(settingsFor("chris@example.com")),
	}}
	res, err := autodiscover.Discover(context.Background(), f.options("Chris@Example.COM"))
	require.NoError(t, err)
	assert.Equal(t, []string{step1}, f.requests(), "the domain is lower-cased in URLs")
	assert.Equal(t, "Chris@Example.COM", f.reqs[0].Email, "the address is sent as given")
	assert.Equal(t, "Chris@Example.COM", res.Email)
	assert.Empty(t, f.srv)
}

// Step 3 accepts only a redirect to https: to http (absolute, or relative to the
// http URL) it is refused and nothing is sent there; a 200 is not a redirect.
func TestDefaultStepThreeRefusesPlainHTTP(t *testing.T) {
	for name, tc := range map[string]struct {
		answer   func(*http.Request) *http.Response
		outcome  string
		insecure bool
	}{
		"absolute http": {status(301, "Location", "http://evil.example.net/autodiscover/autodiscover.xml"), "refused", true},
		"relative":      {status(307, "Location", "/elsewhere"), "refused", true},
		"userinfo":      {status(302, "Location", "https://u:pw@evil.example.net/"), "refused redirect: the redirect's Location carries credentials", false},
		"200":           {answer(settingsFor("chris@example.com")), "http 200, not a redirect", false},
		"404":           {status(404), "http 404, not a redirect", false},
		"no location":   {status(302), "http 302 without a Location", false},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{step3: tc.answer}}
			res, err := autodiscover.Discover(context.Background(), f.options("chris@example.com"))
			require.Error(t, err)
			assert.Equal(t, []string{step1, step2, step3}, f.requests(), "nothing after the GET but the SRV lookup")
			assert.Equal(t, []string{"_autodiscover._tcp.example.com"}, f.srv)
			require.Len(t, res.Attempts, 4)
			assert.Contains(t, res.Attempts[2].Outcome, tc.outcome)
			assert.Equal(t, "SRV", res.Attempts[3].Method)
			assert.Contains(t, res.Attempts[3].Outcome, "lookup failed")
			assert.Equal(t, tc.insecure, errors.Is(err, autodiscover.ErrInsecure), "%v", err)
			if !tc.insecure {
				assert.ErrorIs(t, err, autodiscover.ErrNotFound)
			}
		})
	}
}

// Step 3's redirect target is POSTed with credentials and can give the settings;
// an HTTP redirect from that POST is followed to https too.
func TestDefaultStepThreeLeadsToSettings(t *testing.T) {
	f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step3: status(302, "Location", "https://autodiscover.hoster.example/autodiscover/autodiscover.xml"),
		"POST https://autodiscover.hoster.example/autodiscover/autodiscover.xml": status(302, "Location", "https://cas2.hoster.example/autodiscover/autodiscover.xml"),
		"POST https://cas2.hoster.example/autodiscover/autodiscover.xml":         answer(settingsFor("chris@example.com")),
	}}
	res, err := autodiscover.Discover(context.Background(), f.options("chris@example.com"))
	require.NoError(t, err)
	assert.Equal(t, easURL, res.URL)
	assert.Equal(t, []string{step1, step2, step3,
		"POST https://autodiscover.hoster.example/autodiscover/autodiscover.xml",
		"POST https://cas2.hoster.example/autodiscover/autodiscover.xml"}, f.requests())
	assert.Empty(t, f.reqs[2].Auth)
	assert.NotEmpty(t, f.reqs[3].Auth)
	assert.NotEmpty(t, f.reqs[4].Auth)
	assert.Empty(t, f.srv)

	// A step-3 redirect to a URL already tried is not tried again.
	f = &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step3: status(302, "Location", "https://autodiscover.example.com/autodiscover/autodiscover.xml"),
	}}
	res, err = autodiscover.Discover(context.Background(), f.options("chris@example.com"))
	require.ErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Equal(t, []string{step1, step2, step3}, f.requests())
	assert.Contains(t, res.Attempts[2].Outcome, "already tried: not followed")
}

// The derived search ignores AllowInsecureHTTP: step 3's unauthenticated answer
// cannot send the credentials to a plain-HTTP URL.
func TestDefaultSearchNeverPlainHTTP(t *testing.T) {
	f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step3: status(302, "Location", "http://evil.example.net/autodiscover/autodiscover.xml"),
		"POST http://evil.example.net/autodiscover/autodiscover.xml": answer(settingsFor("chris@example.com")),
	}}
	opts := f.options("chris@example.com")
	opts.AllowInsecureHTTP = true
	res, err := autodiscover.Discover(context.Background(), opts)
	require.ErrorIs(t, err, autodiscover.ErrInsecure)
	assert.NotContains(t, f.requests(), "POST http://evil.example.net/autodiscover/autodiscover.xml")
	assert.Contains(t, res.Attempts[2].Outcome, "plain HTTP")
}

// ConfirmRedirect is asked before the credentials follow step 3's redirect; a
// refusal skips it (no request reaches the target) and the search goes on.
func TestDefaultStepThreeConfirm(t *testing.T) {
	target := "https://autodiscover.hoster.example/autodiscover/autodiscover.xml"
	for _, confirm := range []bool{true, false} {
		f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
			step3:            status(302, "Location", target),
			"POST " + target: answer(settingsFor("chris@example.com")),
		}}
		var asked []string
		opts := f.options("chris@example.com")
		opts.ConfirmRedirect = func(_ context.Context, from, to string) bool {
			asked = append(asked, from+" -> "+to)
			return confirm
		}
		res, err := autodiscover.Discover(context.Background(), opts)
		assert.Equal(t, []string{"http://autodiscover.example.com/autodiscover/autodiscover.xml -> " + target}, asked)
		if confirm {
			require.NoError(t, err)
			assert.Equal(t, easURL, res.URL)
			continue
		}
		require.ErrorIs(t, err, autodiscover.ErrNotFound)
		assert.Equal(t, []string{step1, step2, step3}, f.requests(), "the target is never contacted")
		assert.Contains(t, res.Attempts[2].Outcome, "not confirmed: not followed")
		assert.Equal(t, []string{"_autodiscover._tcp.example.com"}, f.srv, "step 4 still runs")
	}
}

// Step 4: the port is kept unless it is 443; a target of "." or a port of 0 is
// no service.
func TestDefaultStepFourSRV(t *testing.T) {
	for name, tc := range map[string]struct {
		records []*net.SRV
		want    string // the POST, or "" for none
		outcome string
	}{
		"port 443 omitted":  {[]*net.SRV{{Target: "AD.Hoster.Example.", Port: 443}}, "POST https://ad.hoster.example/autodiscover/autodiscover.xml", "record ad.hoster.example port 443"},
		"other port kept":   {[]*net.SRV{{Target: "ad.hoster.example", Port: 8443}}, "POST https://ad.hoster.example:8443/autodiscover/autodiscover.xml", "record ad.hoster.example port 8443"},
		"highest weight":    {[]*net.SRV{{Target: "a.example.", Port: 443, Priority: 5, Weight: 1}, {Target: "b.example.", Port: 443, Priority: 5, Weight: 9}, {Target: "c.example.", Port: 443, Priority: 6, Weight: 99}}, "POST https://b.example/autodiscover/autodiscover.xml", "record b.example port 443"},
		"no service":        {[]*net.SRV{{Target: ".", Port: 443}, {Target: "x.example.", Port: 0}}, "", "no usable record (2 found)"},
		"no records":        {nil, "", "no usable record (0 found)"},
		"hostile target":    {[]*net.SRV{{Target: "evil.example/path?", Port: 443}}, "", "no usable record (1 found)"},
		"already tried URL": {[]*net.SRV{{Target: "autodiscover.example.com.", Port: 443}}, "", "record autodiscover.example.com port 443, whose URL was already tried"},
	} {
		t.Run(name, func(t *testing.T) {
			f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{}}
			if tc.want != "" {
				f.answers[tc.want] = answer(settingsFor("chris@example.com"))
			}
			opts := f.options("chris@example.com")
			opts.LookupSRV = f.lookupSRV(map[string][]*net.SRV{"_autodiscover._tcp.example.com": tc.records})
			res, err := autodiscover.Discover(context.Background(), opts)
			want := []string{step1, step2, step3}
			if tc.want != "" {
				require.NoError(t, err)
				want = append(want, tc.want)
			} else {
				require.ErrorIs(t, err, autodiscover.ErrNotFound)
			}
			assert.Equal(t, want, f.requests())
			assert.Equal(t, autodiscover.Attempt{Method: "SRV", URL: "_autodiscover._tcp.example.com", Outcome: tc.outcome}, res.Attempts[3])
		})
	}
}

// An Action/Redirect restarts the whole search with the new domain, and the
// request carries the new address.
func TestDefaultAddressRedirectChangesDomain(t *testing.T) {
	f := &fakeNet{t: t, answers: map[string]func(*http.Request) *http.Response{
		step2: answer(&autodiscover.Response{Redirect: "chris.gray@Example.ORG"}),
		"POST https://autodiscover.example.org/autodiscover/autodiscover.xml": answer(settingsFor("chris.gray@example.org")),
	}}
	res, err := autodiscover.Discover(context.Background(), f.options("chris@example.com"))
	require.NoError(t, err)
	assert.Equal(t, []string{step1, step2,
		"POST https://example.org/autodiscover/autodiscover.xml",
		"POST https://autodiscover.example.org/autodiscover/autodiscover.xml"}, f.requests())
	assert.Equal(t, []string{"chris@example.com", "chris@example.com", "chris.gray@Example.ORG", "chris.gray@Example.ORG"},
		[]string{f.reqs[0].Email, f.reqs[1].Email, f.reqs[2].Email, f.reqs[3].Email})
	assert.Equal(t, "chris.gray@Example.ORG", res.Email)
	assert.Equal(t, "redirect to chris.gray@Example.ORG", res.Attempts[1].Outcome)
}

// A search where nothing answers ends with ErrNotFound after exactly the four
// steps, and the error lists them.
func TestDefaultNothingAnswers(t *testing.T) {
	f := &fakeNet{t: t}
	res, err := autodiscover.Discover(context.Background(), f.options("chris@example.com"))
	require.ErrorIs(t, err, autodiscover.ErrNotFound)
	assert.Equal(t, []string{step1, step2, step3}, f.requests())
	assert.Len(t, res.Attempts, 4)
	for _, want := range []string{step1, step2, step3, "SRV _autodiscover._tcp.example.com: lookup failed"} {
		assert.Contains(t, err.Error(), want)
	}
}
