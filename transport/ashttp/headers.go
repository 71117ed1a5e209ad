package ashttp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Header names (MS-ASHTTP 2.2.1.1.2 request headers, 2.2.2.2 and 2.2.4.1.2
// response headers).
const (
	HeaderProtocolVersion  = "MS-ASProtocolVersion"
	HeaderPolicyKey        = "X-MS-PolicyKey"
	HeaderProtocolVersions = "MS-ASProtocolVersions"
	HeaderProtocolCommands = "MS-ASProtocolCommands"
	HeaderServerVersion    = "MS-Server-ActiveSync"
	HeaderLocation         = "X-MS-Location"
	HeaderRP               = "X-MS-RP"
	HeaderThrottle         = "X-MS-ASThrottle"
	HeaderRetryAfter       = "Retry-After"
	ContentTypeWBXML       = "application/vnd.ms-sync.wbxml"
)

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date (RFC 9110
// 10.2.3), the date measured against now. A date in the past is a wait of 0. It
// returns ok=false for an empty value, and an error naming the value for anything
// else it cannot read (a negative number, a malformed date).
func ParseRetryAfter(value string, now time.Time) (d time.Duration, ok bool, err error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return 0, false, nil
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil {
			return 0, false, fmt.Errorf("ashttp: Retry-After %q: not a number of seconds (RFC 9110 10.2.3)", value)
		}
		const maxSeconds = uint64(1<<63-1) / uint64(time.Second)
		if n > maxSeconds {
			n = maxSeconds
		}
		return time.Duration(n) * time.Second, true, nil
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false, fmt.Errorf("ashttp: Retry-After %q: neither seconds nor an HTTP-date (RFC 9110 10.2.3)", value)
	}
	if d := t.Sub(now); d > 0 {
		return d.Round(time.Second), true, nil
	}
	return 0, true, nil
}

// ErrRedirect is matched by every *RedirectError.
var ErrRedirect = errors.New("redirect refused")

// RedirectError says why an X-MS-Location is not followed.
type RedirectError struct {
	Location string
	Reason   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("ashttp: not following the 451 redirect to %q: %s", e.Location, e.Reason)
}

// Is makes errors.Is(err, ErrRedirect) match.
func (e *RedirectError) Is(target error) bool { return target == ErrRedirect }

// CheckRedirect decides whether a 451's X-MS-Location may be followed from the URL
// in use (MS-ASHTTP 3.1.5.2.2; DESIGN rule 6): it must be an absolute https URL
// (http only when allowInsecure), carry no credentials, and differ from current (a
// redirect to the same URL is a loop). It returns the URL to adopt, without query or
// fragment: the client builds its own query on it.
func CheckRedirect(current, location string, allowInsecure bool) (*url.URL, error) {
	refuse := func(format string, args ...any) (*url.URL, error) {
		return nil, &RedirectError{Location: location, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.TrimSpace(location) == "" {
		return refuse("the 451 has no X-MS-Location; run Autodiscover to find the mailbox's server (MS-ASHTTP 3.1.5.2.2): set httpeas.Options.Autodiscover, or give foldersync sync --email")
	}
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil {
		return refuse("not a URL (%v)", err)
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return refuse("not an absolute URL")
	case u.User != nil:
		return refuse("it carries credentials in the URL; a server must not ask for that")
	case u.Scheme == "http" && !allowInsecure:
		return refuse("it is plain HTTP, which would expose the credentials; set AllowInsecureHTTP only for a test server on loopback")
	case u.Scheme != "https" && u.Scheme != "http":
		return refuse("the scheme %q is not https", u.Scheme)
	}
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	cur, err := url.Parse(current)
	if err == nil && SameEndpoint(cur, u) {
		return refuse("it is the URL already in use, a redirect loop")
	}
	return u, nil
}

// SameEndpoint reports whether two URLs name the same endpoint: scheme and host
// compared case-insensitively with default ports made explicit, paths compared after
// cleaning; queries ignored.
func SameEndpoint(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && hostPort(a) == hostPort(b) && cleanPath(a.Path) == cleanPath(b.Path)
}

func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return host + ":" + port
}

func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	return path.Clean("/" + p)
}
