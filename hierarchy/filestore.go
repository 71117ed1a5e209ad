package hierarchy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/easkit/foldersync/transport"
)

// File names in a FileStore's directory.
const (
	// SnapshotFile holds the last committed state.
	SnapshotFile = "hierarchy.json"
	// PreviousSnapshotFile holds the state committed before it: the backup Load falls
	// back to when SnapshotFile is damaged.
	PreviousSnapshotFile = "hierarchy.prev.json"
	// tempPrefix starts the names of the files Commit writes before renaming them in.
	tempPrefix = SnapshotFile + ".tmp-"
	// UnverifiedFile marks the committed state as possibly behind the server
	// (State.Unverified): a few bytes written by MarkUnverified, removed by Commit
	// and ClearUnverified, so marking costs one small durable write, not a snapshot.
	UnverifiedFile = "unverified"
)

// DefaultMaxSnapshotSize is the largest snapshot a FileStore writes or reads unless
// told otherwise: 256 MiB, some two million folders.
const DefaultMaxSnapshotSize int64 = 256 << 20

// FileStore is a [Store] in a directory of its own: the durable default.
//
// # File format
//
// The state is one snapshot file, SnapshotFile ("hierarchy.json"): a header line, then
// a JSON body.
//
//	foldersync-hierarchy-snapshot v1 len=<body bytes> sha256=<64 lower-case hex digits>\n
//	{"syncKey":"3","folders":[
//	{"serverId":"1","parentId":"0","displayName":"Inbox","type":2},
//	...
//	]}
//
// The body holds the SyncKey and the folders sorted by ServerId, one a line, with
// their local-add marks ("local": true), so a Status 9 after a restart can still roll
// back a folder created since the last FolderSync. Load accepts a file only if
// everything checks: the magic, the version, a canonical header, a body of exactly the
// announced length, its SHA-256, strict JSON (no unknown fields, nothing after it), a
// SyncKey of 1-64 characters, and folders that form a valid tree (ServerIds of 1-64 characters,
// MS-ASCMD 2.2.3.166.4; Types 1-19, 2.2.3.186.3; no duplicates; no cycles). A file
// failing any check is reported as a [*CorruptError] whose Err says which.
//
// # Commit and crashes
//
// Commit writes the new snapshot to a temporary file in the same directory
// ("hierarchy.json.tmp-*"), fsyncs and closes it, renames the current snapshot to
// PreviousSnapshotFile ("hierarchy.prev.json") if it is a complete one, renames the
// temporary file to SnapshotFile, and fsyncs the directory. Every rename replaces its
// target atomically, so whatever step a crash (of the process or of the machine)
// interrupts, the directory holds at least one complete snapshot of the last
// committed state or of the new one:
//
//	crash after                    directory holds                        Load returns
//	creating or writing the temp   current (old), prev, a partial temp    old, nil
//	fsyncing or closing the temp   current (old), prev, a whole temp      old, nil
//	renaming current to prev       prev (old), a whole temp               old, nil
//	renaming the temp to current   current (new), prev (old)              new, nil
//	fsyncing the directory         current (new), prev (old)              new, nil
//
// (On a first Commit there is no current or previous snapshot: a crash before the
// second rename leaves only a temporary file, and Load returns SyncKey "0" and an
// empty tree, the state before that Commit.)
//
// Temporary files are never loaded (their Commit did not return, so the old state is
// the committed one) and are removed by the next Commit. A machine crash before the
// directory fsync may undo either rename or both; each combination is one of the rows
// above, because the temporary file was fsynced before it was renamed. If the current
// snapshot is damaged, Commit does not rotate it over the good backup but renames the
// new one over it.
//
// # Load
//
// Load tells three outcomes apart:
//
//   - fine: a State and a nil error. This includes a store never committed (SyncKey
//     "0", an empty tree) and a Commit interrupted between its two renames (the
//     previous snapshot is then the last committed state).
//   - recovered: the current snapshot is damaged and the previous one was loaded. Load
//     returns that State and an error for which errors.Is(err, ErrRecoveredFromBackup)
//     holds, and errors.As(err, &ce), with ce a *CorruptError, says what was wrong
//     with the current snapshot. The state is older than the last commit, so its
//     SyncKey is likely stale: the caller should log the error and expect Status 9
//     from the server, or reset to SyncKey 0 and reconcile against this tree
//     (DESIGN rule 5), which keeps every folder that still exists.
//   - nothing usable: snapshots exist but none can be loaded. Load returns the zero
//     State and an error for which errors.Is(err, ErrNoUsableSnapshot) holds, with a
//     *CorruptError for each damaged file. The caller resets to SyncKey 0 with an empty
//     tree; the next Commit replaces the damaged files.
//
// Any other error (permissions, I/O) is returned as it is with the zero State, and
// Load does not fall back: such errors may pass, and loading an older state would lose
// the newer one for nothing.
//
// # Concurrency
//
// A FileStore is safe for concurrent use by the goroutines of one process: Load and
// Commit hold a mutex. Two FileStores on one directory (in one process or in two) are
// not coordinated and must not be used at once.
type FileStore struct {
	dir     string
	maxSize int64
	mu      sync.Mutex
	// crashAt, when set (by tests), is called after each step of Commit; an error
	// stops Commit there, leaving the files as a crash would.
	crashAt func(step string) error
}

