// Package httpeas is a [transport.Transport] that speaks MS-ASHTTP to a real
// Exchange ActiveSync server: OPTIONS version negotiation, the plain or base64
// query form, Basic or Bearer authentication, gzip bodies under a size cap, and the
// recovery headers (Retry-After, X-MS-ASThrottle, X-MS-Location, X-MS-RP) reported
// in the Reply for package transitions to classify.
//
// The client never decides recovery: a 451 is checked and its new URL probed, but
// only adopted when the session calls FollowRedirect; provisioning runs only when
// the session calls Provision after the server asked for it (HTTP 449, or Status
// 141-144). That keeps the limits (3 redirects, one provisioning per session) in
// the transitions table, where the audit log records them.
//
// Protocol versions: 2.5 to 12.1 signal "provision first" with HTTP 449 and 14.0+
// with a Status 142-144 in the body; both reach the session as the Provision event.
// The FolderSync element set is the same in every version (MS-ASCMD 2.2.3.76).
// The base64 query exists from 12.1 on: with an older version the plain form is
// used whatever Options.Base64Query says.
package httpeas

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// Options configure a Client. URL, User, DeviceID and one of Password or Token are
// required.
type Options struct {
	// URL is the ActiveSync endpoint, e.g.
	// https://mail.example.com/Microsoft-Server-ActiveSync. It must be https unless
	// AllowInsecureHTTP is set, and must not carry credentials or a query.
	URL string
	// User is the logon name sent as User= and used for Basic authentication.
	User string
	// Password selects HTTP Basic authentication.
	Password string
	// Token selects Bearer authentication (OAuth): it returns the access token,
	// a fresh one when refresh is true. After a 401 the client asks for a fresh
	// token once and resends (RFC 6750 3.1: invalid_token).
	Token func(ctx context.Context, refresh bool) (string, error)
	// DeviceID identifies this device to the server (MS-ASHTTP 2.2.1.1.1.2.3): the
	// server keeps FolderSync state per device, so keep it stable. Up to 32
	// alphanumeric characters.
	DeviceID string
	// DeviceType is the device family (default "foldersync").
	DeviceType string
	// UserAgent is sent as User-Agent (default "foldersync/1").
	UserAgent string
	// ProtocolVersion pins the protocol version; "" negotiates the highest version
	// both sides speak through OPTIONS (MS-ASHTTP 3.1.5.1). Versions limits what
	// negotiation may pick (default all of ashttp.Versions).
	ProtocolVersion string
	Versions        []string
	// Base64Query sends the base64-encoded query value (MS-ASHTTP 2.2.1.1.1.1)
	// instead of the plain one; servers differ in which they handle well.
	Base64Query bool
	// Locale is the base64 query's locale (default 0x0409, en-US).
	Locale uint16
	// PolicyKey is the key a previous run provisioned; "" for none.
	PolicyKey string
	// AllowInsecureHTTP permits an http:// URL and http:// redirects. Credentials
	// then cross the network in the clear: use it only for a test server on
	// loopback.
	AllowInsecureHTTP bool
	// MaxResponseBytes caps a response body after gzip decoding (default 64 MiB,
	// room for about 600,000 folders). A larger body is reported as unreadable.
	MaxResponseBytes int64
	// ReprobeInterval is how long a negotiated version is trusted before OPTIONS
	// is asked again (default 24 hours); X-MS-RP and MS-ASProtocolVersions headers
	// update it at once.
	ReprobeInterval time.Duration
	// AnchorMailbox, when set, is sent as X-AnchorMailbox on every request (hosted
	// Exchange routes by it); Headers and Cookies are set on every request too.
	AnchorMailbox string
	Headers       http.Header
	Cookies       []*http.Cookie
	// HTTPClient sends the requests (default: a client with its own transport and
	// no overall timeout: the session's per-request timeout bounds each call).
	HTTPClient *http.Client
	// Provisioner runs provisioning when the session asks (default
	// TwoPhaseProvisioner{}).
	Provisioner Provisioner
	// Autodiscover, when set, finds the mailbox's ActiveSync URL when a 451 carries
	// no X-MS-Location: MS-ASHTTP 3.1.5.2.2 then has the client follow "the full
	// Autodiscover command process" (MS-ASCMD 2.2.1.1). The URL it returns is
	// checked as an X-MS-Location would be and reported in Reply.Location with
	// Reply.Autodiscovered; the session follows it like any redirect. Wrap
	// autodiscover.Discover. Without it, such a 451 is refused with a reason that says
	// to run Autodiscover.
	Autodiscover func(ctx context.Context) (string, error)
	// AutodiscoverTimeout bounds one Autodiscover search (default 2 minutes). The
	// search has its own budget: the request's timeout, partly spent on the
	// request, would cut a search of up to four endpoints short. The session's end
	// (cancelled, or its own deadline) stops it all the same.
	AutodiscoverTimeout time.Duration
	// Now is the clock for Retry-After dates and re-probing (default time.Now).
	Now func() time.Time
}

