package policy_test

import (
	"fmt"

	"github.com/easkit/foldersync/policy"
)

// The presets differ in how hard a session tries before it reports.
func ExamplePresets() {
	for _, name := range policy.Presets() {
		p, _ := policy.Preset(name)
		fmt.Printf("%-11s first retry %-5s attempts %-2d waits at most %s\n", name, p.Backoff.Initial, p.MaxAttempts, p.Backoff.MaxElapsed)
	}
	// Output:
	// default     first retry 1s    attempts 10 waits at most 15m0s
	// interactive first retry 500ms attempts 6  waits at most 1m0s
	// background  first retry 5s    attempts 20 waits at most 1h0m0s
}
