package autodiscover

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxRedirects     = 10               // Options.MaxRedirects
	DefaultMaxResponseBytes = 1 << 20          // Options.MaxResponseBytes, and ParseResponse's limit
	DefaultTimeout          = 30 * time.Second // of the default HTTPClient, per request
	DefaultUserAgent        = "foldersync/1"   // Options.UserAgent
)

// Options configure Discover. Email is required.
type Options struct {
	// Email is the mailbox's SMTP address: the search starts from its domain and
	// it is sent as EMailAddress (MS-ASCMD 2.2.3.59).
	Email string
	// User is the logon name for Basic authentication (default: Email).
	User string
	// Password selects HTTP Basic authentication. With neither Password nor
	// Token the requests carry no credentials.
	Password string
	// Token selects Bearer authentication (OAuth) instead of Basic: it is called
	// once, before the first request that carries credentials, and returns the
	// access token. Its error must not contain the token.
	Token func(ctx context.Context) (string, error)
	// HTTPClient sends the requests (default: a client with a 30 s timeout). A
	// copy is used whose CheckRedirect is replaced: Discover follows redirects
	// itself, to https URLs only. For step 3, the plain-HTTP GET, its cookie jar
	// is not used.
	HTTPClient *http.Client
	// LookupSRV resolves the SRV record of step 4 (default
	// net.DefaultResolver.LookupSRV).
	LookupSRV func(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	// Endpoints, when set, are the only URLs tried, POSTed to in order: a known
	// Autodiscover URL, or a test server. Steps 1 to 4 are skipped; a Redirect
	// sends the new address to the same Endpoints.
	Endpoints []string
	// AllowInsecureHTTP permits http:// Endpoints, redirects to http:// and an
	// http:// MobileSync URL. The credentials then cross the network in the
	// clear: use it only for a test server on loopback. Without it such URLs are
	// refused with ErrInsecure. It applies only with Endpoints: the search derived
	// from the address never follows or uses plain HTTP.
	AllowInsecureHTTP bool
	// MaxRedirects caps the redirects of one search, Action/Redirect and HTTP
	// 3xx counted together (default, and for 0 or less, 10).
	MaxRedirects int
	// MaxResponseBytes caps a response body (default, and for 0 or less, 1 MiB).
	// A larger body fails that candidate.
	MaxResponseBytes int64
	// UserAgent is sent as User-Agent (default "foldersync/1").
	UserAgent string
	// ConfirmRedirect, when set, is asked before the credentials follow step 3's
	// redirect: the https URL that an unauthenticated plain-HTTP answer named, which
	// anyone on the network path could have forged. MS-OXDISCO 3.1.5.4 suggests
	// asking the user; return false to refuse (the search goes on with step 4).
	// Without it the redirect is followed.
	ConfirmRedirect func(ctx context.Context, from, to string) bool
}

// Result is what Discover found.
type Result struct {
	// URL is the Url of the first Server of Type MobileSync: the ActiveSync
	// endpoint, e.g. https://mail.example.com/Microsoft-Server-ActiveSync.
	URL string
	// ServerName is that Server's Name (MS-ASCMD 2.2.3.120.1), often "".
	ServerName string
	// DisplayName is User/DisplayName from the response. Email is the address
	// finally sent, after any Action/Redirect.
	DisplayName, Email string
	// Culture is Response/Culture, e.g. "en:us".
	Culture string
	// Response is the whole Autodiscover response that gave the settings
	// (other Servers, such as CertEnroll, included).
	Response *Response
	// Attempts are every candidate tried, in order: the audit trail.
	Attempts []Attempt
}

// Attempt is one request (or the SRV lookup) of the search.
type Attempt struct {
	// Method is POST, GET (step 3) or SRV (step 4, where URL is the record's
	// name, e.g. _autodiscover._tcp.example.com).
	Method, URL string
	// HTTPStatus is the answer's status code, 0 when no answer came.
	HTTPStatus int
	// Outcome says what came of it: "settings", "redirect to b@example.org",
	// "redirect to https://…", "http 404", "connection failed: …",
	// "not an Autodiscover response: …", "server error 2: …", …
	Outcome string
}

// Discover searches for the ActiveSync URL of opts.Email (see the package
// documentation for the order of the candidates) and returns it with the audit
// trail of the search.
//
// When the search fails, the Result, if not nil, still holds the Attempts; the
// error is a *ConfigError (before any request), the context's error, an
// *AccountError (HTTP 456 or 457: stop and tell the user), ErrTooManyRedirects,
// ErrRedirectLoop, or, when no candidate gave settings, an error wrapping one of
// *ServerError, *ResponseError, ErrAuth, ErrInsecure and ErrNotFound (see
// ErrNotFound for which).
//
// The credentials are sent over https only, and never appear in an error or an
// Attempt: secrets of 4 characters or more that a server echoes are replaced
// with "[redacted]".
func Discover(ctx context.Context, opts Options) (*Result, error) {
	d, err := newDiscoverer(opts)
	if err != nil {
		return nil, err
	}
	return d.run(ctx)
}

// Failure ranks: when no candidate gives settings, the best-ranked failure is
// the reason reported (the first of equal ranks).
const (
	rankNone     = iota
	rankInsecure // a redirect to plain HTTP was refused
	rankAuth     // HTTP 401
	rankAnswer   // an Autodiscover server answered: an error, or unusable settings
)

type failure struct {
	rank int
	why  string
	err  error
}

type discoverer struct {
	opts     Options
	hc       *http.Client // redirects not followed
	anon     *http.Client // the same, without cookie jar: for the plain-HTTP GET
	auth     string       // the Authorization header, once known
	secrets  []string
	attempts []Attempt

	redirects int
	best      failure
	tried     map[string]bool // URLs POSTed to in this round
}

func newDiscoverer(opts Options) (*discoverer, error) {
	if why := checkAddress(opts.Email); why != "" {
		return nil, &ConfigError{Field: "Email", Msg: fmt.Sprintf("%q %s", clip(opts.Email, 80), why)}
	}
	for i, e := range opts.Endpoints {
		u, err := url.Parse(e)
		field := fmt.Sprintf("Endpoints[%d]", i)
		switch {
		case err != nil:
			return nil, &ConfigError{Field: field, Msg: "is not a URL"}
		case u.User != nil:
			return nil, &ConfigError{Field: field, Msg: "must not carry credentials; give Options.User and Password or Token"}
		case !u.IsAbs() || u.Host == "":
			return nil, &ConfigError{Field: field, Msg: fmt.Sprintf("%q must be an absolute URL", e)}
		case u.Scheme == "http" && !opts.AllowInsecureHTTP:
			return nil, &ConfigError{Field: field, Msg: fmt.Sprintf("%q is plain HTTP, which would send the credentials in the clear; use https, or set AllowInsecureHTTP for a test server on loopback", e), Err: ErrInsecure}
		case u.Scheme != "https" && u.Scheme != "http":
			return nil, &ConfigError{Field: field, Msg: fmt.Sprintf("%q: scheme %q, use https", e, u.Scheme)}
		}
	}
	if opts.User == "" {
		opts.User = opts.Email
	}
	if len(opts.Endpoints) == 0 {
		// The derived search never takes plain HTTP: its candidates come from DNS and
		// from an unauthenticated plain-HTTP answer (step 3), which anyone on the path
		// can forge; AllowInsecureHTTP is for Endpoints the caller chose.
		opts.AllowInsecureHTTP = false
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.LookupSRV == nil {
		opts.LookupSRV = net.DefaultResolver.LookupSRV
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	anon := own
	anon.Jar = nil
	d := &discoverer{opts: opts, hc: &own, anon: &anon}
	if opts.Token == nil && opts.Password != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(opts.User + ":" + opts.Password))
		d.auth = "Basic " + basic
		d.secrets = append(d.secrets, opts.Password, basic)
	}
	return d, nil
}

func (d *discoverer) run(ctx context.Context) (*Result, error) {
	email := d.opts.Email
	seen := map[string]bool{strings.ToLower(email): true}
	for {
		res, next, err := d.round(ctx, email)
		switch {
		case err != nil:
			return d.partial(), err
		case res != nil:
			return res, nil
		case next == "":
			return d.partial(), d.failed(email)
		}
		if seen[strings.ToLower(next)] {
			return d.partial(), fmt.Errorf("%w: %s is redirected to %s, which was already tried", ErrRedirectLoop, d.redact(email), d.redact(next))
		}
		seen[strings.ToLower(next)] = true
		if err := d.redirected("to " + next); err != nil {
			return d.partial(), err
		}
		email = next
		d.best = failure{} // the new address's candidates decide
	}
}

// round tries the candidates for one address, in order, until one gives
// settings (res) or an address redirect (next). Neither, with no error, means
// every candidate failed.
func (d *discoverer) round(ctx context.Context, email string) (res *Result, next string, err error) {
	d.tried = map[string]bool{}
	body := MarshalRequest(email)
	try := func(u string) (bool, error) {
		res, next, err = d.post(ctx, u, email, body)
		return err != nil || res != nil || next != "", err
	}
	if len(d.opts.Endpoints) > 0 {
		for _, u := range d.opts.Endpoints {
			if done, _ := try(u); done {
				return res, next, err
			}
		}
		return nil, "", nil
	}
	domain := domainOf(email)
	// MS-OXDISCO 3.1.5.2: the domain, then the autodiscover host of the domain.
	for _, u := range []string{
		"https://" + domain + "/autodiscover/autodiscover.xml",
		"https://autodiscover." + domain + "/autodiscover/autodiscover.xml",
	} {
		if done, _ := try(u); done {
			return res, next, err
		}
	}
	// MS-OXDISCO 3.1.5.4: a redirect from plain HTTP, without credentials.
	loc, err := d.probeRedirect(ctx, "http://autodiscover."+domain+"/autodiscover/autodiscover.xml")
	if err != nil {
		return nil, "", err
	}
	if loc != "" {
		if done, _ := try(loc); done {
			return res, next, err
		}
	}
	// MS-OXDISCO 3.1.5.3: the SRV record.
	u, err := d.srv(ctx, domain)
	if err != nil {
		return nil, "", err
	}
	if u != "" {
		if done, _ := try(u); done {
			return res, next, err
		}
	}
	return nil, "", nil
}

// post sends the Autodiscover request to target, following HTTP redirects to
// https URLs, and interprets the answer. A failed candidate gives all zero
// values; err is for what ends the search.
func (d *discoverer) post(ctx context.Context, target, email string, body []byte) (*Result, string, error) {
	for {
		if d.tried[target] {
			return nil, "", nil // already tried in this round: same answer
		}
		d.tried[target] = true
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			d.record(http.MethodPost, target, 0, "not a usable URL: "+err.Error())
			return nil, "", nil
		}
		// MS-ASCMD 2.2.1.1: the Content-Type MUST be text/xml.
		req.Header.Set("Content-Type", "text/xml")
		req.Header.Set("User-Agent", d.opts.UserAgent)
		auth, err := d.authorization(ctx)
		if err != nil {
			return nil, "", err
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := d.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				d.record(http.MethodPost, target, 0, "canceled")
				return nil, "", fmt.Errorf("autodiscover: %w", ctx.Err())
			}
			d.record(http.MethodPost, target, 0, "connection failed: "+netMessage(err))
			return nil, "", nil
		}
		status := resp.StatusCode
		switch {
		case isRedirect(status):
			discard(resp)
			loc, f := d.location(resp, target)
			if f != nil {
				d.record(http.MethodPost, target, status, f.why)
				d.fail(*f)
				return nil, "", nil
			}
			if d.tried[loc] {
				d.record(http.MethodPost, target, status, "redirect to "+loc+", already tried: not followed")
				return nil, "", nil
			}
			d.record(http.MethodPost, target, status, "redirect to "+loc)
			if err := d.redirected("from " + target + " to " + loc); err != nil {
				return nil, "", err
			}
			target = loc
			continue
		case status == http.StatusUnauthorized:
			discard(resp)
			d.record(http.MethodPost, target, status, "http 401 (authentication failed)")
			d.fail(failure{rank: rankAuth, why: fmt.Sprintf("HTTP 401 from %s: check the user name and password (or token)", d.redact(target)), err: ErrAuth})
			return nil, "", nil
		case status == 456 || status == 457:
			// MS-ASHTTP 3.1.5.2.4: stop, and tell the user.
			discard(resp)
			what := "account blocked"
			if status == 457 {
				what = "password expired"
			}
			d.record(http.MethodPost, target, status, fmt.Sprintf("http %d (%s): search stopped", status, what))
			return nil, "", &AccountError{URL: d.redact(target), StatusCode: status, CredentialServiceURL: d.redact(resp.Header.Get("X-MS-Credential-Service-Url"))}
		case status != http.StatusOK:
			discard(resp)
			d.record(http.MethodPost, target, status, "http "+strconv.Itoa(status))
			return nil, "", nil
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, d.opts.MaxResponseBytes+1))
		resp.Body.Close()
		switch {
		case err != nil && ctx.Err() != nil:
			d.record(http.MethodPost, target, status, "canceled")
			return nil, "", fmt.Errorf("autodiscover: %w", ctx.Err())
		case err != nil:
			d.record(http.MethodPost, target, status, "connection failed: reading the response: "+netMessage(err))
			return nil, "", nil
		case int64(len(data)) > d.opts.MaxResponseBytes:
			d.record(http.MethodPost, target, status, fmt.Sprintf("response larger than %d bytes", d.opts.MaxResponseBytes))
			return nil, "", nil
		}
		r, err := parseResponse(data, d.opts.MaxResponseBytes)
		if err != nil {
			var se *SyntaxError
			msg := err.Error()
			if errors.As(err, &se) {
				msg = fmt.Sprintf("%s (at byte %d)", se.Msg, se.Offset)
			}
			d.record(http.MethodPost, target, status, "not an Autodiscover response: "+msg)
			return nil, "", nil
		}
		res, next := d.interpret(r, target, email, status)
		return res, next, nil
	}
}