// Client is an MS-ASHTTP transport. It is safe for concurrent use, though a
// session sends one request at a time.
type Client struct {
	opts Options
	http *http.Client

	mu           sync.Mutex
	base         *url.URL
	version      string    // negotiated (or pinned) version, "" before the first probe
	probedAt     time.Time // when version was negotiated
	server       []string  // versions the server announced last
	policyKey    string
	seq          int
	home         string          // the configured URL's host: Options.Cookies go only there
	ownTransport *http.Transport // the transport New made, closed by Close

	tokMu sync.Mutex
	tok   string // the Bearer token in use
}

// DefaultAutodiscoverTimeout is the default budget of one Autodiscover search.
const DefaultAutodiscoverTimeout = 2 * time.Minute

// DefaultMaxResponseBytes is the default cap on a response body.
const DefaultMaxResponseBytes = 64 << 20

// New checks the options and returns a Client. It does no I/O.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.URL)
	switch {
	case opts.URL == "":
		return nil, &ConfigError{Field: "URL", Msg: "required: the ActiveSync endpoint, e.g. https://mail.example.com/Microsoft-Server-ActiveSync"}
	case err != nil:
		return nil, &ConfigError{Field: "URL", Msg: fmt.Sprintf("not a URL: %v", err)}
	case !u.IsAbs() || u.Host == "":
		return nil, &ConfigError{Field: "URL", Msg: "must be absolute, e.g. https://mail.example.com/Microsoft-Server-ActiveSync"}
	case u.User != nil:
		return nil, &ConfigError{Field: "URL", Msg: "must not carry credentials; give Options.User and Password or Token"}
	case u.RawQuery != "":
		return nil, &ConfigError{Field: "URL", Msg: "must not carry a query; the client builds it"}
	case u.Scheme == "http" && !opts.AllowInsecureHTTP:
		return nil, &ConfigError{Field: "URL", Msg: "is plain HTTP, which would send the credentials in the clear; use https, or set AllowInsecureHTTP (--insecure-http) for a test server on loopback"}
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, &ConfigError{Field: "URL", Msg: fmt.Sprintf("scheme %q: use https", u.Scheme)}
	case opts.User == "":
		return nil, &ConfigError{Field: "User", Msg: "required: the logon name"}
	case opts.Password == "" && opts.Token == nil:
		return nil, &ConfigError{Field: "Password", Msg: "give a Password (Basic) or a Token function (Bearer)"}
	case opts.Password != "" && opts.Token != nil:
		return nil, &ConfigError{Field: "Token", Msg: "give a Password or a Token function, not both"}
	case opts.DeviceID == "":
		return nil, &ConfigError{Field: "DeviceID", Msg: "required: a stable id for this device (up to 32 letters and digits); the server keeps FolderSync state per device"}
	case opts.ProtocolVersion != "" && !ashttp.KnownVersion(opts.ProtocolVersion):
		return nil, &ConfigError{Field: "ProtocolVersion", Msg: fmt.Sprintf("%q is not one of %s", opts.ProtocolVersion, strings.Join(ashttp.Versions, ", "))}
	}
	for _, v := range opts.Versions {
		if !ashttp.KnownVersion(v) {
			return nil, &ConfigError{Field: "Versions", Msg: fmt.Sprintf("%q is not one of %s", v, strings.Join(ashttp.Versions, ", "))}
		}
	}
	if opts.DeviceType == "" {
		opts.DeviceType = "foldersync"
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "foldersync/1"
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.ReprobeInterval <= 0 {
		opts.ReprobeInterval = 24 * time.Hour
	}
	if opts.AutodiscoverTimeout <= 0 {
		opts.AutodiscoverTimeout = DefaultAutodiscoverTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Provisioner == nil {
		opts.Provisioner = TwoPhaseProvisioner{}
	}
	// The query is checked once here so a bad DeviceID is a configuration error,
	// not a failed request.
	if _, err := ashttp.EncodePlain(ashttp.Query{Cmd: "FolderSync", User: opts.User, DeviceID: opts.DeviceID, DeviceType: opts.DeviceType}); err != nil {
		return nil, &ConfigError{Field: "DeviceID", Msg: err.Error()}
	}
	hc := opts.HTTPClient
	var own *http.Transport
	if hc == nil {
		own = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			DisableCompression:    true, // the client asks for gzip itself, to cap the decoded size
			ExpectContinueTimeout: time.Second,
		}
		// MS-ASHTTP 2.2.1.1.2.4: from 16.0 (and with OAuth) the client MUST send
		// back the cookies the server sets.
		jar, _ := cookiejar.New(nil)
		hc = &http.Client{Transport: own, Jar: jar}
	}
	// Redirects other than 451 are not followed: a 3xx would resend the body and
	// the credentials somewhere the rules of MS-ASHTTP 3.1.5.2.2 never checked.
	hc2 := *hc
	hc2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u.Fragment = ""
	return &Client{opts: opts, http: &hc2, base: u, policyKey: opts.PolicyKey, home: u.Host, ownTransport: own}, nil
}

