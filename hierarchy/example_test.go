package hierarchy_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
)

// A client keeps its hierarchy in a FileStore: load, apply a Status 1 response,
// commit the new SyncKey and the tree together.
func ExampleFileStore() {
	dir, err := os.MkdirTemp("", "foldersync-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := hierarchy.OpenFileStore(dir)
	if err != nil {
		log.Fatal(err)
	}
	st, err := store.Load(ctx)
	switch {
	case err == nil:
	case errors.Is(err, hierarchy.ErrRecoveredFromBackup):
		log.Printf("using the previous snapshot: %v", err) // st is usable
	case errors.Is(err, hierarchy.ErrNoUsableSnapshot):
		log.Printf("starting over: %v", err)
		st = hierarchy.State{SyncKey: transport.InitialSyncKey, Tree: &hierarchy.Tree{}}
	default:
		log.Fatal(err)
	}
	fmt.Println("loaded SyncKey", st.SyncKey, "with", st.Tree.Len(), "folders")

	// The server's answer to FolderSync with SyncKey 0.
	resp := transport.NewSuccessResponse("1", []transport.FolderChange{
		{Op: transport.OpAdd, ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
		{Op: transport.OpAdd, ServerID: "2", ParentID: "1", DisplayName: "Projekte", Type: transport.FolderUserMail},
	})
	rep, err := st.Tree.Apply(resp.Changes)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Commit(ctx, resp.SyncKey, st.Tree); err != nil {
		log.Fatal(err)
	}
	st.Tree.ClearLocal()
	fmt.Println("added", rep.Added)

	// Later, or after a crash: the committed state comes back.
	again, err := hierarchy.OpenFileStore(dir)
	if err != nil {
		log.Fatal(err)
	}
	st, err = again.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded SyncKey", st.SyncKey, "with", st.Tree.Len(), "folders")
	for _, f := range st.Tree.Children("1") {
		fmt.Println(f.DisplayName)
	}
	// Output:
	// loaded SyncKey 0 with 0 folders
	// added 2
	// loaded SyncKey 1 with 2 folders
	// Projekte
}

// Applying the same response twice, as after a replayed response, changes nothing.
func ExampleTree_Apply() {
	changes := []transport.FolderChange{
		{Op: transport.OpAdd, ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
		{Op: transport.OpAdd, ServerID: "2", ParentID: "1", DisplayName: "Old", Type: transport.FolderUserMail},
		{Op: transport.OpDelete, ServerID: "9"},
	}
	tree := &hierarchy.Tree{}
	rep, _ := tree.Apply(changes)
	fmt.Printf("first:  added %d, deletes of unknown %d\n", rep.Added, rep.DeletesOfUnknown)
	rep, _ = tree.Apply(changes)
	fmt.Printf("second: unchanged %d of %d updates, %d folders\n", rep.Unchanged, rep.Updated, tree.Len())
	// Output:
	// first:  added 2, deletes of unknown 1
	// second: unchanged 2 of 2 updates, 2 folders
}

// After Status 9: roll back local adds, fetch the full hierarchy with SyncKey 0, and
// reconcile: folders that come back are kept, only the others are removed.
func ExampleTree_Reconcile() {
	tree := hierarchy.NewTree(
		hierarchy.Folder{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
		hierarchy.Folder{ServerID: "2", ParentID: "1", DisplayName: "Gone", Type: transport.FolderUserMail},
	)
	_ = tree.AddLocal(hierarchy.Folder{ServerID: "L", ParentID: "1", DisplayName: "Mine", Type: transport.FolderUserMail})
	fmt.Println("rolled back", len(tree.RollbackLocal()))
	rep, err := tree.Reconcile([]transport.FolderChange{
		{Op: transport.OpAdd, ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
		{Op: transport.OpAdd, ServerID: "3", ParentID: "1", DisplayName: "New", Type: transport.FolderUserMail},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("kept %d, added %v, removed %v\n", rep.Kept, rep.AddedIDs, rep.RemovedIDs)
	// Output:
	// rolled back 1
	// kept 1, added [3], removed [2]
}
