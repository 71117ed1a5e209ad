package policy

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPresetsValidate(t *testing.T) {
	require.Equal(t, []string{"default", "interactive", "background"}, Presets())
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			p, err := Preset(name)
			require.NoError(t, err)
			assert.Equal(t, name, p.Name)
			assert.NoError(t, p.Validate())
		})
	}
	d, err := Preset("default")
	require.NoError(t, err)
	assert.Equal(t, Default(), d)
}

func TestPresetUnknown(t *testing.T) {
	_, err := Preset("fast")
	require.EqualError(t, err, `policy: unknown preset "fast"; use one of background, default, interactive`)
}

func TestDefaultValues(t *testing.T) {
	p := Default()
	assert.Equal(t, time.Second, p.Backoff.Initial)
	assert.Equal(t, 2.0, p.Backoff.Multiplier)
	assert.Equal(t, 5*time.Minute, p.Backoff.MaxInterval)
	assert.Equal(t, 15*time.Minute, p.Backoff.MaxElapsed)
	assert.Equal(t, 0.2, p.Backoff.Jitter)
	assert.Equal(t, 10, p.MaxAttempts)
	assert.Equal(t, 3, p.TransientBeforeReset)
	assert.Equal(t, ResendPolicy{MaxResends: 3, RequestTimeout: 30 * time.Second, TimeoutGrowth: 1.5, MaxRequestTimeout: 2 * time.Minute}, p.Resend)
	assert.Equal(t, 10*time.Minute, p.RetryAfterCap)
	assert.Equal(t, ResetGuard{MaxResets: 3, Window: time.Hour}, p.ResetGuard)
	assert.Equal(t, 2, p.UnknownStatusRetries)
	assert.True(t, p.VerifyAfterLostResponse)
	assert.Nil(t, p.Overrides)
	assert.Equal(t, int64(1), p.Seed)

	in, _ := Preset("interactive")
	assert.Equal(t, 500*time.Millisecond, in.Backoff.Initial)
	assert.Equal(t, time.Minute, in.Backoff.MaxElapsed)
	assert.Equal(t, 30*time.Second, in.Resend.MaxRequestTimeout)
	bg, _ := Preset("background")
	assert.Equal(t, time.Hour, bg.Backoff.MaxElapsed)
	assert.Equal(t, 15*time.Minute, bg.Backoff.MaxInterval)
}

func TestDelayDeterministic(t *testing.T) {
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			p, _ := Preset(name)
			q, _ := Preset(name) // an independent copy
			other := p
			other.Seed = 2
			differ := 0
			for n := 1; n <= 1000; n++ {
				d := p.Delay(n)
				require.Equal(t, d, q.Delay(n), "attempt %d", n)
				require.Equal(t, d, p.Delay(n), "attempt %d, second call", n)
				if other.Delay(n) != d {
					differ++
				}
				lo := time.Duration(float64(p.Backoff.Initial) * (1 - p.Backoff.Jitter))
				hi := time.Duration(float64(p.Backoff.MaxInterval) * (1 + p.Backoff.Jitter))
				require.GreaterOrEqual(t, d, lo, "attempt %d", n)
				require.LessOrEqual(t, d, hi, "attempt %d", n)
			}
			assert.Greater(t, differ, 990, "seeds 1 and 2 should give different delays almost everywhere")
		})
	}
}

// A fixed sequence: if this changes, every recorded audit log changes.
func TestDelayPinned(t *testing.T) {
	p := Default()
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, p.Delay(n))
	}
	want := []time.Duration{1165608985, 2190159402, 4042748792, 9186924150, 17231651743}
	assert.Equal(t, want, got)
	for i, d := range got {
		base := time.Second << i
		assert.InDelta(t, float64(base), float64(d), float64(base)*0.2+1, "attempt %d", i+1)
	}
	assert.Equal(t, p.Delay(1), p.Delay(0), "attempt below 1 counts as 1")
	assert.Equal(t, p.Delay(1), p.Delay(-5))
}

func TestDelayMonotoneBeforeJitter(t *testing.T) {
	for _, m := range []float64{1, 1.0001, 1.1, 1.5, 2, 3, 10, 1e6} {
		p := Default()
		p.Backoff.Multiplier = m
		prev := time.Duration(0)
		for n := 1; n <= 1000; n++ {
			b := p.baseDelay(n)
			require.GreaterOrEqual(t, b, prev, "multiplier %v attempt %d", m, n)
			require.LessOrEqual(t, b, p.Backoff.MaxInterval)
			prev = b
		}
		assert.Equal(t, p.Backoff.Initial, p.baseDelay(1))
	}
	p := Default()
	p.Backoff.Jitter = 0
	for n := 1; n <= 20; n++ {
		assert.Equal(t, p.baseDelay(n), p.Delay(n), "no jitter: delay is the base delay")
	}
	assert.Equal(t, 4*time.Second, p.Delay(3))
	assert.Equal(t, 5*time.Minute, p.Delay(10))
}

