package policy

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Policy is the retry, backoff, reset and timeout budget of one FolderSync
// session. The zero value is not useful: start from [Default], [Preset],
// [Load] or [Parse], then adjust fields and call [Policy.Validate].
//
// A Policy is a plain value: copying it copies every budget (the Overrides map
// is shared by copies; treat it as read-only once the policy is in use).
//
// The struct tags name the keys of the policy file format (lower_snake_case);
// the file format itself is decoded by [Parse], which reports line numbers,
// and written by [Policy.YAML] and [Policy.MarshalJSON].
type Policy struct {
	// Name is the preset or file the policy came from. It is informational
	// only: it appears in `foldersync policy show` and in audit records.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`

	// Backoff shapes the delay between retries of a failed request.
	Backoff BackoffPolicy `json:"backoff" yaml:"backoff"`

	// MaxAttempts is the total number of FolderSync requests one session may
	// send, counting the first request, every resend and the SyncKey-0 reset
	// request. Default 10: enough for the 3 transient failures that trigger
	// a reset, the reset itself and a few resends, yet a session that cannot
	// finish in 10 round trips is broken, not unlucky.
	MaxAttempts int `json:"max_attempts" yaml:"max_attempts"`

	// TransientBeforeReset is the number of consecutive transient failures
	// (FolderSync Status 6, 8 or 11; common status 111, 114, 133, 162 or 169; HTTP
	// 500 or 502: `foldersync explain` lists them; a 503 is throttling, with its own
	// streak and Retry-After) after which the session returns to SyncKey 0, as MS-ASCMD 2.2.3.177.5
	// advises for 6 and 11: "If continued attempts to synchronization fail,
	// consider returning to synchronization key zero (0)". Default 3: one
	// failure is noise, three in a row is a pattern worth a full resync.
	// Set it to MaxAttempts or more to never reset on transient failures.
	TransientBeforeReset int `json:"transient_before_reset" yaml:"transient_before_reset"`

	// Resend is the budget for resending the identical request after a
	// timeout or a lost response (DESIGN rule 3).
	Resend ResendPolicy `json:"resend" yaml:"resend"`

	// RetryAfterCap is the longest a server's Retry-After (HTTP 503) may make
	// the session wait. A longer Retry-After fails the session with a reason
	// instead of sleeping. 0 means never wait for a Retry-After. Default
	// 10m: Exchange asks for seconds to minutes; an hour means "come back
	// later", which the caller's scheduler does better than a sleeping session.
	RetryAfterCap time.Duration `json:"retry_after_cap" yaml:"retry_after_cap"`

	// ResetGuard bounds how often the session may return to SyncKey 0
	// (DESIGN rule 5 loop guard).
	ResetGuard ResetGuard `json:"reset_guard" yaml:"reset_guard"`

	// UnknownStatusRetries is the tighter retry cap for Status 12 ("code
	// unknown") and for status codes the transitions table does not know.
	// Default 2: an unknown code rarely heals, but one back-end hiccup
	// deserves a second look before the session fails.
	UnknownStatusRetries int `json:"unknown_status_retries" yaml:"unknown_status_retries"`

	// VerifyAfterLostResponse makes the session verify, with one full
	// SyncKey-0 FolderSync reconciled by mark-and-sweep, the first Status 1
	// answer after a lost response (DESIGN rule 3). Servers such as SOGo never
	// compare keys: the resend gets the changes since the lost answer, without
	// those it carried: "no changes", or other changes made meanwhile. The
	// client cannot tell them from servers that replay or re-run the request
	// (Horde, Z-Push). Default true: the check costs one request per lost
	// answer and prevents a silently missing folder; turn it off only for
	// servers known to replay or re-run.
	VerifyAfterLostResponse bool `json:"verify_after_lost_response" yaml:"verify_after_lost_response"`

	// Overrides tunes the retry budget for single status codes, keyed
	// "kind:code" (see [OverrideKey]). The transitions table decides what a
	// status means; an override only tunes how often and how soon it is
	// retried. Default: none.
	Overrides map[string]Override `json:"overrides,omitempty" yaml:"overrides,omitempty"`

	// Seed seeds the deterministic jitter: the same policy and seed give the
	// same delays on every run and machine, so an audit log can be replayed.
	// Default 1: any fixed value works; give devices different seeds to
	// spread their retries apart.
	Seed int64 `json:"seed" yaml:"seed"`
}

