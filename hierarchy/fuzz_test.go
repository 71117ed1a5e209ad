package hierarchy

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLoadSnapshot writes arbitrary bytes as the snapshot file and loads it. Load must
// not panic, and must return either a valid state or an error carrying a
// *CorruptError (there is no backup, so ErrNoUsableSnapshot too). A valid state must
// be a valid tree that survives encoding and decoding unchanged (in memory: a real
// Commit's fsyncs would slow the fuzzer down a hundredfold; the store tests cover it).
//
// With wrap set, the bytes are the body and get a correct header, so that the fuzzer
// reaches the JSON decoding and the validation behind the checksum.
func FuzzLoadSnapshot(f *testing.F) {
	f.Add(snapshotBytes("1", treeNew), false)
	f.Add(snapshotBytes("0", &Tree{}), false)
	f.Add(snapshotBytes("1", treeNew)[:60], false)
	f.Add([]byte(""), false)
	f.Add([]byte(snapshotMagic+" v1 len=0 sha256=\n"), false)
	_, body := encodeSnapshot("k", treeNew, false)
	f.Add(body, true)
	f.Add([]byte(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"1","displayName":"x","type":2}]}`), true)
	f.Add([]byte(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"\u00fc\ud800","type":2}]}`), true)
	f.Add([]byte(`{"SYNCKEY":"5","Folders":null}`), true)
	// One directory for all inputs: a worker runs its inputs one at a time, and a
	// fresh directory for each would cost more than the Load under test.
	dir := f.TempDir()
	path := filepath.Join(dir, SnapshotFile)
	s, err := OpenFileStore(dir)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			data = rawSnapshot(string(data))
		}
		// Remove, then create: rewriting the file in place (O_TRUNC) makes ext4 start
		// writeback on close (auto_da_alloc), a hundredfold slowdown.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(path, data, 0o600))
		st, err := s.Load(context.Background())
		if err != nil {
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "untyped error %v", err)
			require.Equal(t, path, ce.Path)
			require.ErrorIs(t, err, ErrNoUsableSnapshot)
			require.Zero(t, st)
			return
		}
		require.NoError(t, checkSyncKey(st.SyncKey))
		require.NotNil(t, st.Tree)
		_, err = BuildTree(st.Tree.Folders())
		require.NoError(t, err, "Load returned an invalid tree")

		again, err := decodeSnapshot(snapshotBytes(st.SyncKey, st.Tree), DefaultMaxSnapshotSize)
		require.NoError(t, err)
		require.Equal(t, st.SyncKey, again.SyncKey)
		require.True(t, st.Tree.Equal(again.Tree), "%v", st.Tree.Diff(again.Tree))
	})
}
