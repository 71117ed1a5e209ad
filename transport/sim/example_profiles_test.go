package sim_test

import (
	"context"
	"fmt"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

// The profiles differ in what they do when a client resends a key because it lost
// the answer (DESIGN rule 3): here the answer to key 1, which carried a new folder
// and key 2, is lost, and the client sends key 1 again. Horde (Replay) sends the
// lost answer again; Z-Push (Reexecute) re-runs the request under a new key; SOGo
// (Lenient) says "no changes" and echoes the key, so the new folder would be missed
// without a verification; a silent reset sends the whole hierarchy.
func ExampleNew() {
	ctx := context.Background()
	send := func(s *sim.Server, key string) *transport.FolderSyncResponse {
		reply, err := s.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: key})
		if err != nil {
			panic(err)
		}
		return reply.Response
	}
	for _, p := range []sim.Profile{sim.Replay, sim.Reexecute, sim.Lenient, sim.SilentReset} {
		s := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
		send(s, "0") // the initial sync: key 1
		_ = s.AddFolder(hierarchy.Folder{ServerID: "new", ParentID: "0", DisplayName: "New", Type: transport.FolderUserMail})
		send(s, "1") // answered with key 2 and the new folder; the answer is lost

		resp := send(s, "1") // the resend
		last := s.History()[len(s.History())-1]
		fmt.Printf("%-12s resent key 1 (%s): Status %d, key %q, %d change(s)", p, last.Case, resp.Status, resp.SyncKey, len(resp.Changes))
		if last.Replayed {
			fmt.Print(", the lost answer again")
		}
		fmt.Println()
	}
	// Output:
	// replay       resent key 1 (previous): Status 1, key "2", 1 change(s), the lost answer again
	// reexecute    resent key 1 (previous): Status 1, key "3", 1 change(s)
	// lenient      resent key 1 (previous): Status 1, key "1", 0 change(s)
	// silent-reset resent key 1 (previous): Status 1, key "3", 17 change(s)
}
