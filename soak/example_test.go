package soak_test

import (
	"context"
	"fmt"

	"github.com/easkit/foldersync/soak"
	"github.com/easkit/foldersync/transport/sim"
)

// A small campaign: 20 accounts of 5 sessions against a SOGo-like server, a fifth
// of the requests meeting a fault from the full menu, the server's folders changing
// between sessions. Every session is checked; violations would be listed with their
// audit logs.
func ExampleRun() {
	sum, err := soak.Run(context.Background(), soak.Config{
		Profiles:  []sim.Profile{sim.Lenient},
		Seeds:     20,
		Sessions:  5,
		FaultRate: 0.2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := sum.Profiles[0]
	fmt.Printf("%s: %d sessions, %d violations\n", p.Profile, p.Sessions, sum.TotalViolations())
	// Output:
	// lenient: 100 sessions, 0 violations
}