// interpret turns a parsed response into settings, an address redirect, or a
// recorded failure.
func (d *discoverer) interpret(r *Response, target, email string, status int) (*Result, string) {
	switch {
	case r.Error != nil:
		se := *r.Error
		se.URL, se.Message, se.DebugData = d.redact(target), d.redact(se.Message), d.redact(se.DebugData)
		d.record(http.MethodPost, target, status, fmt.Sprintf("server error %d: %s", se.Code, clip(se.Message, 200)))
		d.fail(failure{rank: rankAnswer, why: strings.TrimPrefix(se.Error(), "autodiscover: "), err: &se})
		return nil, ""
	case r.Redirect != "":
		// MS-ASCMD 2.2.3.147: restart with the domain of this address.
		if why := checkAddress(r.Redirect); why != "" {
			re := &ResponseError{URL: d.redact(target), Reason: fmt.Sprintf("a Redirect to %q, which %s", clip(d.redact(r.Redirect), 80), why)}
			d.record(http.MethodPost, target, status, "invalid redirect: "+re.Reason)
			d.fail(failure{rank: rankAnswer, why: strings.TrimPrefix(re.Error(), "autodiscover: "), err: re})
			return nil, ""
		}
		d.record(http.MethodPost, target, status, "redirect to "+d.redact(r.Redirect))
		return nil, r.Redirect
	}
	s := r.MobileSync()
	reason, insecure := "", false
	if s == nil {
		reason = "the Settings have no Server of Type MobileSync"
	} else {
		reason, insecure = d.checkURL(s.URL, "the MobileSync Url")
	}
	if reason != "" {
		re := &ResponseError{URL: d.redact(target), Reason: reason}
		if insecure {
			re.Err = ErrInsecure
		}
		d.record(http.MethodPost, target, status, "unusable settings: "+reason)
		d.fail(failure{rank: rankAnswer, why: strings.TrimPrefix(re.Error(), "autodiscover: "), err: re})
		return nil, ""
	}
	d.record(http.MethodPost, target, status, "settings")
	res := d.partial()
	res.URL, res.ServerName = s.URL, s.Name
	res.DisplayName, res.Email, res.Culture = r.DisplayName, email, r.Culture
	res.Response = r
	return res, ""
}

