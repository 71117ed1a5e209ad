package hierarchy

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// snapshotBytes returns the snapshot file Commit writes for key and tree.
func snapshotBytes(key string, tree *Tree) []byte {
	h, b := encodeSnapshot(key, tree, false)
	return append(h, b...)
}

// rawSnapshot wraps body in a correct header: for bodies Commit would never write.
func rawSnapshot(body string) []byte {
	return append([]byte(formatHeader(int64(len(body)), sha256.Sum256([]byte(body)))), body...)
}

func writeFile(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
}

func openStore(t testing.TB, dir string, opts ...FileStoreOption) *FileStore {
	t.Helper()
	s, err := OpenFileStore(dir, opts...)
	require.NoError(t, err)
	return s
}

var (
	treeOld = NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Old", mail))
	treeNew = NewTree(fo("1", "0", "Inbox", inbox), fo("3", "1", "New", mail), fo("4", "3", "Ünïcödé", mail))
)

func TestSnapshotFormat(t *testing.T) {
	data := snapshotBytes("3", NewTree(fo("2", "1", "Ünïcödé", mail), fo("1", "0", "Inbox", inbox)))
	body := `{"syncKey":"3","folders":[` + "\n" +
		`{"serverId":"1","parentId":"0","displayName":"Inbox","type":2},` + "\n" +
		`{"serverId":"2","parentId":"1","displayName":"Ünïcödé","type":12}` + "\n]}\n"
	assert.Equal(t, string(rawSnapshot(body)), string(data))
	assert.True(t, strings.HasPrefix(string(data), "foldersync-hierarchy-snapshot v1 len=164 sha256="), string(data))

	empty := snapshotBytes("0", &Tree{})
	assert.Equal(t, string(rawSnapshot(`{"syncKey":"0","folders":[`+"\n]}\n")), string(empty))
	st, err := decodeSnapshot(empty, DefaultMaxSnapshotSize)
	require.NoError(t, err)
	assert.Zero(t, st.Tree.Len())
}