// ConfigError reports an Options field that cannot work, and what to give instead.
type ConfigError struct {
	Field, Msg string
}

func (e *ConfigError) Error() string { return "httpeas: Options." + e.Field + " " + e.Msg }

// URL returns the endpoint in use (after any redirect the session followed).
func (c *Client) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.String()
}

// PolicyKey returns the policy key the client sends ("" for none): persist it
// after provisioning.
func (c *Client) PolicyKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.policyKey
}

// ProtocolVersion returns the version in use, "" before the first exchange.
func (c *Client) ProtocolVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.version
}

// ServerInfo is what an OPTIONS probe learned (MS-ASHTTP 2.2.4).
type ServerInfo struct {
	URL      string
	Versions []string
	Commands []string
	// Server is MS-Server-ActiveSync, the server's build.
	Server string
	// Chosen is the version the client will use.
	Chosen string
}

// Probe asks the server's versions and commands with OPTIONS (MS-ASHTTP 2.2.3)
// and negotiates the version. It returns a *NegotiationError when client and
// server share no version, an *HTTPError when the server refuses, and a
// *transport.Error when no answer came. Sessions probe on their own; call it to
// check a configuration before syncing.
func (c *Client) Probe(ctx context.Context) (*ServerInfo, error) {
	info, ex, err := c.probe(ctx)
	switch {
	case err != nil:
		return info, err
	case ex.status != http.StatusOK:
		return nil, &HTTPError{Method: "OPTIONS", URL: info.URL, StatusCode: ex.status}
	}
	if _, nerr := c.negotiate(info.Versions); nerr != nil {
		return info, nerr
	}
	return info, nil
}

// probe asks the URL in use for OPTIONS and, on a 200, adopts what it announced
// and the version negotiated from it; with no common version it falls back to the
// client's best one (the server's answer to the request then decides). Any other
// answer is returned in the exchange, for the caller to report.
func (c *Client) probe(ctx context.Context) (*ServerInfo, *exchange, error) {
	c.mu.Lock()
	base := *c.base
	c.mu.Unlock()
	info, ex, err := c.options(ctx, &base)
	if err != nil || ex.status != http.StatusOK {
		return info, ex, err
	}
	chosen, nerr := c.negotiate(info.Versions)
	if nerr != nil {
		chosen = c.opts.ProtocolVersion
		if chosen == "" {
			allowed := c.opts.Versions
			if len(allowed) == 0 {
				allowed = ashttp.Versions
			}
			chosen = allowed[len(allowed)-1]
		}
	}
	info.Chosen = chosen
	c.mu.Lock()
	c.adopt(&base, info)
	c.mu.Unlock()
	return info, ex, nil
}

// adopt makes u the URL in use, with the versions it announced and
// the version chosen from them. Called with c.mu held.
func (c *Client) adopt(u *url.URL, info *ServerInfo) {
	c.base = u
	c.server = info.Versions
	c.version, c.probedAt = info.Chosen, c.opts.Now()
}

