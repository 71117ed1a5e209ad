package hierarchy

import (
	"context"
	"fmt"
	"testing"

	"github.com/easkit/foldersync/transport"
)

// The benchmarks use the 10,000-folder initial FolderSync response of
// internal/testutil (the one docs/BENCHMARKS.md decodes): SOGo-shaped ServerIds,
// nested folders, Unicode names.

func BenchmarkApplyAdds10k(b *testing.B) {
	changes := bigChanges(b, 10000, 42)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tree := &Tree{}
		if _, err := tree.Apply(changes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplySmallResponse10k applies a typical incremental response (one add,
// one rename, one delete) to a 10,000-folder tree.
func BenchmarkApplySmallResponse10k(b *testing.B) {
	base := bigTree(b, 10000, 42)
	some := base.Folders()[100]
	changes := []transport.FolderChange{
		add("new-folder", RootID, "New", mail),
		upd(some.ServerID, some.ParentID, "Renamed", some.Type),
		del("new-folder"),
	}
	tree := base.Clone()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := tree.Apply(changes); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReconcile10k reconciles a 10,000-folder tree with a full hierarchy of
// 10,000 folders: 9,000 come back unchanged, 500 renamed, 500 are new (and 500 of
// the old are gone).
func BenchmarkReconcile10k(b *testing.B) {
	base := bigTree(b, 10000, 42)
	var full []transport.FolderChange
	for i, f := range base.Folders() {
		switch {
		case i%20 == 0:
			f.DisplayName += " (renamed)"
		case i%20 == 1 && f.ParentID == RootID:
			f.ServerID = fmt.Sprintf("new-%d", i)
		}
		full = append(full, add(f.ServerID, f.ParentID, f.DisplayName, f.Type))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		tree := *base // Reconcile replaces the folders map; base's is only read
		if _, err := tree.Reconcile(full); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileStoreCommit10k(b *testing.B) {
	tree := bigTree(b, 10000, 42)
	s, err := OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	h, body := encodeSnapshot("key", tree, false)
	b.SetBytes(int64(len(h) + len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.Commit(ctx, fmt.Sprint(i), tree); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileStoreLoad10k(b *testing.B) {
	tree := bigTree(b, 10000, 42)
	s, err := OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Commit(ctx, "key", tree); err != nil {
		b.Fatal(err)
	}
	h, body := encodeSnapshot("key", tree, false)
	b.SetBytes(int64(len(h) + len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		st, err := s.Load(ctx)
		if err != nil || st.Tree.Len() != 10000 {
			b.Fatal(err)
		}
	}
}