// BackoffPolicy shapes the delay between retries: delay n (n = 1, 2, ...) is
// min(MaxInterval, Initial*Multiplier^(n-1)) multiplied by a jitter factor in
// [1-Jitter, 1+Jitter]. See [Policy.Delay].
type BackoffPolicy struct {
	// Initial is the delay before the first retry. Default 1s: long enough
	// for a momentary overload to pass, short enough that a user barely
	// notices.
	Initial time.Duration `json:"initial" yaml:"initial"`
	// Multiplier grows the delay after each retry. Default 2: the classic
	// doubling that backs off a struggling server quickly.
	Multiplier float64 `json:"multiplier" yaml:"multiplier"`
	// MaxInterval caps a single delay before jitter. Default 5m: past that,
	// waiting longer tells the session nothing new.
	MaxInterval time.Duration `json:"max_interval" yaml:"max_interval"`
	// MaxElapsed is the total of all delays one session may spend waiting;
	// 0 means no limit. Default 15m: a FolderSync that has not recovered in
	// a quarter of an hour should give up and report.
	MaxElapsed time.Duration `json:"max_elapsed" yaml:"max_elapsed"`
	// Jitter is the fraction (0..1) by which each delay is spread: the delay
	// is multiplied by a factor in [1-Jitter, 1+Jitter]. Default 0.2: enough
	// to keep many devices from retrying in lockstep after an outage.
	Jitter float64 `json:"jitter" yaml:"jitter"`
}

// ResendPolicy is the budget for resending the identical request (same
// SyncKey) after a timeout, no response or a connection error.
type ResendPolicy struct {
	// MaxResends is how many times the identical request may be resent.
	// Default 3: the server tracks synchronization requests (MS-ASCMD
	// 3.1.5.9), so a resend is cheap and safe, but three silent servers in a
	// row mean the network or server is down.
	MaxResends int `json:"max_resends" yaml:"max_resends"`
	// RequestTimeout is the timeout of the first request. Default 30s: a
	// FolderSync of a large mailbox at SyncKey 0 can take many seconds.
	RequestTimeout time.Duration `json:"request_timeout" yaml:"request_timeout"`
	// TimeoutGrowth multiplies the timeout for each resend. Default 1.5: a
	// slow server gets more time on every resend without doubling.
	TimeoutGrowth float64 `json:"timeout_growth" yaml:"timeout_growth"`
	// MaxRequestTimeout caps the grown per-request timeout. Default 2m:
	// longer than any healthy FolderSync, shorter than common proxy limits.
	MaxRequestTimeout time.Duration `json:"max_request_timeout" yaml:"max_request_timeout"`
}

// ResetGuard is the loop guard on returns to SyncKey 0 (DESIGN rule 5): more
// than MaxResets resets inside Window fail the session.
type ResetGuard struct {
	// MaxResets (K) is the number of resets allowed inside Window. Default 3:
	// a server that answers every full resync with another Status 9 is in a
	// loop, and each reset downloads the whole hierarchy.
	MaxResets int `json:"max_resets" yaml:"max_resets"`
	// Window is the sliding window over which resets are counted. Default
	// 1h: long enough to catch a slow loop, short enough that one bad day
	// does not lock a device out.
	Window time.Duration `json:"window" yaml:"window"`
}

// Exceeded reports whether one more reset at now would break the guard:
// resets holds the times of earlier resets, and those after now-Window count.
// It is a pure function; the caller supplies the clock.
func (g ResetGuard) Exceeded(resets []time.Time, now time.Time) bool {
	n := 1 // the reset about to happen
	for _, t := range resets {
		if t.After(now.Add(-g.Window)) && !t.After(now) {
			n++
		}
	}
	return n > g.MaxResets
}

// Override tunes the retry budget of one status code. Unset (nil) fields keep
// the policy-wide budget. An override never changes what a status means: the
// transitions table decides whether a status is transient, a key mismatch or
// fatal; an override only tunes how often and how soon it is retried, or
// stops retrying it altogether.
type Override struct {
	// Retry, when false, stops retrying the status: the first occurrence
	// fails the session. true keeps retrying within the budget.
	Retry *bool `json:"retry,omitempty" yaml:"retry,omitempty"`
	// MaxRetries replaces the retry cap for the status (for example
	// UnknownStatusRetries for Status 12).
	MaxRetries *int `json:"max_retries,omitempty" yaml:"max_retries,omitempty"`
	// Initial replaces Backoff.Initial for retries of the status.
	Initial *time.Duration `json:"initial,omitempty" yaml:"initial,omitempty"`
	// Fatal, when true, fails the session at once on the status.
	Fatal *bool `json:"fatal,omitempty" yaml:"fatal,omitempty"`
}