// negotiate picks the version to use from what the server offers.
func (c *Client) negotiate(server []string) (string, error) {
	allowed := c.opts.Versions
	if c.opts.ProtocolVersion != "" {
		allowed = []string{c.opts.ProtocolVersion}
	}
	return ashttp.Negotiate(server, allowed)
}

// HTTPError is a non-2xx answer to a request the client made on its own (OPTIONS).
type HTTPError struct {
	Method, URL string
	StatusCode  int
}

func (e *HTTPError) Error() string {
	hint := ""
	switch e.StatusCode {
	case 401:
		hint = ": check the user name and password (or token)"
	case 403:
		hint = ": the account may not use ActiveSync, or the request carried no credentials"
	case 404:
		hint = ": check the URL; it usually ends in /Microsoft-Server-ActiveSync"
	}
	return fmt.Sprintf("httpeas: %s %s answered HTTP %d%s", e.Method, e.URL, e.StatusCode, hint)
}

// options sends OPTIONS to u. The exchange carries the status and headers of any
// answer (a 401, a 451 or a 503 on OPTIONS is classified as on POST: MS-ASHTTP
// 3.1.5.2.2 and 3.1.5.2.3 give OPTIONS examples); the info is read from a 200.
func (c *Client) options(ctx context.Context, u *url.URL) (*ServerInfo, *exchange, error) {
	resp, err := c.do(ctx, http.MethodOptions, u.String(), nil, nil)
	if err != nil {
		return nil, nil, err
	}
	ex, err := c.read(resp, 64<<10)
	if err != nil {
		return nil, nil, err
	}
	info := &ServerInfo{
		URL:      u.String(),
		Versions: ashttp.ParseVersions(resp.Header.Get(ashttp.HeaderProtocolVersions)),
		Commands: splitList(resp.Header.Get(ashttp.HeaderProtocolCommands)),
		Server:   resp.Header.Get(ashttp.HeaderServerVersion),
	}
	return info, ex, nil
}