// checkURL says why raw cannot be requested (with credentials), or "";
// insecure marks a plain-HTTP URL refused.
func (d *discoverer) checkURL(raw, what string) (reason string, insecure bool) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return what + " is empty", false
	case err != nil:
		return fmt.Sprintf("%s %q is not a URL", what, clip(d.redact(raw), 120)), false
	case u.User != nil:
		return what + " carries credentials", false
	case !u.IsAbs() || u.Host == "":
		return fmt.Sprintf("%s %q is not an absolute URL", what, clip(d.redact(raw), 120)), false
	case u.Scheme == "http" && !d.opts.AllowInsecureHTTP:
		return fmt.Sprintf("%s %s is plain HTTP, not https (set AllowInsecureHTTP only for a test server on loopback)", what, clip(d.redact(raw), 120)), true
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("%s %q is not https", what, clip(d.redact(raw), 120)), false
	}
	return "", false
}

// location resolves a redirect's Location against the request's URL and checks
// it: https only (unless AllowInsecureHTTP), no credentials in it.
func (d *discoverer) location(resp *http.Response, from string) (string, *failure) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", &failure{why: fmt.Sprintf("http %d without a Location", resp.StatusCode)}
	}
	base, _ := url.Parse(from)
	u, err := base.Parse(loc)
	if err != nil {
		return "", &failure{why: fmt.Sprintf("http %d with an unusable Location %q", resp.StatusCode, clip(d.redact(loc), 120))}
	}
	u.Fragment, u.RawFragment = "", ""
	if reason, insecure := d.checkURL(u.String(), "the redirect's Location"); reason != "" {
		f := &failure{why: "refused redirect: " + reason}
		if insecure {
			f.rank = rankInsecure
			f.err = fmt.Errorf("%w: %s redirects to %s; use https, or set AllowInsecureHTTP for a test server on loopback", ErrInsecure, d.redact(from), d.redact(u.Redacted()))
			f.why = fmt.Sprintf("%s redirects to plain HTTP (%s), refused: use https, or set AllowInsecureHTTP for a test server on loopback", d.redact(from), d.redact(u.Redacted()))
		}
		return "", f
	}
	return u.String(), nil
}

