// Package faults wraps a [transport.Transport] and injects faults into its round
// trips from a deterministic [Schedule]: lost requests and responses, timeouts,
// connection resets, error statuses, HTTP errors with their headers, and truncated
// or corrupt bodies. No fault sleeps or reads a clock, and [Seeded] derives each
// call's fault from the seed and the call number alone, so a session run against
// Wrap(sim.New(...), Seeded(seed, ...)) is reproducible from its seed.
//
// Which fault hits the server and which does not matters, because real servers
// differ in what they do with the resend that follows (DESIGN.md, "Real peers",
// and rules 2-3; see package transport/sim for the server profiles): after
// [RequestLost] or [ConnectionReset] the server never saw the request; after
// [ResponseLost] or [Timeout] it applied the request and advanced its SyncKey, and
// only the answer was lost.
package faults

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
)

// Kind is the kind of a [Fault].
type Kind uint8

// The fault kinds.
const (
	// KindNone: no fault, the call goes through.
	KindNone Kind = iota
	// KindRequestLost: the request never reaches the server; the client times out.
	KindRequestLost
	// KindResponseLost: the server applies the request; its response is lost and
	// the client times out.
	KindResponseLost
	// KindTimeout: the server answers after the client's per-request timeout. The
	// effect is that of KindResponseLost (no real time passes).
	KindTimeout
	// KindConnectionReset: the connection fails before the server sees the request.
	KindConnectionReset
	// KindStatus: the server answers HTTP 200 with a FolderSync status only, without
	// processing the request.
	KindStatus
	// KindHTTP: the server answers with an HTTP error status and no body, without
	// processing the request.
	KindHTTP
	// KindTruncatedBody: the server applies the request; its response arrives cut
	// short.
	KindTruncatedBody
	// KindCorruptBody: the server applies the request; its response arrives with a
	// damaged byte.
	KindCorruptBody
	// KindResetRequested: the server applies the request and answers with the
	// X-MS-RP header (MS-ASHTTP 2.2.2.1.2.9): it asks the client to reinitialize its
	// synchronization state.
	KindResetRequested
)

var kindNames = [...]string{
	KindNone: "none", KindRequestLost: "request-lost", KindResponseLost: "response-lost",
	KindTimeout: "timeout", KindConnectionReset: "connection-reset", KindStatus: "status",
	KindHTTP: "http", KindTruncatedBody: "truncated-body", KindCorruptBody: "corrupt-body",
	KindResetRequested: "reset-requested",
}

// String returns the kind's name, e.g. "response-lost".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is what happens to one call: a Kind and, for KindStatus and KindHTTP, what
// the injected reply carries. Build one with the variables and functions below.
type Fault struct {
	Kind Kind
	// Status is the FolderSync status of a KindStatus reply.
	Status int
	// HTTPStatus is the HTTP status of a KindHTTP reply.
	HTTPStatus int
	// RetryAfter and HasRetryAfter are the Retry-After header of a KindHTTP reply.
	RetryAfter    time.Duration
	HasRetryAfter bool
	// Location is the X-MS-Location header of a KindHTTP reply (451).
	Location string
	// Throttle is the X-MS-ASThrottle header of a KindHTTP reply.
	Throttle string
}

// The faults without parameters.
var (
	// None lets the call through.
	None = Fault{}
	// RequestLost: the inner transport is not called; the call returns a
	// *transport.Error with ErrTimeout.
	RequestLost = Fault{Kind: KindRequestLost}
	// ResponseLost: the inner transport is called (the server applies the request
	// and advances its key); the reply is dropped and the call returns ErrTimeout.
	ResponseLost = Fault{Kind: KindResponseLost}
	// Timeout: as ResponseLost, modelling an answer that came too late.
	Timeout = Fault{Kind: KindTimeout}
	// ConnectionReset: the inner transport is not called; the call returns a
	// *transport.Error with ErrConnection.
	ConnectionReset = Fault{Kind: KindConnectionReset}
	// TruncatedBody: the inner transport is called; its response is encoded, cut in
	// half and decoded, and the call returns a *transport.Error with ErrUnreadable,
	// the reply's HTTP status and the decoder's error as Cause.
	TruncatedBody = Fault{Kind: KindTruncatedBody}
	// CorruptBody: as TruncatedBody, with one byte of the body overwritten instead.
	CorruptBody = Fault{Kind: KindCorruptBody}
	// ResetRequested: the inner transport is called; its reply comes back with
	// ResetRequested set, as if the server had sent X-MS-RP.
	ResetRequested = Fault{Kind: KindResetRequested}
)

