package machine_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// A session against the in-process server of transport/sim: the first Sync fetches
// the whole hierarchy with SyncKey 0, the next only what changed. With a real
// server the Transport is an httpeas.Client and the Store a hierarchy.FileStore.
func Example() {
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	sess, err := machine.New(machine.Config{
		Transport: server,
		Store:     hierarchy.NewMemoryStore(),
		Clock:     machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)), // waits cost no real time
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	res, err := sess.Sync(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: SyncKey %q, %d folders\n", res.State, res.SyncKey, res.Tree.Len())

	_ = server.AddFolder(hierarchy.Folder{ServerID: "receipts", ParentID: "inbox", DisplayName: "Receipts", Type: transport.FolderUserMail})
	res, err = sess.Sync(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: SyncKey %q, %d added, %d folders\n", res.State, res.SyncKey, res.Applied.Added, res.Tree.Len())
	// Output:
	// synced: SyncKey "1", 16 folders
	// synced: SyncKey "2", 1 added, 17 folders
}

// A failed Sync returns an *Error whose Kind says what happened; callers branch with
// errors.Is and show the Hint. The stored state is left as it was.
func ExampleError() {
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	sess, _ := machine.New(machine.Config{
		Transport: faults.Wrap(server, faults.Sequence(faults.HTTP(401, 0, false))),
		Store:     hierarchy.NewMemoryStore(),
		Clock:     machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)),
	})
	res, err := sess.Sync(context.Background())

	fmt.Println(res.State, res.SyncKey)
	fmt.Println(errors.Is(err, machine.ErrAuth))
	var me *machine.Error
	if errors.As(err, &me) {
		fmt.Println(me.Hint)
	}
	// Output:
	// failed 0
	// true
	// Check the user name and password (or refresh the OAuth token) and sync again
}