// probeRedirect is step 3 (MS-OXDISCO 3.1.5.4): a GET over plain HTTP, with no
// credentials, whose only useful answer is a redirect to an https URL.
func (d *discoverer) probeRedirect(ctx context.Context, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		d.record(http.MethodGet, target, 0, "not a usable URL: "+err.Error())
		return "", nil
	}
	req.Header.Set("User-Agent", d.opts.UserAgent)
	resp, err := d.anon.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			d.record(http.MethodGet, target, 0, "canceled")
			return "", fmt.Errorf("autodiscover: %w", ctx.Err())
		}
		d.record(http.MethodGet, target, 0, "connection failed: "+netMessage(err))
		return "", nil
	}
	discard(resp)
	if !isRedirect(resp.StatusCode) {
		d.record(http.MethodGet, target, resp.StatusCode, fmt.Sprintf("http %d, not a redirect", resp.StatusCode))
		return "", nil
	}
	loc, f := d.location(resp, target)
	if f != nil {
		d.record(http.MethodGet, target, resp.StatusCode, f.why)
		d.fail(*f)
		return "", nil
	}
	if d.tried[loc] {
		d.record(http.MethodGet, target, resp.StatusCode, "redirect to "+loc+", already tried: not followed")
		return "", nil
	}
	if d.opts.ConfirmRedirect != nil && !d.opts.ConfirmRedirect(ctx, target, loc) {
		d.record(http.MethodGet, target, resp.StatusCode, "redirect to "+loc+", not confirmed: not followed")
		return "", nil
	}
	d.record(http.MethodGet, target, resp.StatusCode, "redirect to "+loc)
	if err := d.redirected("from " + target + " to " + loc); err != nil {
		return "", err
	}
	return loc, nil
}

