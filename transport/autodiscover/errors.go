package autodiscover

import (
	"errors"
	"fmt"
	"strings"
)

// Errors [Discover] returns, to be tested with errors.Is. When no candidate
// answered with settings the error wraps exactly one reason: a [*ServerError] or
// [*ResponseError] when an Autodiscover server answered but not with usable
// settings, else ErrAuth when a candidate answered 401, else ErrInsecure when a
// candidate redirected to plain HTTP, else ErrNotFound. Its message lists the
// attempts; [Result.Attempts] has them in full.
var (
	// ErrNotFound: no candidate answered with Autodiscover settings, and none
	// gave a more specific reason (every one was unreachable, answered 404 or the
	// like, or answered with something that is not an Autodiscover response).
	ErrNotFound = errors.New("autodiscover: no Autodiscover server answered")
	// ErrAuth: the only useful answers were HTTP 401, so the credentials are the
	// likely problem (check the user name and password, or the token). Also
	// wrapped when the Options.Token function fails.
	ErrAuth = errors.New("autodiscover: authentication failed")
	// ErrTooManyRedirects: more than Options.MaxRedirects redirects, address
	// redirects (Action/Redirect) and HTTP redirects counted together.
	ErrTooManyRedirects = errors.New("autodiscover: too many redirects")
	// ErrRedirectLoop: an Action/Redirect to an address already tried in this
	// search (including the address itself).
	ErrRedirectLoop = errors.New("autodiscover: redirect loop")
	// ErrInsecure: a plain http:// URL, which would carry the credentials (or
	// the request for them) in the clear. Set Options.AllowInsecureHTTP only for a
	// test server on loopback.
	ErrInsecure = errors.New("autodiscover: plain HTTP refused")
)

// ServerError is an Autodiscover response that reports an error (MS-ASCMD
// 2.2.3.63): either Response/Action/Error, whose Status (2.2.3.177.1) is Code, or
// the framework's Response/Error, whose ErrorCode (2.2.3.64) is Code: 600 for an
// invalid request, 601 when the server has no provider for the
// AcceptableResponseSchema sent.
type ServerError struct {
	// Code is the Status or ErrorCode (0 when the server gave neither).
	Code int
	// Message is the server's text (MS-ASCMD 2.2.3.108), localized to Culture.
	Message string
	// DebugData is the server's hint for its administrator (MS-ASCMD 2.2.3.40).
	DebugData string
	// URL is the Autodiscover URL that answered ("" from ParseResponse).
	URL string
}

func (e *ServerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "autodiscover: the server reports error %d", e.Code)
	switch e.Code {
	case 600:
		b.WriteString(" (invalid request)")
	case 601:
		b.WriteString(" (no provider for the requested response schema)")
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", clip(e.Message, 200))
	}
	if e.DebugData != "" {
		fmt.Fprintf(&b, " [debug data: %s]", clip(e.DebugData, 200))
	}
	if e.URL != "" {
		fmt.Fprintf(&b, " (from %s)", e.URL)
	}
	return b.String()
}

// ResponseError is a well-formed Autodiscover response that cannot be used: a
// Redirect to an address that is not valid, Settings without a MobileSync
// server, or a MobileSync URL that is not an absolute https URL (Err is then
// ErrInsecure for an http one).
type ResponseError struct {
	URL    string // the Autodiscover URL that answered
	Reason string
	Err    error // nil, or ErrInsecure
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("autodiscover: unusable answer from %s: %s", e.URL, e.Reason)
}

func (e *ResponseError) Unwrap() error { return e.Err }

// AccountError is an HTTP 456 (the account is blocked) or 457 (the password has
// expired) in answer to an Autodiscover request. MS-ASHTTP 3.1.5.2.4: the client
// SHOULD then stop sending requests and prompt the user to contact the
// administrator (456) or to reset the password (457), so [Discover] stops at once.
type AccountError struct {
	URL        string
	StatusCode int
	// CredentialServiceURL is the X-MS-Credential-Service-Url header of a 457:
	// the page where the user can change the password ("" when absent).
	CredentialServiceURL string
}

func (e *AccountError) Error() string {
	if e.StatusCode == 457 {
		s := fmt.Sprintf("autodiscover: the password has expired (HTTP 457 from %s): change it", e.URL)
		if e.CredentialServiceURL != "" {
			s += " at " + e.CredentialServiceURL
		}
		return s
	}
	return fmt.Sprintf("autodiscover: the account is blocked (HTTP %d from %s): contact the administrator", e.StatusCode, e.URL)
}

// ConfigError reports an Options field that cannot work, and why. Err is
// ErrInsecure for an http:// endpoint.
type ConfigError struct {
	Field, Msg string
	Err        error
}

func (e *ConfigError) Error() string { return "autodiscover: Options." + e.Field + " " + e.Msg }

func (e *ConfigError) Unwrap() error { return e.Err }

// SyntaxError reports a body that is not a well-formed Autodiscover response (or
// request): bad XML, a DOCTYPE, nesting or size beyond the parser's limits, the
// wrong root element, or required elements missing.
type SyntaxError struct {
	// Offset is the byte offset in the body at which the problem was found.
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("autodiscover: %s (at byte %d)", e.Msg, e.Offset)
}

// discoverError is what Discover returns when no candidate gave settings: the
// address, the reason (Unwrap), and the attempts, summarized.
type discoverError struct {
	email    string
	why      string
	err      error
	attempts []Attempt
}

func (e *discoverError) Error() string {
	return fmt.Sprintf("autodiscover: no ActiveSync settings found for %s: %s; tried %s", e.email, e.why, summarize(e.attempts))
}

func (e *discoverError) Unwrap() error { return e.err }

// summarize lists attempts for an error message, the first 12 of them.
func summarize(as []Attempt) string {
	const most = 12
	if len(as) == 0 {
		return "nothing"
	}
	var b strings.Builder
	for i, a := range as {
		if i == most {
			fmt.Fprintf(&b, "; and %d more", len(as)-most)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s: %s", a.Method, a.URL, a.Outcome)
	}
	return b.String()
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