func TestJitterSpread(t *testing.T) {
	// The factors of 10,000 attempts fill [1-j, 1+j] evenly: each tenth of
	// the range gets 8-12% of them.
	const j, n = 0.2, 10000
	var buckets [10]int
	for a := 1; a <= n; a++ {
		f := jitterFactor(1, a, j)
		require.GreaterOrEqual(t, f, 1-j)
		require.Less(t, f, 1+j)
		buckets[int((f-(1-j))/(2*j)*10)]++
	}
	for i, c := range buckets {
		assert.InDelta(t, n/10, c, n/50, "bucket %d", i)
	}
	assert.Equal(t, 1.0, jitterFactor(99, 3, 0))
}

func TestDelaySaturates(t *testing.T) {
	p := Default()
	p.Backoff.Initial = time.Duration(math.MaxInt64)
	p.Backoff.MaxInterval = time.Duration(math.MaxInt64)
	p.Backoff.Jitter = 1
	for n := 1; n < 100; n++ {
		assert.GreaterOrEqual(t, p.Delay(n), time.Duration(0))
	}
}

func TestRequestTimeout(t *testing.T) {
	p := Default()
	tests := []struct {
		resend int
		want   time.Duration
	}{
		{-1, 30 * time.Second},
		{0, 30 * time.Second},
		{1, 45 * time.Second},
		{2, 67500 * time.Millisecond},
		{3, 101250 * time.Millisecond},
		{4, 2 * time.Minute}, // 151.875s capped
		{100, 2 * time.Minute},
		{1 << 40, 2 * time.Minute},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.RequestTimeout(tt.resend), "resend %d", tt.resend)
	}
	p.Resend.TimeoutGrowth = 1
	assert.Equal(t, 30*time.Second, p.RequestTimeout(10))
}

func TestResetGuard(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	g := ResetGuard{MaxResets: 3, Window: time.Hour}
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name   string
		resets []time.Time
		want   bool
	}{
		{"first reset", nil, false},
		{"third reset", []time.Time{ago(time.Minute), ago(2 * time.Minute)}, false},
		{"fourth reset inside window", []time.Time{ago(time.Minute), ago(2 * time.Minute), ago(59 * time.Minute)}, true},
		{"old resets do not count", []time.Time{ago(time.Minute), ago(2 * time.Minute), ago(time.Hour), ago(2 * time.Hour)}, false},
		{"future resets do not count", []time.Time{now.Add(time.Minute), ago(1), ago(2)}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, g.Exceeded(tt.resets, now), tt.name)
	}
	assert.True(t, ResetGuard{MaxResets: 0, Window: time.Hour}.Exceeded(nil, now), "K=0 forbids resets")
}

func TestRetryAfterAllowed(t *testing.T) {
	p := Default()
	assert.True(t, p.RetryAfterAllowed(0))
	assert.True(t, p.RetryAfterAllowed(10*time.Minute))
	assert.False(t, p.RetryAfterAllowed(10*time.Minute+1))
	assert.False(t, p.RetryAfterAllowed(-time.Second))
}

func TestOverrideKeys(t *testing.T) {
	tests := []struct {
		key  string
		kind string
		code int
		err  string
	}{
		{"http:503", KindHTTP, 503, ""},
		{"foldersync:6", KindFolderSync, 6, ""},
		{"common:111", KindCommon, 111, ""},
		{"legacy:8", KindLegacy, 8, ""},
		{"http:999", KindHTTP, 999, ""},
		{"http503", "", 0, `"http503" is not kind:code; write it like "http:503" or "foldersync:6"`},
		{"smtp:25", "", 0, `"smtp:25" has unknown kind "smtp"; use one of foldersync, legacy, common, http`},
		{"HTTP:503", "", 0, `"HTTP:503" has unknown kind "HTTP"; use one of foldersync, legacy, common, http`},
		{"http:0", "", 0, `"http:0" has code "0"; use a status code from 1 to 999, like "http:503"`},
		{"http:1000", "", 0, `"http:1000" has code "1000"; use a status code from 1 to 999, like "http:503"`},
		{"http:0503", "", 0, `"http:0503" has code "0503"; use a status code from 1 to 999, like "http:503"`},
		{"http:+5", "", 0, `"http:+5" has code "+5"; use a status code from 1 to 999, like "http:503"`},
		{"http:", "", 0, `"http:" has code ""; use a status code from 1 to 999, like "http:503"`},
	}
	for _, tt := range tests {
		kind, code, err := ParseOverrideKey(tt.key)
		if tt.err != "" {
			assert.EqualError(t, err, tt.err, tt.key)
			continue
		}
		require.NoError(t, err, tt.key)
		assert.Equal(t, tt.kind, kind)
		assert.Equal(t, tt.code, code)
		assert.Equal(t, tt.key, OverrideKey(kind, code))
	}

	p := Default()
	five := 5
	p.Overrides = map[string]Override{"http:503": {MaxRetries: &five}}
	o, ok := p.Override(KindHTTP, 503)
	require.True(t, ok)
	assert.Equal(t, 5, *o.MaxRetries)
	_, ok = p.Override(KindHTTP, 500)
	assert.False(t, ok)
}

