// Command status9recovery shows how a session recovers from FolderSync Status 9
// without losing folders.
//
// A client has synced and then created a folder while offline. Meanwhile the server
// forgets the device (an administrator removed the device partnership, or the
// mailbox was restored from a backup), so the client's SyncKey means nothing to it
// and it answers Status 9, "Synchronization key mismatch or invalid synchronization
// key" (MS-ASCMD 2.2.3.177.5), whose resolution is "Delete items added since last
// synchronization and return to synchronization key zero (0)".
//
// The session does exactly that and no more (DESIGN rule 5): it rolls back the
// folder added locally, sends SyncKey 0, and reconciles the full hierarchy by
// mark-and-sweep: folders whose ServerId comes back are kept in place (with their
// per-folder data: item SyncKeys, cached mail), new ones are added, and only the
// ones that do not come back are removed. It never wipes the tree first, so a
// crash in the middle leaves the old hierarchy, not an empty one.
//
//	go run ./examples/status9recovery
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "status9recovery:", err)
		os.Exit(1)
	}
}

// watchedStore is a hierarchy.Store that remembers the size of every tree committed
// through it, so the story can show that no commit ever held an emptied hierarchy.
type watchedStore struct {
	hierarchy.Store
	sizes []int
}

func (s *watchedStore) Commit(ctx context.Context, key string, t *hierarchy.Tree) error {
	s.sizes = append(s.sizes, t.Len())
	return s.Store.Commit(ctx, key, t)
}

// printer tells each transition as the session records it.
type printer struct{ w io.Writer }

func (p printer) OnTransition(r machine.Record) {
	code := ""
	if r.Code != "" {
		code = " on " + r.Code
	}
	fmt.Fprintf(p.w, "   %-9s -> %-9s %s%s\n", r.From, r.To, r.Event, code)
}

func run(w io.Writer) error {
	ctx := context.Background()
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	store := &watchedStore{Store: hierarchy.NewMemoryStore()}
	session := func(tr transport.Transport, id string) (*machine.Result, error) {
		s, err := machine.New(machine.Config{Transport: tr, Store: store, Clock: clock, SessionID: id, Observer: printer{w}})
		if err != nil {
			return nil, err
		}
		return s.Sync(ctx)
	}

	// 1. A synced client, against a Horde-like server (sim.Replay).
	before := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	fmt.Fprintln(w, "1. initial FolderSync")
	res, err := session(before, "initial")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "   synced: SyncKey %q, %d folders\n", res.SyncKey, res.Tree.Len())

	// 2. Offline, the user creates a folder. The client adds it as a local add
	// (FolderCreate, MS-ASCMD 2.2.1.3, not yet acknowledged) and stores it under the
	// same SyncKey: the mark survives a restart, so a Status 9 can still roll it back.
	st, err := store.Load(ctx)
	if err != nil {
		return err
	}
	local := hierarchy.Folder{ServerID: "local-1", ParentID: "inbox", DisplayName: "Offline notes", Type: transport.FolderUserMail}
	if err := st.Tree.AddLocal(local); err != nil {
		return err
	}
	if err := store.Commit(ctx, st.SyncKey, st.Tree); err != nil {
		return err
	}
	fmt.Fprintf(w, "2. offline: created %q locally; the client now holds %d folders\n", local.DisplayName, st.Tree.Len())

	// 3. The server forgets the device. Its mailbox, restored from a backup, lacks
	// Archive and has gained Board; its keys start over under a new prefix, so the
	// client's key is unknown to it and it answers Status 9 (as Horde does).
	after := sim.New(sim.Replay, sim.WithKeyPrefix("restored-"), sim.WithFolders(restored()...))
	fmt.Fprintln(w, "3. the server forgets the device: restored mailbox without Archive, with a new folder Board")

	// 4. The next FolderSync: Status 9, reset, full hierarchy, mark-and-sweep.
	fmt.Fprintln(w, "4. FolderSync with the stored key")
	res, err = session(after, "after-restore")
	if err != nil {
		return err
	}
	if res.State != states.Synced || res.Reconciled == nil {
		return fmt.Errorf("expected a synced session with a reconciliation, got %s: %s", res.State, res.Reason)
	}
	for _, ex := range after.History() {
		fmt.Fprintf(w, "   server saw SyncKey %q (%s): Status %d\n", ex.RequestKey, ex.Case, ex.Status)
	}
	for _, f := range res.RolledBack {
		fmt.Fprintf(w, "   rolled back: %q (local add since the last sync)\n", f.DisplayName)
	}
	r := res.Reconciled
	fmt.Fprintf(w, "   reconciled: kept %d, updated %d, added %d %v, removed %d %v\n",
		r.Kept, r.Updated, r.Added, r.AddedIDs, r.Removed, r.RemovedIDs)

	// 5. The proof. The client equals the server, and every folder the client had
	// that the server still has was kept in place: not removed, not removed and
	// re-added. The only removal is the folder the server no longer has.
	server := hierarchy.NewTree(after.Folders()...)
	if !server.Equal(res.Tree) {
		return fmt.Errorf("client and server differ: %v", server.Diff(res.Tree))
	}
	kept := 0
	for _, f := range st.Tree.Folders() {
		if _, still := server.Get(f.ServerID); !still || f.ServerID == local.ServerID {
			continue
		}
		if slices.Contains(r.RemovedIDs, f.ServerID) || slices.Contains(r.AddedIDs, f.ServerID) {
			return fmt.Errorf("folder %s, which the server still has, was removed", f)
		}
		kept++
	}
	fmt.Fprintf(w, "5. client equals server: %d folders\n", res.Tree.Len())
	fmt.Fprintf(w, "   the client had %d server folders; the %d the server still has were all kept in place, none was lost\n", st.Tree.Len()-1, kept)
	fmt.Fprintf(w, "   folders in each commit: %s (the tree was never wiped)\n", strings.Trim(fmt.Sprint(store.sizes), "[]"))
	fmt.Fprintf(w, "   next: send FolderCreate for %q again, now that the hierarchy is in step\n", local.DisplayName)
	return nil
}

// restored is the server's hierarchy after the restore: the default one, less
// Archive, plus a folder created while the device was unknown.
func restored() []hierarchy.Folder {
	var out []hierarchy.Folder
	for _, f := range sim.DefaultFolders() {
		if f.ServerID != "archive" {
			out = append(out, f)
		}
	}
	return append(out, hierarchy.Folder{ServerID: "board", ParentID: hierarchy.RootID, DisplayName: "Board", Type: transport.FolderUserMail})
}
