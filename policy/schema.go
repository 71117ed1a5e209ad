package policy

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// The schema below is the single description of the policy file format. The
// file walker (Parse), the range checks of Validate, the commented YAML writer
// and schema.json are all derived from it.

type kind int

const (
	kindObject    kind = iota // nested mapping of fields
	kindDuration              // time.Duration written as "1.5s"
	kindInt                   // int
	kindInt64                 // int64
	kindFloat                 // float64
	kindBool                  // bool
	kindString                // string
	kindOverrides             // map[string]Override
)

// field describes one key of the file format.
type field struct {
	key      string
	kind     kind
	doc      string            // comment in YAML() and description in schema.json
	ptr      func(*Policy) any // pointer to the value (nil for objects and preset)
	children []*field          // kindObject
	min, max *float64          // range for numbers; for durations in nanoseconds
	exclMin  bool              // min itself is not allowed
	advice   string            // what to do when out of range
	enum     func() []string   // allowed strings
	example  string            // example value used in type errors
	noWrite  bool              // read-only key (preset): not written by YAML()
}

func fl(f float64) *float64 { return &f }

// override fields are described separately: they live in a map value, not in Policy.
var overrideFields = []*field{
	{key: "retry", kind: kindBool, doc: "false: stop retrying this status; the first occurrence fails the session."},
	{key: "max_retries", kind: kindInt, doc: "retry cap for this status, replacing the policy-wide cap.",
		min: fl(0), advice: "use 0 for no retries or a small count like 3"},
	{key: "initial", kind: kindDuration, doc: "first delay for this status, replacing backoff.initial.",
		min: fl(0), exclMin: true, advice: "use a positive duration like 5s"},
	{key: "fatal", kind: kindBool, doc: "true: fail the session at once on this status."},
}

var schema = &field{kind: kindObject, children: []*field{
	{key: "preset", kind: kindString, noWrite: true, enum: Presets, example: "interactive",
		doc: "built-in policy the file starts from; keys in the file override it. Default: default."},
	{key: "name", kind: kindString, ptr: func(p *Policy) any { return &p.Name },
		doc: "informational: the preset or file the policy came from."},
	{key: "backoff", kind: kindObject, doc: "delay between retries: min(max_interval, initial*multiplier^(n-1)) times a jitter factor in [1-jitter, 1+jitter].",
		children: []*field{
			{key: "initial", kind: kindDuration, ptr: func(p *Policy) any { return &p.Backoff.Initial },
				doc: "delay before the first retry. Default 1s: a momentary overload passes, a user barely notices.",
				min: fl(0), exclMin: true, advice: "a zero first delay retries at once and hammers a struggling server; use a positive duration like 1s"},
			{key: "multiplier", kind: kindFloat, ptr: func(p *Policy) any { return &p.Backoff.Multiplier },
				doc: "growth of the delay per retry. Default 2: doubling backs off a struggling server quickly.",
				min: fl(1), advice: "a multiplier below 1 would shrink the delay; use 1 for a constant delay or more to grow it"},
			{key: "max_interval", kind: kindDuration, ptr: func(p *Policy) any { return &p.Backoff.MaxInterval },
				doc: "cap on one delay before jitter. Default 5m: waiting longer tells the session nothing new.",
				min: fl(0), advice: "use a positive duration like 5m"},
			{key: "max_elapsed", kind: kindDuration, ptr: func(p *Policy) any { return &p.Backoff.MaxElapsed },
				doc: "total of all delays in one session; 0s means no limit. Default 15m: a FolderSync not recovered in a quarter hour should report.",
				min: fl(0), advice: "use 0s for no limit or a duration like 15m"},
			{key: "jitter", kind: kindFloat, ptr: func(p *Policy) any { return &p.Backoff.Jitter },
				doc: "fraction 0..1 each delay is spread by. Default 0.2: keeps devices from retrying in lockstep after an outage.",
				min: fl(0), max: fl(1), advice: "use a fraction from 0 (no jitter) to 1, like 0.2"},
		}},
	{key: "max_attempts", kind: kindInt, ptr: func(p *Policy) any { return &p.MaxAttempts },
		doc: "FolderSync requests per session, counting resends and the reset request. Default 10: a session that cannot finish in 10 round trips is broken, not unlucky.",
		min: fl(1), advice: "a session needs at least its first request; use a count like 10"},
	{key: "transient_before_reset", kind: kindInt, ptr: func(p *Policy) any { return &p.TransientBeforeReset },
		doc: "consecutive transient failures (Status 6, 8, 11; common 111, 114, 133, 162, 169; HTTP 500, 502; a 503 has its own streak) before returning to SyncKey 0, per MS-ASCMD 2.2.3.177.5. Default 3: one failure is noise, three a pattern.",
		min: fl(1), advice: "use a count like 3, or max_attempts or more to never reset on transient failures"},
	{key: "resend", kind: kindObject, doc: "resending the identical request after a timeout or lost response (DESIGN rule 3).",
		children: []*field{
			{key: "max_resends", kind: kindInt, ptr: func(p *Policy) any { return &p.Resend.MaxResends },
				doc: "resends of the identical request. Default 3: resends are safe, but three silent answers mean the link is down.",
				min: fl(0), advice: "use 0 to never resend or a count like 3"},
			{key: "request_timeout", kind: kindDuration, ptr: func(p *Policy) any { return &p.Resend.RequestTimeout },
				doc: "timeout of the first request. Default 30s: a SyncKey-0 FolderSync of a large mailbox takes seconds.",
				min: fl(0), exclMin: true, advice: "a request needs time to complete; use a duration like 30s"},
			{key: "timeout_growth", kind: kindFloat, ptr: func(p *Policy) any { return &p.Resend.TimeoutGrowth },
				doc: "multiplier applied to the timeout per resend. Default 1.5: a slow server gets more time without doubling.",
				min: fl(1), advice: "a growth below 1 would shorten the timeout on every resend; use 1 to keep it or more to grow it"},
			{key: "max_request_timeout", kind: kindDuration, ptr: func(p *Policy) any { return &p.Resend.MaxRequestTimeout },
				doc: "cap on the grown timeout. Default 2m: longer than any healthy FolderSync, shorter than common proxy limits.",
				min: fl(0), exclMin: true, advice: "use a duration like 2m"},
		}},
	{key: "retry_after_cap", kind: kindDuration, ptr: func(p *Policy) any { return &p.RetryAfterCap },
		doc: "longest Retry-After the session will wait; a longer one fails the session with a reason. 0s: never wait. Default 10m: an hour means come back later, which a scheduler does better.",
		min: fl(0), advice: "use 0s to never wait or a duration like 10m"},
	{key: "reset_guard", kind: kindObject, doc: "loop guard on returns to SyncKey 0 (DESIGN rule 5): more than max_resets resets inside window fail the session.",
		children: []*field{
			{key: "max_resets", kind: kindInt, ptr: func(p *Policy) any { return &p.ResetGuard.MaxResets },
				doc: "resets allowed inside the window (K). Default 3: a server that answers every resync with Status 9 is in a loop.",
				min: fl(0), advice: "use 0 to forbid resets or a count like 3"},
			{key: "window", kind: kindDuration, ptr: func(p *Policy) any { return &p.ResetGuard.Window },
				doc: "sliding window the resets are counted in. Default 1h: catches a slow loop, forgives a bad day.",
				min: fl(0), exclMin: true, advice: "the guard counts resets inside a window; use a duration like 1h"},
		}},
	{key: "unknown_status_retries", kind: kindInt, ptr: func(p *Policy) any { return &p.UnknownStatusRetries },
		doc: "tighter retry cap for Status 12 and unknown codes. Default 2: an unknown code rarely heals, but deserves a second look.",
		min: fl(0), advice: "use 0 to fail at once or a small count like 2"},
	{key: "verify_after_lost_response", kind: kindBool, ptr: func(p *Policy) any { return &p.VerifyAfterLostResponse },
		doc: "verify the first Status 1 answer after a lost response with one full SyncKey-0 FolderSync (DESIGN rule 3): servers that never compare keys (SOGo) answer without the lost changes. Default true: one request prevents a silently missing folder."},
	{key: "overrides", kind: kindOverrides, ptr: func(p *Policy) any { return &p.Overrides },
		doc:      "per-status retry tuning keyed \"kind:code\" (foldersync, legacy, common, http), e.g. \"http:503\": {max_retries: 5}. The transitions table decides what a status means; overrides only tune retry budgets.",
		children: overrideFields},
	{key: "seed", kind: kindInt64, ptr: func(p *Policy) any { return &p.Seed },
		doc: "seed of the deterministic jitter: same seed, same delays, replayable audits. Default 1."},
}}