// Kinds of status an override key may name: FolderSync Status values, the
// legacy FolderSync status 8, common status codes (MS-ASCMD 2.2.2) and HTTP
// status codes.
const (
	KindFolderSync = "foldersync"
	KindLegacy     = "legacy"
	KindCommon     = "common"
	KindHTTP       = "http"
)

var overrideKinds = []string{KindFolderSync, KindLegacy, KindCommon, KindHTTP}

// OverrideKey returns the Overrides key for a status, for example
// OverrideKey(KindHTTP, 503) == "http:503".
func OverrideKey(kind string, code int) string {
	return kind + ":" + strconv.Itoa(code)
}

// ParseOverrideKey splits an Overrides key such as "common:111" into its kind
// and code. The kind must be one of foldersync, legacy, common or http and
// the code a number from 1 to 999 written without sign or leading zeros.
func ParseOverrideKey(key string) (kind string, code int, err error) {
	kind, num, ok := strings.Cut(key, ":")
	if !ok {
		return "", 0, fmt.Errorf("%q is not kind:code; write it like \"http:503\" or \"foldersync:6\"", key)
	}
	known := false
	for _, k := range overrideKinds {
		known = known || k == kind
	}
	if !known {
		return "", 0, fmt.Errorf("%q has unknown kind %q; use one of %s", key, kind, strings.Join(overrideKinds, ", "))
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 999 || strconv.Itoa(n) != num {
		return "", 0, fmt.Errorf("%q has code %q; use a status code from 1 to 999, like \"%s:503\"", key, num, kind)
	}
	return kind, n, nil
}

// Override returns the override for a status, if the policy has one.
func (p Policy) Override(kind string, code int) (Override, bool) {
	o, ok := p.Overrides[OverrideKey(kind, code)]
	return o, ok
}

// RetryAfterAllowed reports whether the session may wait d for a server's
// Retry-After; when it returns false the session fails with a reason instead
// of sleeping.
func (p Policy) RetryAfterAllowed(d time.Duration) bool {
	return d >= 0 && d <= p.RetryAfterCap
}

// Delay returns the delay before retry attempt (1 for the first retry):
// min(MaxInterval, Initial*Multiplier^(attempt-1)) multiplied by a jitter
// factor in [1-Jitter, 1+Jitter] derived from (Seed, attempt) alone. It is a
// pure function of the policy and attempt: no clock, no global random
// source, and every floating-point product is explicitly rounded so that no
// platform may fuse it, which keeps delays identical across machines and
// makes audit logs replayable. An attempt below 1 counts as 1.
func (p Policy) Delay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	base := p.baseDelay(attempt)
	return scale(base, jitterFactor(p.Seed, attempt, p.Backoff.Jitter))
}

// baseDelay is the delay before jitter: min(MaxInterval, Initial*Multiplier^(attempt-1)).
func (p Policy) baseDelay(attempt int) time.Duration {
	b := p.Backoff
	d := scale(b.Initial, powInt(b.Multiplier, attempt-1))
	if d > b.MaxInterval {
		d = b.MaxInterval
	}
	return d
}

// RequestTimeout returns the per-request timeout for a request that is the
// resend-th resend of the same request (0 for the first request):
// Resend.RequestTimeout * Resend.TimeoutGrowth^resend, capped by
// Resend.MaxRequestTimeout. A negative resend counts as 0.
func (p Policy) RequestTimeout(resend int) time.Duration {
	if resend < 0 {
		resend = 0
	}
	r := p.Resend
	d := scale(r.RequestTimeout, powInt(r.TimeoutGrowth, resend))
	if d > r.MaxRequestTimeout {
		d = r.MaxRequestTimeout
	}
	return d
}