func splitList(h string) []string {
	var out []string
	for _, f := range strings.Split(h, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ensureVersion negotiates when no version is known or the last probe is older
// than ReprobeInterval. A server answer other than 200 is returned as a Reply for
// the session to classify (a 401 on OPTIONS is a 401, a 451 a redirect). When the
// server lists no version the client shares, the request goes out with the
// client's best version and the server's answer decides; Probe reports that case
// as an error.
func (c *Client) ensureVersion(ctx context.Context) (*transport.Reply, error) {
	c.mu.Lock()
	fresh := c.version != "" && c.opts.Now().Sub(c.probedAt) < c.opts.ReprobeInterval
	c.mu.Unlock()
	if fresh {
		return nil, nil
	}
	_, ex, err := c.probe(ctx)
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK {
		return c.reply(ctx, ex, true)
	}
	return nil, nil
}

func (c *Client) nextID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	return "httpeas-" + strconv.Itoa(c.seq)
}

// exchange is one POST and its answer, body read and decoded from gzip under the
// cap.
type exchange struct {
	status int
	header http.Header
	body   []byte
	id     string
}

// post sends one command with the policy key given. It negotiates first if
// needed and sets every header. A non-nil Reply means the server answered before
// the command could be sent (an OPTIONS refusal).
func (c *Client) post(ctx context.Context, cmd string, body []byte, key string) (*exchange, *transport.Reply, error) {
	if reply, err := c.ensureVersion(ctx); reply != nil || err != nil {
		return nil, reply, err
	}
	c.mu.Lock()
	version, base := c.version, *c.base
	c.mu.Unlock()
	q := ashttp.Query{Cmd: cmd, User: c.opts.User, DeviceID: c.opts.DeviceID, DeviceType: c.opts.DeviceType,
		Version: version, PolicyKey: key, Locale: c.opts.Locale}
	headers := http.Header{"Content-Type": {ashttp.ContentTypeWBXML}}
	var raw string
	var err error
	if c.opts.Base64Query && ashttp.AtLeast(version, "12.1") {
		raw, err = ashttp.EncodeBase64(q)
	} else {
		raw, err = ashttp.EncodePlain(q)
		headers.Set(ashttp.HeaderProtocolVersion, version)
		if key != "" {
			headers.Set(ashttp.HeaderPolicyKey, key)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("httpeas: %w", err)
	}
	base.RawQuery = raw
	resp, err := c.do(ctx, http.MethodPost, base.String(), headers, body)
	if err != nil {
		return nil, nil, err
	}
	ex, err := c.read(resp, c.opts.MaxResponseBytes)
	if err != nil {
		return nil, nil, err
	}
	c.learn(ex.header)
	return ex, nil, nil
}

// learn updates the known server versions from headers the server sends with any
// response (MS-ASHTTP 2.2.4.1.2.2; X-MS-RP lists them too, 2.2.2.1.2.9).
func (c *Client) learn(h http.Header) {
	list := h.Get(ashttp.HeaderRP)
	if list == "" {
		list = h.Get(ashttp.HeaderProtocolVersions)
	}
	if list == "" {
		return
	}
	versions := ashttp.ParseVersions(list)
	c.mu.Lock()
	defer c.mu.Unlock()
	if equal(versions, c.server) {
		return
	}
	c.server = versions
	if v, err := c.negotiate(versions); err == nil {
		c.version, c.probedAt = v, c.opts.Now()
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// token returns the current Bearer token, asking the source for one if there is
// none yet.
func (c *Client) token(ctx context.Context) (string, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.tok != "" {
		return c.tok, nil
	}
	t, err := c.opts.Token(ctx, false)
	if err != nil {
		return "", &AuthError{Err: err}
	}
	c.tok = t
	return t, nil
}

// refreshToken asks the source for a fresh token after a 401.
func (c *Client) refreshToken(ctx context.Context) error {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	t, err := c.opts.Token(ctx, true)
	if err != nil {
		return &AuthError{Err: err}
	}
	c.tok = t
	return nil
}

// AuthError reports that the token source failed. It wraps the source's error,
// which must not contain the token.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return "httpeas: the token source failed: " + e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// do sends one HTTP request with the client's headers and credentials. With
// Bearer authentication a 401 gets one fresh token and one resend (RFC 6750 3.1,
// invalid_token), for OPTIONS as for POST. Network failures come back as
// *transport.Error (ErrTimeout or ErrConnection); failures a resend cannot fix
// (an untrusted certificate, an unknown host, the token source) as other errors.
func (c *Client) do(ctx context.Context, method, target string, headers http.Header, body []byte) (*http.Response, error) {
	for refreshed := false; ; refreshed = true {
		resp, err := c.send(ctx, method, target, headers, body)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || c.opts.Token == nil || refreshed {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := c.refreshToken(ctx); err != nil {
			return nil, err
		}
	}
}

func (c *Client) send(ctx context.Context, method, target string, headers http.Header, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("httpeas: %w", err)
	}
	for k, vs := range c.opts.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	for k, vs := range headers {
		req.Header[k] = vs
	}
	if strings.EqualFold(req.URL.Host, c.home) {
		// The caller's cookies are for the host it configured, not for wherever a
		// 451 leads; cookies a server sets travel through the jar, per host.
		for _, ck := range c.opts.Cookies {
			req.AddCookie(ck)
		}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept-Encoding", "gzip")
	if c.opts.AnchorMailbox != "" {
		req.Header.Set("X-AnchorMailbox", c.opts.AnchorMailbox)
	}
	if c.opts.Token != nil {
		t, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+t)
	} else {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(c.opts.User+":"+c.opts.Password)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.netError(ctx, err)
	}
	return resp, nil
}

// netError classifies a failed request: the caller's deadline or a net timeout is
// ErrTimeout; a certificate the client does not trust or a host name that does not
// exist is permanent (a plain error: the session fails and says so); anything else
// is ErrConnection. The cause keeps net/http's message, which names the URL (never
// the credentials: they travel in a header).
func (c *Client) netError(ctx context.Context, err error) error {
	var ne net.Error
	var dns *net.DNSError
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded || errors.As(err, &ne) && ne.Timeout():
		return &transport.Error{Err: transport.ErrTimeout, Cause: err}
	case errors.Is(err, context.Canceled):
		return err
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		return fmt.Errorf("httpeas: the server's TLS certificate is not trusted (install its CA, or check the host name in the URL): %w", err)
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Errorf("httpeas: the host does not exist (check the URL): %w", err)
	}
	return &transport.Error{Err: transport.ErrConnection, Cause: err}
}

// TooLargeError reports a response body over Options.MaxResponseBytes.
type TooLargeError struct {
	Limit int64
	Gzip  bool
}

func (e *TooLargeError) Error() string {
	what := "the response body"
	if e.Gzip {
		what = "the gzip-decoded response body"
	}
	return fmt.Sprintf("httpeas: %s is larger than %d bytes (Options.MaxResponseBytes); raise the cap if the hierarchy is really that large", what, e.Limit)
}

// read reads the body under limit, decoding gzip. For a 200, a body cut short by
// the connection is ErrConnection, one over the cap or with broken gzip
// ErrUnreadable; for any other status the body is best effort: the status and
// headers are the answer (a 503's Retry-After must not be lost to a broken body).
func (c *Client) read(resp *http.Response, limit int64) (*exchange, error) {
	defer resp.Body.Close()
	ex := &exchange{status: resp.StatusCode, header: resp.Header, id: resp.Header.Get("request-id")}
	if ex.id == "" {
		ex.id = resp.Header.Get("X-Request-Id")
	}
	if ex.id == "" {
		ex.id = c.nextID()
	}
	body, err := readBody(resp, limit)
	if err != nil && resp.StatusCode == http.StatusOK {
		return nil, err
	}
	ex.body = body
	return ex, nil
}

func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: resp.StatusCode, Cause: &TooLargeError{Limit: limit}}
	}
	var r io.Reader = resp.Body
	gz := strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip")
	if gz {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			if errors.Is(err, io.EOF) && resp.ContentLength == 0 {
				return nil, nil
			}
			return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: resp.StatusCode, Cause: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		r = zr
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 && !gz {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		if gz && !isConnErr(err) {
			return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: resp.StatusCode, Cause: fmt.Errorf("gzip: %w", err)}
		}
		return nil, &transport.Error{Err: transport.ErrConnection, HTTPStatus: resp.StatusCode, Cause: fmt.Errorf("reading the body after %d bytes: %w", n, err)}
	}
	if n > limit {
		return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: resp.StatusCode, Cause: &TooLargeError{Limit: limit, Gzip: gz}}
	}
	return buf.Bytes(), nil
}