// child returns the child field with the given key.
func (f *field) child(key string) *field {
	for _, c := range f.children {
		if c.key == key {
			return c
		}
	}
	return nil
}

// walkFields calls fn for every leaf field with its dotted path.
func walkFields(f *field, prefix string, fn func(path string, f *field)) {
	for _, c := range f.children {
		path := c.key
		if prefix != "" {
			path = prefix + "." + c.key
		}
		if c.kind == kindObject {
			walkFields(c, path, fn)
			continue
		}
		fn(path, c)
	}
}

// numeric returns the value of a number or duration field as float64, and
// its text as written in files.
func numeric(f *field, v any) (float64, string, bool) {
	switch x := v.(type) {
	case *time.Duration:
		return float64(*x), FormatDuration(*x), true
	case *int:
		return float64(*x), strconv.Itoa(*x), true
	case *int64:
		return float64(*x), strconv.FormatInt(*x, 10), true
	case *float64:
		return *x, formatFloat(*x), true
	}
	return 0, "", false
}

// checkRange applies the field's range to a value; it returns "" when the
// value is in range.
func (f *field) checkRange(v any) string {
	x, text, ok := numeric(f, v)
	if !ok {
		return ""
	}
	bound := func(b float64) string {
		if f.kind == kindDuration {
			return FormatDuration(time.Duration(b))
		}
		return formatFloat(b)
	}
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return text + " is not a finite number: " + f.advice
	case f.min != nil && *f.min == 0 && x < 0:
		return text + " is negative: " + f.advice
	case f.min != nil && f.exclMin && x <= *f.min:
		return text + " is not more than " + bound(*f.min) + ": " + f.advice
	case f.min != nil && x < *f.min:
		return text + " is less than " + bound(*f.min) + ": " + f.advice
	case f.max != nil && x > *f.max:
		return text + " is more than " + bound(*f.max) + ": " + f.advice
	}
	return ""
}

// formatDuration writes a duration the way people write it: "1m" rather
// than "1m0s". The result parses back with time.ParseDuration exactly.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
