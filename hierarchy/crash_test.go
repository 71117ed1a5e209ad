package hierarchy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errCrash = errors.New("simulated crash")

// commitSteps are the steps of FileStore.Commit, in order, with whether the new state
// is the committed one once the step is done.
var commitSteps = []struct {
	name string
	done bool
}{
	{"create temp", false},
	{"write header", false},
	{"write body", false},
	{"fsync temp", false},
	{"close temp", false},
	{"rename current to prev", false},
	{"rename temp to current", true},
	{"fsync directory", true},
}

// TestCrashAtEveryStep runs Commit up to each step, stops it there as a crash would
// (the files stay as they are), then opens the directory afresh: Load returns the old
// state before the rename of the temporary file, the new one after, and never an
// error; the next Commit works and cleans up.
func TestCrashAtEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, history := range []string{"first commit", "third commit"} {
		for _, step := range commitSteps {
			t.Run(history+"/"+step.name, func(t *testing.T) {
				dir := t.TempDir()
				s := openStore(t, dir)
				oldKey, oldTree := "0", &Tree{}
				if history == "third commit" {
					require.NoError(t, s.Commit(ctx, "older", treeNew))
					require.NoError(t, s.Commit(ctx, "old", treeOld))
					oldKey, oldTree = "old", treeOld
				}
				var seen []string
				s.crashAt = func(name string) error {
					seen = append(seen, name)
					if name == step.name {
						return errCrash
					}
					return nil
				}
				err := s.Commit(ctx, "new", treeNew)
				if history == "first commit" && step.name == "rename current to prev" {
					// Nothing to rotate on a first commit: the step does not happen.
					require.NoError(t, err)
					assert.NotContains(t, seen, step.name)
					return
				}
				require.ErrorIs(t, err, errCrash)

				st, err := openStore(t, dir).Load(ctx)
				require.NoError(t, err, "a crash never leaves the store unusable")
				if step.done {
					assert.Equal(t, "new", st.SyncKey)
					requireSameTree(t, treeNew, st.Tree)
				} else {
					assert.Equal(t, oldKey, st.SyncKey)
					requireSameTree(t, oldTree, st.Tree)
				}

				// Recovery: the next Commit succeeds and leaves only snapshots.
				s2 := openStore(t, dir)
				require.NoError(t, s2.Commit(ctx, "next", treeOld))
				st, err = s2.Load(ctx)
				require.NoError(t, err)
				assert.Equal(t, "next", st.SyncKey)
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				for _, e := range entries {
					assert.Contains(t, []string{SnapshotFile, PreviousSnapshotFile}, e.Name())
				}
			})
		}
	}
}

// TestCrashLeftovers builds, file by file, what a crash (of the process, or of the
// machine before the directory fsync, which may undo either rename) can leave, and
// checks that Load picks the newest complete committed state.
func TestCrashLeftovers(t *testing.T) {
	older, old, newer := snapshotBytes("older", treeNew), snapshotBytes("old", treeOld), snapshotBytes("new", treeNew)
	partial := newer[:len(newer)/2]
	tests := []struct {
		name      string
		cur, prev []byte
		temp      []byte
		wantKey   string
		wantTree  *Tree
		recovered bool
		unusable  bool
	}{
		{name: "first commit: only a partial temp", temp: partial, wantKey: "0", wantTree: &Tree{}},
		{name: "first commit: only a whole temp", temp: newer, wantKey: "0", wantTree: &Tree{}},
		{name: "first commit: done", cur: newer, wantKey: "new", wantTree: treeNew},
		{name: "temp being written beside current and previous", cur: old, prev: older, temp: partial, wantKey: "old", wantTree: treeOld},
		{name: "whole temp beside current and previous", cur: old, prev: older, temp: newer, wantKey: "old", wantTree: treeOld},
		{name: "current renamed to previous, temp whole", prev: old, temp: newer, wantKey: "old", wantTree: treeOld},
		{name: "both renames done", cur: newer, prev: old, wantKey: "new", wantTree: treeNew},
		{name: "machine crash kept the second rename only", cur: newer, prev: older, wantKey: "new", wantTree: treeNew},
		{name: "previous only", prev: old, wantKey: "old", wantTree: treeOld},
		{name: "a torn current (never written by Commit) with a previous", cur: partial, prev: old, wantKey: "old", wantTree: treeOld, recovered: true},
		{name: "a torn current alone", cur: partial, unusable: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.cur != nil {
				writeFile(t, dir, SnapshotFile, tc.cur)
			}
			if tc.prev != nil {
				writeFile(t, dir, PreviousSnapshotFile, tc.prev)
			}
			if tc.temp != nil {
				writeFile(t, dir, tempPrefix+"42", tc.temp)
			}
			st, err := openStore(t, dir).Load(context.Background())
			switch {
			case tc.unusable:
				require.ErrorIs(t, err, ErrNoUsableSnapshot)
				return
			case tc.recovered:
				require.ErrorIs(t, err, ErrRecoveredFromBackup)
			default:
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantKey, st.SyncKey)
			requireSameTree(t, tc.wantTree, st.Tree)
		})
	}
}

// TestCommitCancelledBeforeRename: a context cancelled while the temporary file is
// written stops Commit before anything changes.
func TestCommitCancelledBeforeRename(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	require.NoError(t, s.Commit(context.Background(), "old", treeOld))
	ctx, cancel := context.WithCancel(context.Background())
	s.crashAt = func(step string) error {
		if step == "fsync temp" {
			cancel()
		}
		return nil
	}
	require.ErrorIs(t, s.Commit(ctx, "new", treeNew), context.Canceled)
	assertFiles(t, dir, SnapshotFile)
	st, err := s.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "old", st.SyncKey)
}

func TestCommitFailingRenameKeepsOldState(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	require.NoError(t, s.Commit(ctx, "old", treeOld))
	// Make the final rename fail: the target is a non-empty directory.
	s.crashAt = func(step string) error {
		if step == "rename current to prev" {
			require.NoError(t, os.Mkdir(filepath.Join(dir, SnapshotFile), 0o700))
			writeFile(t, filepath.Join(dir, SnapshotFile), "x", nil)
		}
		return nil
	}
	err := s.Commit(ctx, "new", treeNew)
	require.Error(t, err)
	require.NoError(t, os.RemoveAll(filepath.Join(dir, SnapshotFile)))
	s.crashAt = nil
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "old", st.SyncKey)
	assertFiles(t, dir, PreviousSnapshotFile)
}
