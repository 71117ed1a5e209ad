package machine_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// Every transition is an audit record carrying its stimulus (DESIGN rule 8), so an
// audit log replays under the policy that wrote it, with no server, store or clock.
// Under another policy, Replay names the first record it derives differently.
func ExampleReplay() {
	pol := policy.Default()
	var log bytes.Buffer // an audit file in a real client
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	sess, _ := machine.New(machine.Config{
		// A lost response, then Status 6 twice, then Status 9.
		Transport: faults.Wrap(server, faults.Sequence(faults.ResponseLost, faults.Status(6), faults.Status(6), faults.Status(9))),
		Store:     hierarchy.NewMemoryStore(),
		Policy:    pol,
		Clock:     machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)),
		SessionID: "s1",
		Audit:     machine.NewJSONLines(&log),
	})
	if _, err := sess.Sync(context.Background()); err != nil {
		fmt.Println(err)
		return
	}

	records, err := machine.ReadRecords(&log)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range records {
		fmt.Printf("%d %s -%s-> %s", r.Seq, r.From, r.Event, r.To)
		if r.Delay > 0 {
			fmt.Print(", wait ", time.Duration(r.Delay).Round(time.Millisecond))
		}
		fmt.Println()
	}
	for _, session := range machine.SplitSessions(records) {
		if d := machine.Replay(session, pol); d == nil {
			fmt.Println("same policy: replays identically")
		}

		other := pol
		other.Seed = 2 // other jitter, other delays
		if d := machine.Replay(session, other); d != nil {
			fmt.Println("other seed:", d)
		}
	}
	// Output:
	// 1 idle -start-> awaiting
	// 2 awaiting -lost-> retrying
	// 3 retrying -backoff_elapsed-> awaiting
	// 4 awaiting -transient-> retrying, wait 1.166s
	// 5 retrying -backoff_elapsed-> awaiting
	// 6 awaiting -transient-> retrying, wait 2.19s
	// 7 retrying -backoff_elapsed-> awaiting
	// 8 awaiting -key_mismatch-> resetting
	// 9 resetting -reset_sent-> awaiting
	// 10 awaiting -success-> synced
	// same policy: replays identically
	// other seed: replay diverges at record 3 (seq 4): delay recorded 1.165608985s, replayed 1.150670248s
}