// isConnErr tells a connection that broke mid-body from a gzip stream that is
// itself corrupt.
func isConnErr(err error) bool {
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, gzip.ErrChecksum) || errors.As(err, &ne)
}

// FolderSync implements [transport.Transport]: one FolderSync POST. Any answer
// from the server is a Reply (the body decoded on a 200); no usable answer is a
// *transport.Error.
func (c *Client) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	if req == nil {
		return nil, errors.New("httpeas: nil FolderSyncRequest")
	}
	body, err := req.MarshalWBXML()
	if err != nil {
		return nil, fmt.Errorf("httpeas: encode FolderSync: %w", err)
	}
	ex, early, err := c.post(ctx, "FolderSync", body, c.PolicyKey())
	if early != nil || err != nil {
		return early, err
	}
	reply, err := c.reply(ctx, ex, true)
	if err != nil || ex.status < 200 || ex.status > 299 {
		return reply, err
	}
	if err := checkWBXML(ex); err != nil {
		return nil, err
	}
	resp, err := transport.UnmarshalFolderSyncResponse(ex.body)
	if err != nil {
		return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.status, Cause: err}
	}
	reply.Response = resp
	return reply, nil
}

// checkWBXML refuses a 200 whose body is empty or not WBXML (an HTML login page
// from a proxy, say) before the decoder sees it, with a clear cause.
func checkWBXML(ex *exchange) error {
	ct := ex.header.Get("Content-Type")
	switch {
	case len(ex.body) == 0:
		return &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.status, Cause: fmt.Errorf("HTTP %d with an empty body", ex.status)}
	case ct != "" && !strings.HasPrefix(strings.ToLower(ct), ashttp.ContentTypeWBXML):
		return &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.status,
			Cause: fmt.Errorf("HTTP %d with Content-Type %q, not %s (a proxy or login page answered?)", ex.status, ct, ashttp.ContentTypeWBXML)}
	}
	return nil
}

