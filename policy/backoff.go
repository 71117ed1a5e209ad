package policy

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

var _ backoff.BackOff = (*BackOff)(nil)

// BackOff is a deterministic [backoff.BackOff] built from a [Policy]: the
// n-th call to NextBackOff returns p.Delay(n). It returns [backoff.Stop] once
// the sum of the delays it has returned would exceed Backoff.MaxElapsed (when
// MaxElapsed > 0), and keeps returning Stop until Reset.
//
// It reads no clock: "elapsed" is the sum of the delays the policy chose, not
// wall time, so a session driven by an injected clock, and a replay of its
// audit log, see exactly the same sequence. It does not stop at MaxAttempts;
// the session machine counts requests (wrap it in backoff.WithMaxRetries if
// you use it on its own).
//
// A BackOff is not safe for concurrent use.
type BackOff struct {
	p       Policy
	attempt int
	elapsed time.Duration
	stopped bool
}

// NewBackOff returns a fresh BackOff for the policy.
func (p Policy) NewBackOff() *BackOff {
	p.Overrides = nil // not used; do not share the map
	return &BackOff{p: p}
}

// NextBackOff returns the delay before the next retry, or backoff.Stop when
// the MaxElapsed budget is spent.
func (b *BackOff) NextBackOff() time.Duration {
	if b.stopped {
		return backoff.Stop
	}
	next := b.attempt + 1
	d := b.p.Delay(next)
	if limit := b.p.Backoff.MaxElapsed; limit > 0 && (d > limit || b.elapsed > limit-d) {
		b.stopped = true
		return backoff.Stop
	}
	b.attempt = next
	b.elapsed = addSat(b.elapsed, d)
	return d
}

// Reset restarts the sequence at attempt 1 with nothing elapsed.
func (b *BackOff) Reset() {
	b.attempt, b.elapsed, b.stopped = 0, 0, false
}

// Attempt is the number of delays returned since the last Reset.
func (b *BackOff) Attempt() int { return b.attempt }

// Elapsed is the sum of the delays returned since the last Reset.
func (b *BackOff) Elapsed() time.Duration { return b.elapsed }

func addSat(a, b time.Duration) time.Duration {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}