// DefaultRedirect is the X-MS-Location that HTTP(451, ...) carries unless
// WithLocation sets another.
const DefaultRedirect = "https://eas.example.invalid/Microsoft-Server-ActiveSync"

// DefaultThrottle is the X-MS-ASThrottle that HTTP(503, ...) carries unless
// WithThrottle sets another (one of the reasons MS-ASHTTP 2.2.2.2 lists).
const DefaultThrottle = "CommandFrequency"

// Status returns the fault that answers HTTP 200 with NewStatusResponse(code)
// without calling the inner transport (e.g. 6, 9, 11, 12, 110, 142).
func Status(code int) Fault { return Fault{Kind: KindStatus, Status: code} }

// HTTP returns the fault that answers with HTTP status code and no body, with a
// Retry-After of retryAfter if hasRetryAfter, without calling the inner transport
// (e.g. 503 with Retry-After, 449, 401). A 451 carries DefaultRedirect as its
// X-MS-Location unless WithLocation sets another, and a 503 carries DefaultThrottle
// as its X-MS-ASThrottle unless WithThrottle sets another.
func HTTP(code int, retryAfter time.Duration, hasRetryAfter bool) Fault {
	f := Fault{Kind: KindHTTP, HTTPStatus: code, RetryAfter: retryAfter, HasRetryAfter: hasRetryAfter}
	switch code {
	case 451:
		f.Location = DefaultRedirect
	case 503:
		f.Throttle = DefaultThrottle
	}
	return f
}

// WithLocation returns f with the X-MS-Location header set to url.
func (f Fault) WithLocation(url string) Fault { f.Location = url; return f }

// WithThrottle returns f with the X-MS-ASThrottle header set to reason.
func (f Fault) WithThrottle(reason string) Fault { f.Throttle = reason; return f }

// String describes f for logs and test failures, e.g. "status 9" or
// "http 503 retry-after 2s".
func (f Fault) String() string {
	switch f.Kind {
	case KindStatus:
		return "status " + strconv.Itoa(f.Status)
	case KindHTTP:
		s := "http " + strconv.Itoa(f.HTTPStatus)
		if f.HasRetryAfter {
			s += " retry-after " + f.RetryAfter.String()
		}
		if f.Location != "" {
			s += " location " + f.Location
		}
		if f.Throttle != "" {
			s += " throttle " + f.Throttle
		}
		return s
	}
	return f.Kind.String()
}

// Schedule says which fault, if any, hits each call. Calls are numbered from 1 in
// the order they reach the wrapper. Fault must be deterministic and safe for
// concurrent use.
type Schedule interface {
	Fault(call int) Fault
}

// ScheduleFunc adapts a function to a Schedule.
type ScheduleFunc func(call int) Fault

// Fault returns f(call).
func (f ScheduleFunc) Fault(call int) Fault { return f(call) }

// defaultMenu is what Seeded injects when given no faults: the faults that leave
// no usable answer.
var defaultMenu = []Fault{RequestLost, ResponseLost, Timeout, ConnectionReset, TruncatedBody, CorruptBody}

