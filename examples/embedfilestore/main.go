// Command embedfilestore shows how a mail client embeds a FolderSync session with a
// durable hierarchy.FileStore: an initial sync against a simulated server, a change
// on the server, an incremental sync, and then a second "process" that reopens the
// store and continues from the SyncKey the first one committed, instead of starting
// over with SyncKey 0.
//
//	go run ./examples/embedfilestore
//
// Everything runs in process: the server is transport/sim (in place of
// transport/httpeas and a real server), the store lives in a temporary directory,
// and time is simulated.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embedfilestore:", err)
		os.Exit(1)
	}
}

// client is what an application keeps per account: where the hierarchy lives and
// how to reach the server. A real client would hold an *httpeas.Client here.
type client struct {
	dir    string
	server transport.Transport
	clock  machine.Clock
}

// syncOnce runs one session on a freshly opened store. A FileStore holds no open
// files between calls, so there is nothing to close; opening it for every session
// makes the point that the only state that survives between runs is on disk.
func (c client) syncOnce(ctx context.Context, w io.Writer, id string) (*machine.Result, error) {
	store, err := hierarchy.OpenFileStore(c.dir)
	if err != nil {
		return nil, err
	}
	sess, err := machine.New(machine.Config{
		Transport: c.server,
		Store:     store,
		Clock:     c.clock,
		SessionID: id,
	})
	if err != nil {
		return nil, err
	}
	res, err := sess.Sync(ctx)
	if err != nil {
		return res, err
	}
	// Warnings are worth logging: a store recovered from its backup snapshot, say.
	for _, warning := range res.Warnings {
		fmt.Fprintln(w, "  warning:", warning)
	}
	return res, nil
}

func run(w io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "foldersync-embed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	c := client{dir: dir, server: server, clock: machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))}

	// 1. First run: the store is empty, so the session sends SyncKey 0 and gets the
	// whole hierarchy as Adds (MS-ASCMD 2.2.3.181.2). The new SyncKey and the tree
	// are committed in one atomic step (DESIGN rule 1).
	fmt.Fprintln(w, "process 1: initial FolderSync")
	res, err := c.syncOnce(ctx, w, "process-1")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s with SyncKey %q: %d folders added\n", res.State, res.SyncKey, res.Applied.Added)

	// 2. The user changes things on the server (in Outlook on the web, say).
	if err := server.AddFolder(hierarchy.Folder{ServerID: "receipts", ParentID: "inbox", DisplayName: "Receipts", Type: transport.FolderUserMail}); err != nil {
		return err
	}
	if err := server.RenameFolder("archive", "Archive 2026"); err != nil {
		return err
	}
	if err := server.DeleteFolder("projects-2024"); err != nil {
		return err
	}
	fmt.Fprintln(w, "server: added Inbox/Receipts, renamed Archive, deleted Inbox/Projects/2024")

	// 3. Incremental sync: only the changes since the stored key come back
	// (MS-ASCMD 2.2.1.5.2), and Apply makes them idempotent (DESIGN rule 2).
	fmt.Fprintln(w, "process 1: incremental FolderSync")
	res, err = c.syncOnce(ctx, w, "process-1-incremental")
	if err != nil {
		return err
	}
	a := res.Applied
	fmt.Fprintf(w, "  %s with SyncKey %q: %d added, %d updated, %d deleted\n", res.State, res.SyncKey, a.Added, a.Updated, a.Deleted)

	// 4. The process exits; the server changes again meanwhile.
	if err := server.AddFolder(hierarchy.Folder{ServerID: "travel", ParentID: hierarchy.RootID, DisplayName: "Travel", Type: transport.FolderUserMail}); err != nil {
		return err
	}
	fmt.Fprintln(w, "server: added Travel")

	// 5. A second process: nothing survives but the directory. Load shows what the
	// first one committed; the session continues from that key, so only the one
	// new folder travels, not the whole hierarchy again.
	store, err := hierarchy.OpenFileStore(dir)
	if err != nil {
		return err
	}
	st, err := store.Load(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "process 2: reopened the store: SyncKey %q, %d folders (files: %s, %s)\n",
		st.SyncKey, st.Tree.Len(), present(dir, hierarchy.SnapshotFile), present(dir, hierarchy.PreviousSnapshotFile))
	before := len(server.History())
	res, err = c.syncOnce(ctx, w, "process-2")
	if err != nil {
		return err
	}
	for _, ex := range server.History()[before:] {
		fmt.Fprintf(w, "  sent SyncKey %q (the server's %s key): Status %d, %d change(s)\n", ex.RequestKey, ex.Case, ex.Status, ex.Changes)
	}
	fmt.Fprintf(w, "  %s with SyncKey %q\n", res.State, res.SyncKey)
	if res.State != states.Synced {
		return fmt.Errorf("process 2 ended %s: %s", res.State, res.Reason)
	}

	fmt.Fprintln(w, "\nthe stored hierarchy:")
	printTree(w, res.Tree, hierarchy.RootID, "  ")
	if !res.Tree.Equal(hierarchy.NewTree(server.Folders()...)) {
		return fmt.Errorf("client and server differ: %v", hierarchy.NewTree(server.Folders()...).Diff(res.Tree))
	}
	fmt.Fprintf(w, "client and server agree: %d folders\n", res.Tree.Len())
	return nil
}

// present says whether a store file exists, for the story.
func present(dir, name string) string {
	if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
		return name + " missing"
	}
	return name
}

func printTree(w io.Writer, t *hierarchy.Tree, parent, indent string) {
	for _, f := range t.Children(parent) {
		fmt.Fprintf(w, "%s%s  [%s]\n", indent, f.DisplayName, f.Type)
		printTree(w, t, f.ServerID, indent+"  ")
	}
}