func TestSnapshotStringsRoundTrip(t *testing.T) {
	var all []string
	for c := range 0x80 {
		all = append(all, string(rune(c)))
	}
	names := append(all, "", `"`, `\`, `\"`, "\u2028\u2029", "\x7f", "<>&", "\U0010FFFF", "ü", "受信トレイ", "📁 Projects 🚀", "\x00\x01\x1f", "\ufffd")
	tree := &Tree{}
	for i, n := range names {
		tree.put(fo("id"+strings.Repeat("x", i%3)+n+string(rune('A'+i%26))+strconv.Itoa(i), RootID, n, mail))
	}
	st, err := decodeSnapshot(snapshotBytes("key \"\\\n", tree), DefaultMaxSnapshotSize)
	require.NoError(t, err)
	assert.Equal(t, "key \"\\\n", st.SyncKey)
	requireSameTree(t, tree, st.Tree)
}

func TestSnapshotCorruption(t *testing.T) {
	good := snapshotBytes("5", treeNew)
	headerLen := strings.IndexByte(string(good), '\n') + 1
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name string
		data []byte
		kind error
	}{
		{"empty file", nil, ErrTruncated},
		{"truncated in the magic", good[:5], ErrTruncated},
		{"truncated after the magic", good[:len(snapshotMagic)+3], ErrTruncated},
		{"truncated before the end of the header line", good[:headerLen-1], ErrTruncated},
		{"truncated after the header line", good[:headerLen], ErrTruncated},
		{"truncated in the body", good[:headerLen+20], ErrTruncated},
		{"last byte missing", good[:len(good)-1], ErrTruncated},
		{"data after the body", append(append([]byte(nil), good...), '\n'), ErrTrailingData},
		{"a byte flipped in the body", flip(headerLen + 40), ErrChecksumMismatch},
		{"the last byte flipped", flip(len(good) - 1), ErrChecksumMismatch},
		{"a byte flipped in the magic", flip(3), ErrBadMagic},
		{"a byte flipped in the version", flip(len(snapshotMagic) + 2), ErrBadHeader},
		{"a byte flipped in the checksum", flip(headerLen - 2), ErrChecksumMismatch},
		{"upper-case checksum digits", []byte(strings.Replace(string(good), "sha256=", "sha256=", 1)[:headerLen-65] + strings.ToUpper(string(good[headerLen-65:headerLen-1])) + string(good[headerLen-1:])), ErrBadHeader},
		{"the header's newline flipped", flip(headerLen - 1), ErrBadHeader},
		{"wrong magic", append([]byte("foldersync-hierarchy-snapshoT"), good[len(snapshotMagic):]...), ErrBadMagic},
		{"a longer magic", append([]byte(snapshotMagic+"s"), good[len(snapshotMagic):]...), ErrBadMagic},
		{"not a snapshot", []byte(`{"syncKey":"5","folders":[]}`), ErrBadMagic},
		{"version 2", []byte(strings.Replace(string(good), " v1 ", " v2 ", 1)), ErrBadHeader},
		{"a leading zero in the length", []byte(strings.Replace(string(good), " len=", " len=0", 1)), ErrBadHeader},
		{"a signed length", []byte(strings.Replace(string(good), " len=", " len=+", 1)), ErrBadHeader},
		{"a missing field", []byte(snapshotMagic + " v1 len=2\n{}"), ErrBadHeader},
		{"an endless header", []byte(snapshotMagic + " v1 " + strings.Repeat("x", 300)), ErrBadHeader},
		{"garbage JSON", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":`), ErrBadJSON},
		{"not JSON at all", rawSnapshot("\x00\x01garbage"), ErrBadJSON},
		{"JSON of the wrong shape", rawSnapshot(`[1,2,3]`), ErrBadJSON},
		{"an unknown field", rawSnapshot(`{"syncKey":"5","folders":[],"extra":1}`), ErrBadJSON},
		{"a second JSON value", rawSnapshot(`{"syncKey":"5","folders":[]} {}`), ErrBadJSON},
		{"a string type", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"x","type":"2"}]}`), ErrBadJSON},
		{"duplicate ServerIds", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"x","type":2},{"serverId":"1","parentId":"0","displayName":"y","type":2}]}`), ErrInvalidSnapshot},
		{"an empty ServerId", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"","parentId":"0","displayName":"x","type":2}]}`), ErrInvalidSnapshot},
		{"a missing ServerId", rawSnapshot(`{"syncKey":"5","folders":[{"parentId":"0","displayName":"x","type":2}]}`), ErrInvalidSnapshot},
		{"a 65-byte ServerId", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"` + strings.Repeat("s", 65) + `","parentId":"0","displayName":"x","type":2}]}`), ErrInvalidSnapshot},
		{"type 0", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"x","type":0}]}`), ErrInvalidSnapshot},
		{"type 20", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"x","type":20}]}`), ErrInvalidSnapshot},
		{"type 258", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"0","displayName":"x","type":258}]}`), ErrInvalidSnapshot},
		{"a cycle", rawSnapshot(`{"syncKey":"5","folders":[{"serverId":"1","parentId":"2","displayName":"x","type":2},{"serverId":"2","parentId":"1","displayName":"y","type":2}]}`), ErrInvalidSnapshot},
		{"an empty SyncKey", rawSnapshot(`{"syncKey":"","folders":[]}`), ErrInvalidSnapshot},
		{"no SyncKey", rawSnapshot(`{"folders":[]}`), ErrInvalidSnapshot},
		{"null", rawSnapshot(`null`), ErrInvalidSnapshot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Decoded in memory ...
			_, err := decodeSnapshot(tc.data, DefaultMaxSnapshotSize)
			var ce *CorruptError
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, tc.kind, ce.Reason)

			// ... and through Load, with no backup: nothing usable.
			dir := t.TempDir()
			writeFile(t, dir, SnapshotFile, tc.data)
			st, err := openStore(t, dir).Load(context.Background())
			require.ErrorIs(t, err, ErrNoUsableSnapshot)
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, ce, tc.kind)
			assert.Equal(t, filepath.Join(dir, SnapshotFile), ce.Path)
			assert.Contains(t, err.Error(), ce.Reason)
			assert.Zero(t, st)

			// ... and with a good backup: recovered, and told why.
			writeFile(t, dir, PreviousSnapshotFile, snapshotBytes("4", treeOld))
			st, err = openStore(t, dir).Load(context.Background())
			require.ErrorIs(t, err, ErrRecoveredFromBackup)
			assert.NotErrorIs(t, err, ErrNoUsableSnapshot)
			require.ErrorAs(t, err, &ce)
			assert.ErrorIs(t, err, tc.kind)
			assert.Equal(t, filepath.Join(dir, SnapshotFile), ce.Path)
			assert.Equal(t, "4", st.SyncKey)
			requireSameTree(t, treeOld, st.Tree)
		})
	}
}

// TestEverySingleBitFlipIsDetected flips each bit of a small snapshot in turn.
func TestEverySingleBitFlipIsDetected(t *testing.T) {
	good := snapshotBytes("7", NewTree(fo("1", "0", "Inbox", inbox), fo("2", "1", "Ü", mail)))
	_, err := decodeSnapshot(good, DefaultMaxSnapshotSize)
	require.NoError(t, err)
	for i := range good {
		for bit := range 8 {
			b := append([]byte(nil), good...)
			b[i] ^= 1 << bit
			_, err := decodeSnapshot(b, DefaultMaxSnapshotSize)
			var ce *CorruptError
			require.ErrorAs(t, err, &ce, "byte %d bit %d undetected", i, bit)
		}
	}
}

func TestTruncationAtEveryOffset(t *testing.T) {
	good := snapshotBytes("7", treeNew)
	for n := range len(good) {
		_, err := decodeSnapshot(good[:n], DefaultMaxSnapshotSize)
		require.ErrorIs(t, err, ErrTruncated, "truncated to %d bytes", n)
	}
}

func TestLoadOutcomes(t *testing.T) {
	ctx := context.Background()
	bad := []byte("foldersync-hierarchy-snapshot v1 len=9")
	tests := []struct {
		name      string
		cur, prev []byte // nil: no file
		key       string // the state Load returns; "" for none
		err       []error
	}{
		{name: "nothing", key: "0"},
		{name: "current only", cur: snapshotBytes("new", treeNew), key: "new"},
		{name: "current and previous", cur: snapshotBytes("new", treeNew), prev: snapshotBytes("old", treeOld), key: "new"},
		{name: "previous only (a Commit stopped between its renames)", prev: snapshotBytes("old", treeOld), key: "old"},
		{name: "damaged current, good previous", cur: bad, prev: snapshotBytes("old", treeOld), key: "old", err: []error{ErrRecoveredFromBackup, ErrTruncated}},
		{name: "damaged current, no previous", cur: bad, err: []error{ErrNoUsableSnapshot, ErrTruncated}},
		{name: "both damaged", cur: bad, prev: []byte("junk"), err: []error{ErrNoUsableSnapshot, ErrTruncated, ErrBadMagic}},
		{name: "no current, damaged previous", prev: []byte("junk"), err: []error{ErrNoUsableSnapshot, ErrBadMagic}},
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
			st, err := openStore(t, dir).Load(ctx)
			if len(tc.err) == 0 {
				require.NoError(t, err)
			}
			for _, e := range tc.err {
				assert.ErrorIs(t, err, e)
			}
			if tc.key == "" {
				assert.Zero(t, st)
				var ce *CorruptError
				assert.ErrorAs(t, err, &ce)
				return
			}
			assert.Equal(t, tc.key, st.SyncKey)
			switch tc.key {
			case "new":
				requireSameTree(t, treeNew, st.Tree)
			case "old":
				requireSameTree(t, treeOld, st.Tree)
			default:
				assert.Zero(t, st.Tree.Len())
			}
		})
	}
}

func TestLoadDoesNotFallBackOnIOErrors(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, SnapshotFile), 0o700)) // unreadable as a file
	writeFile(t, dir, PreviousSnapshotFile, snapshotBytes("old", treeOld))
	st, err := openStore(t, dir).Load(context.Background())
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRecoveredFromBackup)
	assert.NotErrorIs(t, err, ErrNoUsableSnapshot)
	assert.False(t, errors.As(err, new(*CorruptError)))
	assert.Zero(t, st)
}

func TestCommitKeepsPreviousSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	require.NoError(t, s.Commit(ctx, "1", treeOld))
	_, err := os.Stat(filepath.Join(dir, PreviousSnapshotFile))
	require.ErrorIs(t, err, fs.ErrNotExist, "the first commit has no previous state")
	require.NoError(t, s.Commit(ctx, "2", treeNew))
	prev, err := readSnapshot(filepath.Join(dir, PreviousSnapshotFile), DefaultMaxSnapshotSize)
	require.NoError(t, err)
	assert.Equal(t, "1", prev.SyncKey)
	requireSameTree(t, treeOld, prev.Tree)
	require.NoError(t, s.Commit(ctx, "3", treeOld))
	prev, err = readSnapshot(filepath.Join(dir, PreviousSnapshotFile), DefaultMaxSnapshotSize)
	require.NoError(t, err)
	assert.Equal(t, "2", prev.SyncKey)
	assertFiles(t, dir, SnapshotFile, PreviousSnapshotFile)

	info, err := os.Stat(filepath.Join(dir, SnapshotFile))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), info.Mode().Perm())
}

// TestCommitOverDamagedCurrentKeepsGoodBackup: a damaged current snapshot is not
// rotated over the good previous one.
func TestCommitOverDamagedCurrentKeepsGoodBackup(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, SnapshotFile, []byte("torn"))
	writeFile(t, dir, PreviousSnapshotFile, snapshotBytes("old", treeOld))
	s := openStore(t, dir)
	st, err := s.Load(ctx)
	require.ErrorIs(t, err, ErrRecoveredFromBackup)
	require.NoError(t, s.Commit(ctx, "new", treeNew))
	prev, err := readSnapshot(filepath.Join(dir, PreviousSnapshotFile), DefaultMaxSnapshotSize)
	require.NoError(t, err)
	assert.Equal(t, "old", prev.SyncKey)
	st, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "new", st.SyncKey)
}

func TestCommitRemovesStrayTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFile(t, dir, tempPrefix+"123", snapshotBytes("stray", treeNew))
	writeFile(t, dir, tempPrefix+"456", []byte("partial"))
	writeFile(t, dir, "unrelated.txt", []byte("keep me"))
	s := openStore(t, dir)
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "0", st.SyncKey, "temp files are never loaded")
	require.NoError(t, s.Commit(ctx, "1", treeOld))
	assertFiles(t, dir, SnapshotFile, "unrelated.txt")
}

func TestSizeLimit(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	size := int64(len(snapshotBytes("1", treeOld)))

	s := openStore(t, dir, WithMaxSnapshotSize(size-1))
	err := s.Commit(ctx, "1", treeOld)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.False(t, errors.As(err, new(*CorruptError)))
	assertFiles(t, dir)

	require.NoError(t, openStore(t, dir, WithMaxSnapshotSize(size)).Commit(ctx, "1", treeOld))
	_, err = openStore(t, dir, WithMaxSnapshotSize(size-1)).Load(ctx)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.ErrorIs(t, err, ErrNoUsableSnapshot)

	// A header announcing more than the limit is refused without reading further.
	_, err = decodeSnapshot([]byte(formatHeader(1<<40, [32]byte{})), DefaultMaxSnapshotSize)
	assert.ErrorIs(t, err, ErrTooLarge)

	assert.Equal(t, DefaultMaxSnapshotSize, openStore(t, dir, WithMaxSnapshotSize(0)).maxSize)
}

func TestOpenFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := OpenFileStore(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, s.Dir())
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())

	_, err = OpenFileStore("")
	assert.Error(t, err)
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = OpenFileStore(file)
	assert.Error(t, err)
}

func TestDirectoryWithGlobCharacters(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "we[ir]d*dir?")
	s := openStore(t, dir)
	writeFile(t, dir, tempPrefix+"x", []byte("stray"))
	require.NoError(t, s.Commit(ctx, "1", treeOld))
	require.NoError(t, s.Commit(ctx, "2", treeNew))
	assertFiles(t, dir, SnapshotFile, PreviousSnapshotFile)
	st, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "2", st.SyncKey)
}

func assertFiles(t testing.TB, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, want, names)
}

func TestCorruptErrorMessage(t *testing.T) {
	err := error(&CorruptError{Path: "/x/hierarchy.json", Reason: "the file is empty", Err: ErrTruncated})
	assert.Equal(t, "hierarchy: snapshot /x/hierarchy.json is unusable: snapshot truncated: the file is empty", err.Error())
	assert.ErrorIs(t, err, ErrTruncated)
}

func TestFolderTypesSurviveStorage(t *testing.T) {
	tree := &Tree{}
	for typ := transport.FolderUserGeneric; typ <= transport.FolderRecipientCache; typ++ {
		tree.put(fo("t"+strconv.Itoa(int(typ)), RootID, typ.String(), typ))
	}
	st, err := decodeSnapshot(snapshotBytes("1", tree), DefaultMaxSnapshotSize)
	require.NoError(t, err)
	requireSameTree(t, tree, st.Tree)
}