// reply builds the Reply of an answer: the recovery headers, and for a 451
// whether X-MS-Location passes the redirect rule (ashttp.CheckRedirect). The new URL
// is contacted only when the session decides to follow it; the only I/O here is
// Options.Autodiscover, for a 451 without X-MS-Location when discover is set. The
// error is the session's context, when it ended during Autodiscover.
func (c *Client) reply(ctx context.Context, ex *exchange, discover bool) (*transport.Reply, error) {
	r := &transport.Reply{HTTPStatus: ex.status, RequestID: ex.id, Throttle: ex.header.Get(ashttp.HeaderThrottle)}
	if d, ok, err := ashttp.ParseRetryAfter(ex.header.Get(ashttp.HeaderRetryAfter), c.opts.Now()); err == nil && ok {
		r.RetryAfter, r.HasRetryAfter = d, true
	}
	if ex.status == 457 {
		r.CredentialServiceURL = ex.header.Get("X-MS-Credential-Service-Url")
	}
	// MS-ASHTTP 3.1.5.1: X-MS-RP asks the client to reinitialize its sync state.
	_, r.ResetRequested = ex.header[http.CanonicalHeaderKey(ashttp.HeaderRP)]
	if ex.status == 451 {
		r.Location = ex.header.Get(ashttp.HeaderLocation)
		refusal := ""
		if strings.TrimSpace(r.Location) == "" && c.opts.Autodiscover != nil && discover {
			// MS-ASHTTP 3.1.5.2.2: "If the server does not provide an X-MS-Location
			// header in its response to the client, then the full Autodiscover
			// command process is followed".
			loc, err := c.autodiscover(ctx)
			if err != nil && sessionEnded(ctx) {
				return nil, ctx.Err()
			}
			if err != nil {
				r.RedirectRefusal = "the 451 has no X-MS-Location, and Autodiscover found no server: " + err.Error()
				return r, nil
			}
			if strings.TrimSpace(loc) == "" {
				r.RedirectRefusal = "the 451 has no X-MS-Location, and Autodiscover returned no URL"
				return r, nil
			}
			r.Location, r.Autodiscovered, refusal = loc, true, "Autodiscover: "
		}
		if _, err := ashttp.CheckRedirect(c.URL(), r.Location, c.opts.AllowInsecureHTTP); err != nil {
			r.RedirectRefusal = refusal + err.Error()
		} else {
			r.RedirectOK = true
		}
	}
	return r, nil
}

// autodiscover runs Options.Autodiscover under its own budget
// (AutodiscoverTimeout) rather than the request's, stopped early only when the
// session's context ends.
func (c *Client) autodiscover(ctx context.Context) (string, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.AutodiscoverTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if sessionEnded(ctx) {
			cancel()
		}
	})
	defer stop()
	return c.opts.Autodiscover(actx)
}

// sessionEnded reports whether ctx ended for another reason than the request's own
// timeout (transport.ErrRequestDeadline): the session was cancelled or ran out of
// time.
func sessionEnded(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), transport.ErrRequestDeadline)
}

// FollowRedirect implements [transport.Redirector]: check location again, ask it
// for OPTIONS, and adopt it if it answers as an ActiveSync endpoint sharing a
// version with the client. A refusal there (a 401, a 404) is returned as a Reply;
// no answer as a *transport.Error; a location that breaks the redirect rule, or
// offers no common version, as an error the session fails with.
func (c *Client) FollowRedirect(ctx context.Context, location string) (*transport.Reply, error) {
	u, err := ashttp.CheckRedirect(c.URL(), location, c.opts.AllowInsecureHTTP)
	if err != nil {
		return nil, err
	}
	info, ex, err := c.options(ctx, u)
	if err != nil {
		return nil, err
	}
	if ex.status != http.StatusOK {
		// A redirect target's own 451 is not searched for again: one Autodiscover
		// per 451 the session met is enough.
		return c.reply(ctx, ex, false)
	}
	if info.Chosen, err = c.negotiate(info.Versions); err != nil {
		return nil, fmt.Errorf("httpeas: the redirect target %s: %w", u, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.adopt(u, info)
	return nil, nil
}

// Close releases the idle connections of the client's own HTTP transport (not
// those of an Options.HTTPClient, which the caller owns).
func (c *Client) Close() {
	if c.ownTransport != nil {
		c.ownTransport.CloseIdleConnections()
	}
}

var (
	_ transport.Transport   = (*Client)(nil)
	_ transport.Redirector  = (*Client)(nil)
	_ transport.Provisioner = (*Client)(nil)
)
