package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/easkit/foldersync/policy"
)

// A cap below the value it caps is reported at whichever of the two the file sets,
// with what goes wrong and what to do from that side.
func TestCapBelowValueMessages(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"backoff: {initial: 20s, max_interval: 10s}", "p.yaml:1:25: backoff.max_interval: 10s is less than backoff.initial (20s): the cap would cut even the first delay; raise backoff.max_interval or lower backoff.initial"},
		{"backoff: {max_interval: 100ms}", "p.yaml:1:11: backoff.max_interval: 100ms is less than backoff.initial (1s): the cap would cut even the first delay; raise backoff.max_interval or lower backoff.initial"},
		{"backoff: {initial: 20m}", "p.yaml:1:11: backoff.initial: 20m is more than backoff.max_interval (5m): the cap would cut even the first delay; lower backoff.initial or raise backoff.max_interval"},
		{"backoff: {initial: 5s, max_elapsed: 1s}", "p.yaml:1:24: backoff.max_elapsed: 1s is less than backoff.initial (5s): the session would give up before its first retry; use 0s for no limit or at least backoff.initial"},
		{"backoff: {max_elapsed: 10ms}", "p.yaml:1:11: backoff.max_elapsed: 10ms is less than backoff.initial (1s): the session would give up before its first retry; use 0s for no limit or at least backoff.initial"},
		{"resend: {request_timeout: 5m, max_request_timeout: 1m}", "p.yaml:1:31: resend.max_request_timeout: 1m is less than resend.request_timeout (5m): the cap would cut even the first request; raise resend.max_request_timeout or lower resend.request_timeout"},
		{"resend: {max_request_timeout: 1s}", "p.yaml:1:10: resend.max_request_timeout: 1s is less than resend.request_timeout (30s): the cap would cut even the first request; raise resend.max_request_timeout or lower resend.request_timeout"},
		{"resend: {request_timeout: 10m}", "p.yaml:1:10: resend.request_timeout: 10m is more than resend.max_request_timeout (2m): the cap would cut even the first request; lower resend.request_timeout or raise resend.max_request_timeout"},
	} {
		_, err := policy.Parse([]byte(c.yaml), "p.yaml")
		assert.EqualError(t, err, c.want, c.yaml)
	}
}
