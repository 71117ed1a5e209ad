package faults_test

import (
	"context"
	"fmt"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// Wrap puts a fault schedule between a client and a transport. With a Sequence the
// n-th call gets the n-th fault: here the first call goes through, the second
// reaches the server but its answer is lost (the server has moved on to key 2),
// the third is answered with Status 6 without reaching the server, and the fourth,
// the client's resend of key 1, gets the lost answer again from a Horde-like server.
func ExampleWrap() {
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(server, faults.Sequence(faults.None, faults.ResponseLost, faults.Status(6)))

	for _, key := range []string{"0", "1", "1", "1"} {
		reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: key})
		if err != nil {
			fmt.Printf("key %s: %v\n", key, err)
			continue
		}
		if resp := reply.Response; resp.Status == 1 {
			fmt.Printf("key %s: Status 1, new key %s\n", key, resp.SyncKey)
		} else {
			fmt.Printf("key %s: Status %d\n", key, resp.Status)
		}
	}
	for _, inj := range tr.Injected() {
		fmt.Printf("call %d: %s: %s\n", inj.Call, inj.Fault, inj.Detail)
	}
	fmt.Println("the server saw", server.Requests(), "of", tr.Calls(), "calls")
	// Output:
	// key 0: Status 1, new key 1
	// key 1: transport: no response before the timeout: faults: injected: response lost (call 2)
	// key 1: Status 6
	// key 1: Status 1, new key 2
	// call 2: response-lost: server answered status 1 key "2" with 0 changes; response lost
	// call 3: status 6: answered status 6 without calling the server
	// the server saw 3 of 4 calls
}

// Seeded draws a fault for each call from a seed alone, so a failing soak run is
// reproduced by its seed, whatever the order of the calls.
func ExampleSeeded() {
	sched := faults.Seeded(42, 0.3, faults.RequestLost, faults.Status(6), faults.HTTP(503, 0, false))
	for call := 1; call <= 8; call++ {
		fmt.Println(call, sched.Fault(call))
	}
	// Output:
	// 1 none
	// 2 none
	// 3 http 503 throttle CommandFrequency
	// 4 none
	// 5 status 6
	// 6 http 503 throttle CommandFrequency
	// 7 none
	// 8 status 6
}