// srv is step 4 (MS-OXDISCO 3.1.5.3): the Autodiscover URL of the best SRV
// record of _autodiscover._tcp.domain, or "".
func (d *discoverer) srv(ctx context.Context, domain string) (string, error) {
	name := "_autodiscover._tcp." + domain
	_, addrs, err := d.opts.LookupSRV(ctx, "autodiscover", "tcp", domain)
	if err != nil {
		if ctx.Err() != nil {
			d.record("SRV", name, 0, "canceled")
			return "", fmt.Errorf("autodiscover: %w", ctx.Err())
		}
		d.record("SRV", name, 0, "lookup failed: "+clip(err.Error(), 200))
		return "", nil
	}
	var best *net.SRV
	for _, a := range addrs {
		if a == nil || a.Port == 0 || strings.TrimSuffix(a.Target, ".") == "" {
			continue // RFC 2782: a target of "." means no service here
		}
		if checkAddress("x@"+strings.TrimSuffix(a.Target, ".")) != "" {
			continue
		}
		if best == nil || a.Priority < best.Priority || a.Priority == best.Priority && a.Weight > best.Weight {
			best = a
		}
	}
	if best == nil {
		d.record("SRV", name, 0, fmt.Sprintf("no usable record (%d found)", len(addrs)))
		return "", nil
	}
	target := strings.ToLower(strings.TrimSuffix(best.Target, "."))
	host := target
	if best.Port != 443 {
		host = net.JoinHostPort(target, strconv.Itoa(int(best.Port)))
	}
	u := "https://" + host + "/autodiscover/autodiscover.xml"
	if d.tried[u] {
		d.record("SRV", name, 0, fmt.Sprintf("record %s port %d, whose URL was already tried", target, best.Port))
		return "", nil
	}
	d.record("SRV", name, 0, fmt.Sprintf("record %s port %d", target, best.Port))
	return u, nil
}