func ptr[T any](v T) *T { return &v }

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *Policy)
		field string
		msg   string
	}{
		{"initial negative", func(p *Policy) { p.Backoff.Initial = -time.Second }, "backoff.initial",
			"-1s is negative: a zero first delay retries at once and hammers a struggling server; use a positive duration like 1s"},
		{"initial zero", func(p *Policy) { p.Backoff.Initial = 0 }, "backoff.initial",
			"0s is not more than 0s: a zero first delay retries at once and hammers a struggling server; use a positive duration like 1s"},
		{"multiplier below 1", func(p *Policy) { p.Backoff.Multiplier = 0.5 }, "backoff.multiplier",
			"0.5 is less than 1: a multiplier below 1 would shrink the delay; use 1 for a constant delay or more to grow it"},
		{"multiplier NaN", func(p *Policy) { p.Backoff.Multiplier = math.NaN() }, "backoff.multiplier",
			"NaN is not a finite number: a multiplier below 1 would shrink the delay; use 1 for a constant delay or more to grow it"},
		{"multiplier Inf", func(p *Policy) { p.Backoff.Multiplier = math.Inf(1) }, "backoff.multiplier",
			"+Inf is not a finite number: a multiplier below 1 would shrink the delay; use 1 for a constant delay or more to grow it"},
		{"max interval negative", func(p *Policy) { p.Backoff.MaxInterval = -time.Minute }, "backoff.max_interval",
			"-1m is negative: use a positive duration like 5m"},
		{"max interval below initial", func(p *Policy) { p.Backoff.MaxInterval = 500 * time.Millisecond }, "backoff.max_interval",
			"500ms is less than backoff.initial (1s): the cap would cut even the first delay; raise backoff.max_interval or lower backoff.initial"},
		{"max elapsed negative", func(p *Policy) { p.Backoff.MaxElapsed = -1 }, "backoff.max_elapsed",
			"-1ns is negative: use 0s for no limit or a duration like 15m"},
		{"max elapsed below initial", func(p *Policy) { p.Backoff.MaxElapsed = time.Millisecond }, "backoff.max_elapsed",
			"1ms is less than backoff.initial (1s): the session would give up before its first retry; use 0s for no limit or at least backoff.initial"},
		{"jitter negative", func(p *Policy) { p.Backoff.Jitter = -0.1 }, "backoff.jitter",
			"-0.1 is negative: use a fraction from 0 (no jitter) to 1, like 0.2"},
		{"jitter above 1", func(p *Policy) { p.Backoff.Jitter = 1.5 }, "backoff.jitter",
			"1.5 is more than 1: use a fraction from 0 (no jitter) to 1, like 0.2"},
		{"max attempts zero", func(p *Policy) { p.MaxAttempts = 0 }, "max_attempts",
			"0 is less than 1: a session needs at least its first request; use a count like 10"},
		{"transient before reset zero", func(p *Policy) { p.TransientBeforeReset = 0 }, "transient_before_reset",
			"0 is less than 1: use a count like 3, or max_attempts or more to never reset on transient failures"},
		{"max resends negative", func(p *Policy) { p.Resend.MaxResends = -1 }, "resend.max_resends",
			"-1 is negative: use 0 to never resend or a count like 3"},
		{"request timeout zero", func(p *Policy) { p.Resend.RequestTimeout = 0 }, "resend.request_timeout",
			"0s is not more than 0s: a request needs time to complete; use a duration like 30s"},
		{"timeout growth below 1", func(p *Policy) { p.Resend.TimeoutGrowth = 0.9 }, "resend.timeout_growth",
			"0.9 is less than 1: a growth below 1 would shorten the timeout on every resend; use 1 to keep it or more to grow it"},
		{"max request timeout below request timeout", func(p *Policy) { p.Resend.MaxRequestTimeout = 10 * time.Second }, "resend.max_request_timeout",
			"10s is less than resend.request_timeout (30s): the cap would cut even the first request; raise resend.max_request_timeout or lower resend.request_timeout"},
		{"retry after cap negative", func(p *Policy) { p.RetryAfterCap = -time.Second }, "retry_after_cap",
			"-1s is negative: use 0s to never wait or a duration like 10m"},
		{"max resets negative", func(p *Policy) { p.ResetGuard.MaxResets = -1 }, "reset_guard.max_resets",
			"-1 is negative: use 0 to forbid resets or a count like 3"},
		{"window zero", func(p *Policy) { p.ResetGuard.Window = 0 }, "reset_guard.window",
			"0s is not more than 0s: the guard counts resets inside a window; use a duration like 1h"},
		{"unknown status retries negative", func(p *Policy) { p.UnknownStatusRetries = -2 }, "unknown_status_retries",
			"-2 is negative: use 0 to fail at once or a small count like 2"},
		{"override key", func(p *Policy) { p.Overrides = map[string]Override{"smtp:1": {Fatal: ptr(true)}} }, "overrides",
			`key "smtp:1" has unknown kind "smtp"; use one of foldersync, legacy, common, http`},
		{"override empty", func(p *Policy) { p.Overrides = map[string]Override{"http:503": {}} }, "overrides.http:503",
			"sets nothing; set retry, max_retries, initial or fatal, or remove it"},
		{"override max retries negative", func(p *Policy) { p.Overrides = map[string]Override{"http:503": {MaxRetries: ptr(-1)}} }, "overrides.http:503.max_retries",
			"-1 is negative: use 0 for no retries or a small count like 3"},
		{"override initial zero", func(p *Policy) { p.Overrides = map[string]Override{"http:503": {Initial: ptr(time.Duration(0))}} }, "overrides.http:503.initial",
			"0s is not more than 0s: use a positive duration like 5s"},
		{"override fatal and retry", func(p *Policy) {
			p.Overrides = map[string]Override{"foldersync:6": {Fatal: ptr(true), Retry: ptr(true)}}
		}, "overrides.foldersync:6.fatal", "true contradicts retry: true; a fatal status is never retried, so remove one of them"},
		{"override fatal with budget", func(p *Policy) {
			p.Overrides = map[string]Override{"foldersync:6": {Fatal: ptr(true), MaxRetries: ptr(2)}}
		}, "overrides.foldersync:6.fatal", "true makes max_retries and initial meaningless; remove them or set fatal: false"},
		{"override no retry with budget", func(p *Policy) {
			p.Overrides = map[string]Override{"common:111": {Retry: ptr(false), MaxRetries: ptr(2)}}
		}, "overrides.common:111.max_retries", "2 contradicts retry: false; remove one of them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Default()
			tt.edit(&p)
			err := p.Validate()
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.Equal(t, tt.msg, ce.Msg)
			assert.Equal(t, tt.field+": "+tt.msg, err.Error())
			assert.Zero(t, ce.Line)
		})
	}

	// Boundaries that are allowed.
	ok := []func(p *Policy){
		func(p *Policy) { p.Backoff.Multiplier = 1 },
		func(p *Policy) { p.Backoff.Jitter = 0 },
		func(p *Policy) { p.Backoff.Jitter = 1 },
		func(p *Policy) { p.Backoff.MaxElapsed = 0 },
		func(p *Policy) { p.Backoff.MaxInterval = p.Backoff.Initial },
		func(p *Policy) { p.MaxAttempts = 1 },
		func(p *Policy) { p.Resend.MaxResends = 0 },
		func(p *Policy) { p.Resend.MaxRequestTimeout = p.Resend.RequestTimeout },
		func(p *Policy) { p.RetryAfterCap = 0 },
		func(p *Policy) { p.ResetGuard.MaxResets = 0 },
		func(p *Policy) { p.UnknownStatusRetries = 0 },
		func(p *Policy) { p.Seed = math.MinInt64 },
		func(p *Policy) {
			p.Overrides = map[string]Override{"foldersync:10": {Fatal: ptr(true)}, "http:503": {Retry: ptr(true), MaxRetries: ptr(0)}}
		},
	}
	for i, edit := range ok {
		p := Default()
		edit(&p)
		assert.NoError(t, p.Validate(), "case %d", i)
	}
}