// Seeded returns a schedule in which each call faults with probability rate
// (clamped to [0, 1]), with a fault chosen uniformly from menu (by default
// RequestLost, ResponseLost, Timeout, ConnectionReset, TruncatedBody and
// CorruptBody). The choice for call n is a splitmix64 hash of seed and n: the same
// seed gives the same schedule, whatever the order or concurrency of the calls,
// and no global random source is used.
//
// (menu holds Faults rather than Kinds so that Status and HTTP faults can carry
// their code: Seeded(1, 0.1, RequestLost, Status(6), HTTP(503, time.Second, true)).)
func Seeded(seed int64, rate float64, menu ...Fault) Schedule {
	if !(rate > 0) { // also NaN
		rate = 0
	}
	rate = math.Min(rate, 1)
	if len(menu) == 0 {
		menu = defaultMenu
	}
	menu = append([]Fault(nil), menu...)
	// The seed is hashed before the call number is added, so that two seeds never
	// give shifted copies of one sequence (seed s+golden would otherwise be seed s
	// one call later).
	seedMix := mix(uint64(seed))
	return ScheduleFunc(func(call int) Fault {
		h := mix(seedMix + uint64(call)*golden)
		if float64(h>>11)/(1<<53) >= rate {
			return None
		}
		return menu[mix(h^0x6a09e667f3bcc909)%uint64(len(menu))]
	})
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 output function (Steele, Lea and Flood, 2014).
func mix(x uint64) uint64 {
	x += golden
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Script returns a schedule that injects script[n] at call n and nothing at calls
// the map does not name. The map is copied.
func Script(script map[int]Fault) Schedule {
	m := make(map[int]Fault, len(script))
	for n, f := range script {
		m[n] = f
	}
	return ScheduleFunc(func(call int) Fault { return m[call] })
}

// Sequence returns a schedule that injects faults[n-1] at call n and nothing after
// the last one: Sequence(None, ResponseLost) lets call 1 through and loses call 2's
// response.
func Sequence(faults ...Fault) Schedule {
	fs := append([]Fault(nil), faults...)
	return ScheduleFunc(func(call int) Fault {
		if call >= 1 && call <= len(fs) {
			return fs[call-1]
		}
		return None
	})
}

// ErrInjected is the Cause of the errors the wrapper makes up for RequestLost,
// ResponseLost, Timeout and ConnectionReset, so tests can tell them from real ones
// (errors.Is(err, faults.ErrInjected)).
var ErrInjected = errors.New("faults: injected")

// Injection records one injected fault.
type Injection struct {
	// Call is the call's number, from 1.
	Call int
	// Fault is what was injected; Fault.Kind is never KindNone.
	Fault Fault
	// Detail says what happened, e.g. "server answered key 2 with status 1 key 3;
	// reply dropped" or the decoder's error for a damaged body.
	Detail string
	// OnWire says the server performed the fault on the wire ([Transport.OnWire])
	// and the call returned what the client made of it; otherwise the wrapper made
	// the fault's effect up.
	OnWire bool
}

// A Wire is a server that can perform a fault on the wire itself, for a wrapper
// that sits in front of a real client of it (a sim.Handler behind an HTTP
// transport): the client's own code then meets the reset connection, the lost
// answer, the cut or damaged body, the 503 and its Retry-After header, where the
// wrapper alone would have made their effect up above the client.
type Wire interface {
	// Arm makes the server perform f on the next FolderSync request it receives
	// and reports whether it can; a fault it cannot perform (one that needs the
	// client to time out, say) is left to the wrapper.
	Arm(f Fault) bool
	// Disarm takes back an armed fault that no request took, and reports whether
	// there was one: the call failed before reaching the server.
	Disarm() bool
}

// Transport is a transport.Transport that injects faults into the calls it passes
// to an inner one. It is safe for concurrent use if the inner transport is.
type Transport struct {
	inner transport.Transport
	sched Schedule
	wire  Wire

	mu    sync.Mutex
	calls int
	log   []Injection
}

// Wrap returns a Transport that passes calls to inner, with the faults sched
// chooses. A nil sched injects nothing.
func Wrap(inner transport.Transport, sched Schedule) *Transport {
	if sched == nil {
		sched = Sequence()
	}
	return &Transport{inner: inner, sched: sched}
}

// OnWire makes the server w perform every fault it can ([Wire.Arm]) and returns
// t. Set it before the first call; calls must then not overlap, since an armed
// fault hits whichever FolderSync reaches the server next.
func (t *Transport) OnWire(w Wire) *Transport {
	t.wire = w
	return t
}

// Unwrap returns the wrapped transport ([transport.Wrapper]), so a session finds
// its Redirector or Provisioner through the wrapper.
func (t *Transport) Unwrap() transport.Transport { return t.inner }

// Calls returns the number of calls made so far (a call on a done context is not
// counted).
func (t *Transport) Calls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls
}

// Injected returns a copy of the log of injected faults, in call order (concurrent
// calls may finish out of order; the log is sorted by Call).
func (t *Transport) Injected() []Injection {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]Injection(nil), t.log...)
	slices.SortStableFunc(out, func(a, b Injection) int { return cmp.Compare(a.Call, b.Call) })
	return out
}

func (t *Transport) record(call int, f Fault, detail string) {
	t.add(Injection{Call: call, Fault: f, Detail: detail})
}

func (t *Transport) add(inj Injection) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log = append(t.log, inj)
}