// scale multiplies a duration by f, saturating instead of overflowing and
// treating NaN as 0.
func scale(d time.Duration, f float64) time.Duration {
	x := float64(float64(d) * f)
	switch {
	case x != x: // NaN
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(x)
}

// powInt is m^n for n >= 0 by repeated squaring, rounding every product
// explicitly (the float64 conversions forbid fused multiply-add) so that the
// result is the same on every platform. It saturates at +Inf.
func powInt(m float64, n int) float64 {
	r := 1.0
	for n > 0 {
		if n&1 == 1 {
			r = float64(r * m)
		}
		n >>= 1
		if n > 0 {
			m = float64(m * m)
		}
		if math.IsInf(r, 1) {
			break
		}
	}
	return r
}

// jitterFactor maps (seed, attempt) to a factor in [1-j, 1+j) with a
// splitmix64 finalizer: a pure function with a good spread, so nearby
// attempts and nearby seeds give unrelated factors.
func jitterFactor(seed int64, attempt int, j float64) float64 {
	if j == 0 {
		return 1
	}
	h := splitmix64(splitmix64(uint64(seed)) ^ uint64(attempt))
	u := float64(h>>11) / (1 << 53) // [0, 1)
	return float64(1-j) + float64(float64(2*j)*u)
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// preset is one named starting point, with the reason it exists.
type preset struct {
	name, why string
	p         func() Policy
}

var presets = []preset{
	{"default", "balanced budgets for a client that syncs on demand or on a timer", defaultPolicy},
	{"interactive", "short waits and small budgets: a user is watching a spinner and would rather see an error", interactivePolicy},
	{"background", "patient budgets for a daemon or overnight sync: nobody is waiting, so wait out outages instead of failing", backgroundPolicy},
}

func defaultPolicy() Policy {
	return Policy{
		Name: "default",
		Backoff: BackoffPolicy{
			Initial:     time.Second,
			Multiplier:  2,
			MaxInterval: 5 * time.Minute,
			MaxElapsed:  15 * time.Minute,
			Jitter:      0.2,
		},
		MaxAttempts:          10,
		TransientBeforeReset: 3,
		Resend: ResendPolicy{
			MaxResends:        3,
			RequestTimeout:    30 * time.Second,
			TimeoutGrowth:     1.5,
			MaxRequestTimeout: 2 * time.Minute,
		},
		RetryAfterCap:           10 * time.Minute,
		ResetGuard:              ResetGuard{MaxResets: 3, Window: time.Hour},
		UnknownStatusRetries:    2,
		VerifyAfterLostResponse: true,
		Seed:                    1,
	}
}

// interactivePolicy: a user is watching. Every wait is short and the whole
// session gives up within a minute, because an error the user can act on beats
// a spinner that never ends.
func interactivePolicy() Policy {
	p := defaultPolicy()
	p.Name = "interactive"
	p.Backoff.Initial = 500 * time.Millisecond // a retry the user hardly notices
	p.Backoff.MaxInterval = 10 * time.Second   // no single silent wait above 10s
	p.Backoff.MaxElapsed = time.Minute         // give up within a minute of waiting
	p.MaxAttempts = 6                          // first try, 2 retries, reset, 2 more
	p.TransientBeforeReset = 2                 // reset sooner: the user wants a result
	p.Resend.MaxResends = 2                    // a dead network is reported quickly
	p.Resend.RequestTimeout = 15 * time.Second // fail fast on a hung connection
	p.Resend.MaxRequestTimeout = 30 * time.Second
	p.RetryAfterCap = 30 * time.Second // longer throttling is shown to the user
	p.ResetGuard = ResetGuard{MaxResets: 2, Window: 10 * time.Minute}
	p.UnknownStatusRetries = 1
	return p
}

// backgroundPolicy: nobody is waiting. Waits are long, budgets generous and
// the jitter wide, so a fleet of devices rides out an outage without
// stampeding the server when it returns.
func backgroundPolicy() Policy {
	p := defaultPolicy()
	p.Name = "background"
	p.Backoff.Initial = 5 * time.Second      // do not pile onto a struggling server
	p.Backoff.MaxInterval = 15 * time.Minute // poll a long outage four times an hour
	p.Backoff.MaxElapsed = time.Hour         // ride out a typical maintenance window
	p.Backoff.Jitter = 0.3                   // spread a fleet further apart
	p.MaxAttempts = 20                       // patience costs nobody's time
	p.TransientBeforeReset = 5               // a full resync is expensive; be sure first
	p.Resend.MaxResends = 5                  // flaky links get more chances
	p.Resend.RequestTimeout = time.Minute    // slow servers, large hierarchies
	p.Resend.MaxRequestTimeout = 5 * time.Minute
	p.RetryAfterCap = time.Hour                                    // honour the server's request to wait
	p.ResetGuard = ResetGuard{MaxResets: 3, Window: 6 * time.Hour} // resets are heavy; count them over longer
	p.UnknownStatusRetries = 3
	return p
}

// Default returns the default policy; it equals Preset("default").
func Default() Policy { return defaultPolicy() }

// Presets returns the names of the built-in presets, in a stable order.
func Presets() []string {
	names := make([]string, len(presets))
	for i, pr := range presets {
		names[i] = pr.name
	}
	return names
}

// Preset returns the named built-in policy: "default", "interactive" or
// "background". An unknown name is an error that lists the names.
func Preset(name string) (Policy, error) {
	for _, pr := range presets {
		if pr.name == name {
			return pr.p(), nil
		}
	}
	names := Presets()
	sort.Strings(names)
	return Policy{}, fmt.Errorf("policy: unknown preset %q; use one of %s", name, strings.Join(names, ", "))
}