// authorization returns the Authorization header, asking Options.Token the
// first time.
func (d *discoverer) authorization(ctx context.Context) (string, error) {
	if d.auth != "" || d.opts.Token == nil {
		return d.auth, nil
	}
	tok, err := d.opts.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: the token source failed: %w", ErrAuth, err)
	}
	if tok == "" {
		return "", fmt.Errorf("%w: the token source returned an empty token", ErrAuth)
	}
	d.auth = "Bearer " + tok
	d.secrets = append(d.secrets, tok)
	return d.auth, nil
}

// redirected counts a redirect against MaxRedirects.
func (d *discoverer) redirected(what string) error {
	d.redirects++
	if d.redirects > d.opts.MaxRedirects {
		return fmt.Errorf("%w: more than %d (the last %s)", ErrTooManyRedirects, d.opts.MaxRedirects, d.redact(what))
	}
	return nil
}

func (d *discoverer) record(method, target string, status int, outcome string) {
	d.attempts = append(d.attempts, Attempt{Method: method, URL: d.redact(target), HTTPStatus: status, Outcome: d.redact(outcome)})
}

// fail keeps f if it outranks the failures so far.
func (d *discoverer) fail(f failure) {
	if f.err != nil && (d.best.err == nil || f.rank > d.best.rank) {
		d.best = f
	}
}

// failed is the error for a round in which no candidate gave settings.
func (d *discoverer) failed(email string) error {
	if d.best.err == nil {
		return &discoverError{email: email, why: "no candidate answered with Autodiscover settings", err: ErrNotFound, attempts: d.attempts}
	}
	return &discoverError{email: email, why: d.redact(d.best.why), err: d.best.err, attempts: d.attempts}
}

// partial is a Result with the attempts only.
func (d *discoverer) partial() *Result {
	return &Result{Attempts: append([]Attempt(nil), d.attempts...)}
}

// redact hides the credentials in text a server may have echoed back. Secrets
// shorter than 4 characters are left alone: they would match ordinary text.
func (d *discoverer) redact(s string) string {
	for _, sec := range d.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// discard reads a little of an unwanted body, so the connection can be reused,
// and closes it.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// netMessage is the cause of a failed request without net/http's repetition of
// the method and URL, which the Attempt already has.
func netMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return clip(err.Error(), 300)
}