// onWire has the server perform f and returns what the inner transport made of
// it. The injection is logged as having no effect when no request reached the
// server (the armed fault is then taken back).
func (t *Transport) onWire(ctx context.Context, n int, f Fault, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	reply, err := t.inner.FolderSync(ctx, req)
	if t.wire.Disarm() {
		detail := "no effect: the request did not reach the server"
		if err != nil {
			detail += ": " + err.Error()
		}
		t.record(n, f, detail)
		return reply, err
	}
	detail := "performed by the server on the wire; the client "
	if err != nil {
		detail += "got: " + err.Error()
	} else {
		detail += "read: " + describe(reply)
		if reply.ResetRequested {
			detail += ", with X-MS-RP"
		}
	}
	t.add(Injection{Call: n, Fault: f, Detail: detail, OnWire: true})
	return reply, err
}

// FolderSync implements transport.Transport: it numbers the call, asks the
// schedule for its fault, and acts as the Fault variables and functions describe.
// When ctx is done it returns ctx.Err() without calling anything. When a fault
// needs the inner reply and the inner call fails, the inner error is returned.
func (t *Transport) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.calls++
	n := t.calls
	t.mu.Unlock()
	f := t.sched.Fault(n)
	id := "faults-" + strconv.Itoa(n)
	if int(f.Kind) >= len(kindNames) { // before the inner call: an unknown fault has no effect
		return nil, fmt.Errorf("faults: call %d: undefined fault kind %s", n, f.Kind)
	}

	if f.Kind == KindNone {
		return t.inner.FolderSync(ctx, req)
	}
	if t.wire != nil && t.wire.Arm(f) {
		return t.onWire(ctx, n, f, req)
	}
	switch f.Kind {
	case KindRequestLost, KindConnectionReset:
		kind, what := transport.ErrTimeout, "request lost before the server"
		if f.Kind == KindConnectionReset {
			kind, what = transport.ErrConnection, "connection reset before the server"
		}
		t.record(n, f, what)
		return nil, &transport.Error{Err: kind, Cause: fmt.Errorf("%w: %s (call %d)", ErrInjected, what, n)}
	case KindStatus:
		resp, err := roundTrip(transport.NewStatusResponse(f.Status))
		if err != nil {
			return nil, err
		}
		t.record(n, f, "answered status "+strconv.Itoa(f.Status)+" without calling the server")
		return &transport.Reply{HTTPStatus: 200, Response: resp, RequestID: id}, nil
	case KindHTTP:
		t.record(n, f, "answered HTTP "+strconv.Itoa(f.HTTPStatus)+" without calling the server")
		reply := &transport.Reply{
			HTTPStatus: f.HTTPStatus, RetryAfter: f.RetryAfter, HasRetryAfter: f.HasRetryAfter,
			Location: f.Location, Throttle: f.Throttle, RequestID: id,
		}
		if f.HTTPStatus == 451 {
			// The wrapper judges the redirect as an HTTP transport would, from the
			// inner transport's URL when it has one (a loop is then detectable).
			current := ""
			if r, ok := t.inner.(transport.Redirector); ok {
				current = r.URL()
			}
			if _, err := ashttp.CheckRedirect(current, f.Location, false); err != nil {
				reply.RedirectRefusal = err.Error()
			} else {
				reply.RedirectOK = true
			}
		}
		return reply, nil
	}

	// The remaining kinds let the server apply the request, then spoil the answer.
	reply, err := t.inner.FolderSync(ctx, req)
	if err != nil {
		t.record(n, f, "no effect: the inner transport failed: "+err.Error())
		return nil, err
	}
	switch f.Kind {
	case KindResetRequested:
		t.record(n, f, describe(reply)+", with X-MS-RP")
		reply.ResetRequested = true
		return reply, nil
	case KindResponseLost, KindTimeout:
		what := "response lost"
		if f.Kind == KindTimeout {
			what = "response after the timeout"
		}
		t.record(n, f, describe(reply)+"; "+what)
		return nil, &transport.Error{Err: transport.ErrTimeout, Cause: fmt.Errorf("%w: %s (call %d)", ErrInjected, what, n)}
	case KindTruncatedBody, KindCorruptBody:
		if reply.Response == nil {
			t.record(n, f, "no effect: "+describe(reply)+" has no body")
			return reply, nil
		}
		body, err := reply.Response.MarshalWBXML()
		if err != nil {
			return nil, fmt.Errorf("faults: encode the inner response: %w", err)
		}
		_, detail, cause := Damage(body, f.Kind == KindCorruptBody)
		t.record(n, f, describe(reply)+"; "+detail+": "+cause.Error())
		return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: reply.HTTPStatus, Cause: cause}
	}
	return nil, fmt.Errorf("faults: call %d: undefined fault kind %s", n, f.Kind)
}

