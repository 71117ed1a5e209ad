package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ConfigError is a mistake in a policy: a syntax error, an unknown key, a
// value of the wrong type, a duplicate key or an impossible value. File, Line
// and Column locate it in the file when it came from one (they are empty for
// [Policy.Validate] on a policy built in code); Field is the dotted key, such
// as "backoff.multiplier"; Msg says what is wrong and what to do.
type ConfigError struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string

	// alt is the other field of a rule relating two fields, and altMsg the
	// message as seen from it; Parse reports the error at alt when Field
	// itself was not written in the file.
	alt, altMsg string
}

// Error reads like "policy.yaml:7:3: backoff.multiplier: 0.5 is less than 1:
// ...". Parts that are unknown are left out.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Validate reports the first impossible value in the policy, in file order,
// as a *ConfigError naming the field and saying what to do: negative or zero
// durations where a positive one is needed, Multiplier or TimeoutGrowth
// below 1, Jitter outside [0, 1], MaxInterval below Initial, MaxElapsed
// below Initial, MaxRequestTimeout below RequestTimeout, counts below their
// minimum (MaxAttempts and TransientBeforeReset at least 1), a zero reset
// window, and malformed or contradictory overrides. It returns nil for a
// usable policy.
func (p Policy) Validate() error {
	var err *ConfigError
	walkFields(schema, "", func(path string, f *field) {
		if err != nil || f.ptr == nil {
			return
		}
		if msg := f.checkRange(f.ptr(&p)); msg != "" {
			err = &ConfigError{Field: path, Msg: msg}
			return
		}
		if e := p.crossCheck(path); e != nil {
			err = e
		}
	})
	if err != nil {
		return err
	}
	return nil
}

// crossCheck applies the rules that relate two fields; it runs right after
// the range check of the field at path.
func (p Policy) crossCheck(path string) *ConfigError {
	b, r := p.Backoff, p.Resend
	switch path {
	case "backoff.max_interval":
		if b.MaxInterval < b.Initial {
			return orderError(path, b.MaxInterval, "backoff.initial", b.Initial, "the cap would cut even the first delay",
				"raise backoff.max_interval or lower backoff.initial", "lower backoff.initial or raise backoff.max_interval")
		}
	case "backoff.max_elapsed":
		if b.MaxElapsed > 0 && b.MaxElapsed < b.Initial {
			return orderError(path, b.MaxElapsed, "backoff.initial", b.Initial, "the session would give up before its first retry",
				"use 0s for no limit or at least backoff.initial", "lower backoff.initial or raise backoff.max_elapsed")
		}
	case "resend.max_request_timeout":
		if r.MaxRequestTimeout < r.RequestTimeout {
			return orderError(path, r.MaxRequestTimeout, "resend.request_timeout", r.RequestTimeout, "the cap would cut even the first request",
				"raise resend.max_request_timeout or lower resend.request_timeout", "lower resend.request_timeout or raise resend.max_request_timeout")
		}
	case "overrides":
		keys := make([]string, 0, len(p.Overrides))
		for k := range p.Overrides {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if e := validateOverride(k, p.Overrides[k]); e != nil {
				return e
			}
		}
	}
	return nil
}

// validateOverride checks one override; the error's Field is
// "overrides.<key>" or "overrides.<key>.<field>".
func validateOverride(key string, o Override) *ConfigError {
	at := "overrides." + key
	if _, _, err := ParseOverrideKey(key); err != nil {
		return &ConfigError{Field: "overrides", Msg: "key " + err.Error()}
	}
	if o.Retry == nil && o.MaxRetries == nil && o.Initial == nil && o.Fatal == nil {
		return &ConfigError{Field: at, Msg: "sets nothing; set retry, max_retries, initial or fatal, or remove it"}
	}
	if o.MaxRetries != nil {
		if msg := overrideFields[1].checkRange(o.MaxRetries); msg != "" {
			return &ConfigError{Field: at + ".max_retries", Msg: msg}
		}
	}
	if o.Initial != nil {
		if msg := overrideFields[2].checkRange(o.Initial); msg != "" {
			return &ConfigError{Field: at + ".initial", Msg: msg}
		}
	}
	fatal := o.Fatal != nil && *o.Fatal
	switch {
	case fatal && o.Retry != nil && *o.Retry:
		return &ConfigError{Field: at + ".fatal", Msg: "true contradicts retry: true; a fatal status is never retried, so remove one of them"}
	case fatal && (o.MaxRetries != nil || o.Initial != nil):
		return &ConfigError{Field: at + ".fatal", Msg: "true makes max_retries and initial meaningless; remove them or set fatal: false"}
	case o.Retry != nil && !*o.Retry && o.MaxRetries != nil && *o.MaxRetries > 0:
		return &ConfigError{Field: at + ".max_retries", Msg: fmt.Sprintf("%d contradicts retry: false; remove one of them", *o.MaxRetries)}
	}
	return nil
}

// orderError reports a cap (path, value capVal) below the value it caps (alt, low),
// from either side: at the cap when the file sets it, at alt when only that is set.
// why says what would go wrong; fixCap and fixLow say what to do from each side.
func orderError(path string, capVal time.Duration, alt string, low time.Duration, why, fixCap, fixLow string) *ConfigError {
	return &ConfigError{Field: path, alt: alt,
		Msg:    fmt.Sprintf("%s is less than %s (%s): %s; %s", FormatDuration(capVal), alt, FormatDuration(low), why, fixCap),
		altMsg: fmt.Sprintf("%s is more than %s (%s): %s; %s", FormatDuration(low), path, FormatDuration(capVal), why, fixLow)}
}
