package hierarchy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
)

// A FileStore commits the SyncKey and the tree together (DESIGN rule 1) and keeps the
// previous snapshot as a backup. A folder created locally keeps its mark across a
// restart, so a later Status 9 can still roll it back. When the current snapshot is
// damaged, Load falls back to the backup and says so.
func ExampleOpenFileStore() {
	dir, err := os.MkdirTemp("", "foldersync-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	store, err := hierarchy.OpenFileStore(filepath.Join(dir, "alice"))
	if err != nil {
		fmt.Println(err)
		return
	}
	tree := hierarchy.NewTree(
		hierarchy.Folder{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
		hierarchy.Folder{ServerID: "2", ParentID: "0", DisplayName: "Sent Items", Type: transport.FolderSentItems},
	)
	if err := store.Commit(ctx, "1", tree); err != nil {
		fmt.Println(err)
		return
	}
	// The user creates a folder offline: stored under the same key, marked local.
	_ = tree.AddLocal(hierarchy.Folder{ServerID: "tmp-1", ParentID: "1", DisplayName: "Offline", Type: transport.FolderUserMail})
	if err := store.Commit(ctx, "1", tree); err != nil {
		fmt.Println(err)
		return
	}
	entries, _ := os.ReadDir(store.Dir())
	for _, e := range entries {
		fmt.Println("file:", e.Name())
	}

	// A restart: a new FileStore on the same directory loads what was committed.
	store, _ = hierarchy.OpenFileStore(store.Dir())
	st, err := store.Load(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("SyncKey %q, %d folders\n", st.SyncKey, st.Tree.Len())
	for _, f := range st.Tree.LocalAdds() {
		fmt.Printf("local add: %s (%s)\n", f.DisplayName, f.ServerID)
	}

	// The current snapshot is damaged on disk: Load returns the previous one, and an
	// error that says so.
	_ = os.WriteFile(filepath.Join(store.Dir(), hierarchy.SnapshotFile), []byte("garbage"), 0o600)
	st, err = store.Load(ctx)
	var ce *hierarchy.CorruptError
	if errors.Is(err, hierarchy.ErrRecoveredFromBackup) && errors.As(err, &ce) {
		fmt.Printf("recovered from the backup (%v): SyncKey %q, %d folders\n", ce.Err, st.SyncKey, st.Tree.Len())
	}
	// Output:
	// file: hierarchy.json
	// file: hierarchy.prev.json
	// SyncKey "1", 3 folders
	// local add: Offline (tmp-1)
	// recovered from the backup (not a hierarchy snapshot (bad magic)): SyncKey "1", 2 folders
}