// roundTrip sends r through the codec, as a server's reply would be.
func roundTrip(r *transport.FolderSyncResponse) (*transport.FolderSyncResponse, error) {
	b, err := r.MarshalWBXML()
	if err != nil {
		return nil, fmt.Errorf("faults: encode injected response: %w", err)
	}
	return transport.UnmarshalFolderSyncResponse(b)
}

func describe(r *transport.Reply) string {
	if r.Response == nil {
		return "server answered HTTP " + strconv.Itoa(r.HTTPStatus)
	}
	return fmt.Sprintf("server answered status %d key %q with %d changes", r.Response.Status, r.Response.SyncKey, len(r.Response.Changes))
}

// Damage spoils a FolderSync response body as TruncatedBody (corrupt false) or
// CorruptBody (corrupt true) do: it cuts body to half its length, or overwrites
// one byte with 0xFF (the first, from the middle outward, that makes the body
// undecodable). It returns the damaged copy, what was done, and the decoder's
// error on the result. A damage that leaves the body decodable would be a
// different valid answer, not a fault a client can detect (that is what TLS is
// for), so it is never chosen; when none exists, the error says so.
func Damage(body []byte, corrupt bool) (damaged []byte, detail string, cause error) {
	if !corrupt {
		// A strict prefix lacks at least the root's END token, so half the body
		// never decodes; shorter cuts are tried all the same, to be safe.
		for cut := len(body) / 2; cut >= 0; cut-- {
			if _, err := transport.UnmarshalFolderSyncResponse(body[:cut]); err != nil {
				return bytes.Clone(body[:cut]), fmt.Sprintf("body cut from %d to %d bytes", len(body), cut), err
			}
		}
		return bytes.Clone(body), "body cut", errors.New("faults: truncated body decoded")
	}
	b := bytes.Clone(body)
	mid := len(b) / 2
	for d := 0; d <= len(b); d++ {
		for _, i := range [2]int{mid + d, mid - d - 1} {
			if i < 0 || i >= len(b) || b[i] == 0xFF {
				continue
			}
			old := b[i]
			b[i] = 0xFF
			if _, err := transport.UnmarshalFolderSyncResponse(b); err != nil {
				return b, fmt.Sprintf("byte %d of %d overwritten (0x%02X -> 0xFF)", i, len(b), old), err
			}
			b[i] = old
		}
	}
	return b, "body corrupted", errors.New("faults: corrupt body decoded")
}

// Parse reads one fault in the words of the CLI (`foldersync demo --faults`,
// `foldersync soak --menu`):
// request-lost, response-lost, timeout, connection-reset, truncated, corrupt,
// reset-requested, status-CODE, http-CODE or http-CODE-retry-DURATION.
func Parse(spec string) (Fault, error) {
	switch spec {
	case "request-lost":
		return RequestLost, nil
	case "response-lost":
		return ResponseLost, nil
	case "timeout":
		return Timeout, nil
	case "connection-reset":
		return ConnectionReset, nil
	case "truncated":
		return TruncatedBody, nil
	case "corrupt":
		return CorruptBody, nil
	case "reset-requested":
		return ResetRequested, nil
	}
	if code, ok := strings.CutPrefix(spec, "status-"); ok {
		if c, err := strconv.Atoi(code); err == nil && c > 0 && c <= 999 {
			return Status(c), nil
		}
	}
	if rest, ok := strings.CutPrefix(spec, "http-"); ok {
		code, retry, hasRetry := strings.Cut(rest, "-retry-")
		if c, err := strconv.Atoi(code); err == nil && c >= 100 && c <= 599 {
			if !hasRetry {
				return HTTP(c, 0, false), nil
			}
			if d, err := time.ParseDuration(retry); err == nil && d >= 0 {
				return HTTP(c, d, true), nil
			}
		}
	}
	return Fault{}, fmt.Errorf("unknown fault %q (want request-lost, response-lost, timeout, connection-reset, truncated, corrupt, reset-requested, status-CODE, http-CODE or http-CODE-retry-DURATION)", spec)
}
