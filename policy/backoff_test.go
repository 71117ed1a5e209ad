package policy

import (
	"errors"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackOffStopsAtMaxElapsed(t *testing.T) {
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			p, _ := Preset(name)
			var b backoff.BackOff = p.NewBackOff()
			var sum time.Duration
			n := 0
			for {
				d := b.NextBackOff()
				if d == backoff.Stop {
					break
				}
				n++
				require.Equal(t, p.Delay(n), d, "attempt %d", n)
				sum += d
				require.LessOrEqual(t, sum, p.Backoff.MaxElapsed)
				require.Less(t, n, 10000)
			}
			assert.Greater(t, sum+p.Delay(n+1), p.Backoff.MaxElapsed, "stopped only when the next delay would not fit")
			assert.Equal(t, backoff.Stop, b.NextBackOff(), "stays stopped")
			assert.Equal(t, n, b.(*BackOff).Attempt())
			assert.Equal(t, sum, b.(*BackOff).Elapsed())

			b.Reset()
			assert.Equal(t, 0, b.(*BackOff).Attempt())
			for i := 1; i <= n; i++ {
				assert.Equal(t, p.Delay(i), b.NextBackOff(), "after Reset, attempt %d", i)
			}
			assert.Equal(t, backoff.Stop, b.NextBackOff())
		})
	}
}

func TestBackOffNoLimit(t *testing.T) {
	p := Default()
	p.Backoff.MaxElapsed = 0
	b := p.NewBackOff()
	for i := 1; i <= 10000; i++ {
		require.Equal(t, p.Delay(i), b.NextBackOff())
	}
	p.Backoff.Initial = 1 << 62
	p.Backoff.MaxInterval = 1 << 62
	b = p.NewBackOff()
	for i := 0; i < 10; i++ {
		require.GreaterOrEqual(t, b.NextBackOff(), time.Duration(0))
		require.GreaterOrEqual(t, b.Elapsed(), time.Duration(0), "elapsed saturates")
	}
}

func TestBackOffFirstDelayTooLong(t *testing.T) {
	p := Default()
	p.Backoff.MaxElapsed = p.Backoff.Initial // jitter may push the first delay above it
	p.Seed = 3
	b := p.NewBackOff()
	d := b.NextBackOff()
	if p.Delay(1) > p.Backoff.MaxElapsed {
		assert.Equal(t, backoff.Stop, d)
	} else {
		assert.Equal(t, p.Delay(1), d)
	}
}

func TestBackOffWithRetry(t *testing.T) {
	// The policy's BackOff plugs into backoff.RetryNotify; a fake sleep
	// records the delays and an instant timer makes the test take no time.
	p := Default()
	p.Backoff.MaxElapsed = 10 * time.Second
	var slept []time.Duration
	calls := 0
	err := backoff.RetryNotifyWithTimer(func() error {
		calls++
		return errors.New("status 6")
	}, p.NewBackOff(), func(_ error, d time.Duration) { slept = append(slept, d) }, &instantTimer{})
	require.Error(t, err)
	assert.Equal(t, len(slept)+1, calls)
	require.NotEmpty(t, slept)
	for i, d := range slept {
		assert.Equal(t, p.Delay(i+1), d)
	}
}

func TestNewBackOffDoesNotShareOverrides(t *testing.T) {
	p := Default()
	p.Overrides = map[string]Override{"http:503": {Retry: ptr(true)}}
	b := p.NewBackOff()
	assert.Nil(t, b.p.Overrides)
	assert.NotNil(t, p.Overrides)
}

// instantTimer is a backoff.Timer that fires at once.
type instantTimer struct{ c chan time.Time }

func (t *instantTimer) Start(time.Duration) {
	t.c = make(chan time.Time, 1)
	t.c <- time.Time{}
}
func (t *instantTimer) Stop()               {}
func (t *instantTimer) C() <-chan time.Time { return t.c }