// FileStoreOption configures a FileStore.
type FileStoreOption func(*FileStore)

// WithMaxSnapshotSize sets the largest snapshot file, in bytes, that the store writes
// or reads; a larger one is refused before it is read into memory ([ErrTooLarge]). A
// limit of 0 or less keeps [DefaultMaxSnapshotSize].
func WithMaxSnapshotSize(n int64) FileStoreOption {
	return func(s *FileStore) {
		if n > 0 {
			s.maxSize = n
		}
	}
}

// OpenFileStore returns a FileStore keeping its files in dir, which it creates
// (mode 0700: the hierarchy names the user's folders) if it does not exist. It reads
// nothing: Load does.
func OpenFileStore(dir string, opts ...FileStoreOption) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("hierarchy: OpenFileStore: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hierarchy: OpenFileStore: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("hierarchy: OpenFileStore: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("hierarchy: OpenFileStore: %s is not a directory", dir)
	}
	s := &FileStore{dir: dir, maxSize: DefaultMaxSnapshotSize}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

func (s *FileStore) path(name string) string { return filepath.Join(s.dir, name) }

// Load returns the last committed state; see [FileStore] for the three outcomes
// (fine, recovered from the backup, nothing usable). It returns ctx's error, reading
// nothing, if ctx is done.
func (s *FileStore) Load(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	curPath, prevPath := s.path(SnapshotFile), s.path(PreviousSnapshotFile)
	st, err := s.load(curPath, prevPath)
	if st.Tree != nil && !st.Unverified {
		if _, serr := os.Stat(s.path(UnverifiedFile)); serr == nil {
			st.Unverified = true
		}
	}
	return st, err
}

func (s *FileStore) load(curPath, prevPath string) (State, error) {
	cur, curErr := readSnapshot(curPath, s.maxSize)
	if curErr == nil {
		return cur, nil
	}
	curCorrupt := errors.As(curErr, new(*CorruptError))
	if !curCorrupt && !errors.Is(curErr, fs.ErrNotExist) {
		return State{}, curErr
	}
	prev, prevErr := readSnapshot(prevPath, s.maxSize)
	prevMissing := errors.Is(prevErr, fs.ErrNotExist)
	switch {
	case prevErr == nil && curCorrupt:
		return prev, fmt.Errorf("%w (%s): %w", ErrRecoveredFromBackup, prevPath, curErr)
	case prevErr == nil:
		// A Commit stopped between its two renames: the previous snapshot is the
		// last committed state.
		return prev, nil
	case prevMissing && !curCorrupt:
		return State{SyncKey: transport.InitialSyncKey, Tree: &Tree{}}, nil
	case prevMissing:
		return State{}, fmt.Errorf("%w: %w (and there is no %s)", ErrNoUsableSnapshot, curErr, PreviousSnapshotFile)
	case errors.As(prevErr, new(*CorruptError)) && curCorrupt:
		return State{}, fmt.Errorf("%w: %w; %w", ErrNoUsableSnapshot, curErr, prevErr)
	case errors.As(prevErr, new(*CorruptError)):
		return State{}, fmt.Errorf("%w: %s is missing; %w", ErrNoUsableSnapshot, SnapshotFile, prevErr)
	case curCorrupt:
		return State{}, fmt.Errorf("%w; reading the previous snapshot: %w", curErr, prevErr)
	}
	return State{}, prevErr
}

// Commit durably and atomically replaces the state with syncKey and tree (see
// [FileStore] for the steps and what a crash at each leaves). It returns ctx's error
// without changing anything if ctx is done before the first rename;
// [ErrInvalidSyncKey] or [ErrNilTree] for bad arguments; and an error wrapping
// [ErrTooLarge] if the snapshot would exceed the store's limit. It removes the
// temporary files that crashed Commits left.
func (s *FileStore) Commit(ctx context.Context, syncKey string, tree *Tree) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkCommit(syncKey, tree); err != nil {
		return err
	}
	header, body := encodeSnapshot(syncKey, tree, false)
	if size := int64(len(header) + len(body)); size > s.maxSize {
		return fmt.Errorf("hierarchy: commit: %w: the snapshot is %d bytes, the limit %d", ErrTooLarge, size, s.maxSize)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeTemps()
	return s.commit(ctx, header, body)
}

// MarkUnverified sets State.Unverified on the committed state by writing the
// UnverifiedFile marker (fsynced, with its directory): one small write, whatever the
// hierarchy's size, so a session can afford it before every first request. A store
// never committed is left as it is (the next session fetches the full hierarchy
// anyway).
func (s *FileStore) MarkUnverified(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.path(UnverifiedFile)); err == nil {
		return nil
	}
	if !fileExists(s.path(SnapshotFile)) && !fileExists(s.path(PreviousSnapshotFile)) {
		return nil
	}
	f, err := os.OpenFile(s.path(UnverifiedFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("hierarchy: mark unverified: %w", err)
	}
	_, werr := f.WriteString("the committed hierarchy may be behind the server: the next session verifies a no-change answer with SyncKey 0\n")
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("hierarchy: mark unverified: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("hierarchy: mark unverified: %w", err)
	}
	return nil
}

// ClearUnverified removes the marker MarkUnverified wrote ([UnverifiedClearer]). A
// state committed with the flag by an older version keeps it until the next Commit.
func (s *FileStore) ClearUnverified(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clearMarker()
}

// clearMarker removes the marker. Its removal need not be durable: a marker that
// comes back after a machine crash only costs one verification.
func (s *FileStore) clearMarker() error {
	if err := os.Remove(s.path(UnverifiedFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hierarchy: clear unverified: %w", err)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (s *FileStore) commit(ctx context.Context, header, body []byte) error {
	curPath, prevPath := s.path(SnapshotFile), s.path(PreviousSnapshotFile)
	f, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("hierarchy: commit: %w", err)
	}
	tmp := f.Name()
	// fail undoes the steps so far, up to the first rename.
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("hierarchy: commit: %w", err)
	}
	if err := s.crash("create temp", f); err != nil {
		return err
	}
	if _, err := f.Write(header); err != nil {
		return fail(err)
	}
	if err := s.crash("write header", f); err != nil {
		return err
	}
	if _, err := f.Write(body); err != nil {
		return fail(err)
	}
	if err := s.crash("write body", f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := s.crash("fsync temp", f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := s.crash("close temp", nil); err != nil {
		return err
	}
	// The last moment to give up with nothing changed.
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	// Keep the current snapshot as the backup only if it is a complete one: a damaged
	// current snapshot must not replace a good backup.
	if verifySnapshotFile(curPath, s.maxSize) == nil {
		if err := os.Rename(curPath, prevPath); err != nil {
			return fail(err)
		}
		if err := s.crash("rename current to prev", nil); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, curPath); err != nil {
		// The old state is in prevPath (or still in curPath): Load returns it.
		return fail(err)
	}
	if err := s.crash("rename temp to current", nil); err != nil {
		return err
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("hierarchy: commit: the new snapshot is in place but may not be durable: %w", err)
	}
	if err := s.crash("fsync directory", nil); err != nil {
		return err
	}
	// The new state is the server's answer: nothing is unverified any more. A crash
	// before this removal leaves the marker, which only costs a verification.
	return s.clearMarker()
}

// crash runs the test hook after a step of Commit; on a simulated crash it closes f
// (as the dying process would) and leaves every file as it is.
func (s *FileStore) crash(step string, f *os.File) error {
	if s.crashAt == nil {
		return nil
	}
	err := s.crashAt(step)
	if err != nil && f != nil {
		f.Close()
	}
	return err
}

// removeTemps removes the temporary files of Commits that did not finish. Errors are
// ignored: a leftover temporary file is never read.
func (s *FileStore) removeTemps() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) && e.Type().IsRegular() {
			os.Remove(s.path(e.Name()))
		}
	}
}

// syncDir fsyncs a directory, making the renames in it durable. Windows cannot
// fsync a directory: there a machine crash just after Commit may undo the commit, but
// still never tears it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
