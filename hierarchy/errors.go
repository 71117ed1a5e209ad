package hierarchy

import (
	"errors"
	"fmt"

	"github.com/easkit/foldersync/transport"
)

// Errors for invalid folders and changes. They are wrapped in a [*ChangeError] (from
// [Tree.Apply] and [Tree.Reconcile]) or a [*FolderError] (from [BuildTree] and
// [Tree.AddLocal]); test for them with errors.Is.
var (
	// ErrEmptyServerID: every folder and every change carries a ServerId
	// (MS-ASCMD 2.2.3.166.4).
	ErrEmptyServerID = errors.New("hierarchy: empty ServerId")
	// ErrIDTooLong: a ServerId or ParentId longer than the 64 characters MS-ASCMD
	// 2.2.3.166.4 and 2.2.3.129.2 allow (counted in bytes, as transport does).
	ErrIDTooLong = errors.New("hierarchy: ServerId or ParentId longer than 64 characters")
	// ErrRootID: "0" is the ParentId of top-level folders (MS-ASCMD 2.2.3.129.2), so
	// it cannot name a folder.
	ErrRootID = errors.New(`hierarchy: ServerId "0" names the root of the hierarchy, not a folder`)
	// ErrInvalidUTF8: FolderSync text is UTF-8 (MS-ASWBXML 2.1.1); a ServerId, ParentId
	// or DisplayName that is not could not be stored exactly.
	ErrInvalidUTF8 = errors.New("hierarchy: text is not valid UTF-8")
	// ErrInvalidType: a folder Type outside 1-19 (MS-ASCMD 2.2.3.186.3).
	ErrInvalidType = errors.New("hierarchy: folder type is not one MS-ASCMD 2.2.3.186.3 defines")
	// ErrInvalidOp: a change that is not an Add, Update or Delete.
	ErrInvalidOp = errors.New("hierarchy: change is not an Add, Update or Delete")
	// ErrCycle: a folder would become its own ancestor.
	ErrCycle = errors.New("hierarchy: folder would become its own ancestor")
	// ErrDuplicate: two folders with one ServerId in a list that must not repeat them
	// (BuildTree, a stored snapshot).
	ErrDuplicate = errors.New("hierarchy: duplicate ServerId")
	// ErrExists: AddLocal of a ServerId the tree already holds.
	ErrExists = errors.New("hierarchy: a folder with this ServerId exists")
	// ErrUnknownParent: AddLocal under a ParentId that is neither "0" nor a folder of
	// the tree (FolderCreate needs an existing parent, MS-ASCMD 2.2.1.3).
	ErrUnknownParent = errors.New("hierarchy: parent folder is not in the tree")
)

// ChangeError reports the change of a FolderSync response that [Tree.Apply] or
// [Tree.Reconcile] refused. The tree is unchanged when one is returned.
type ChangeError struct {
	// Index is the position of the change in the list, from 0.
	Index int
	// Change is the refused change.
	Change transport.FolderChange
	// Err says what is wrong: ErrEmptyServerID, ErrIDTooLong, ErrRootID,
	// ErrInvalidUTF8, ErrInvalidType, ErrInvalidOp or ErrCycle (possibly wrapped with
	// detail, so test with errors.Is).
	Err error
}

// Error names the change, its position and the reason.
func (e *ChangeError) Error() string {
	return fmt.Sprintf("hierarchy: change %d (%s %q): %v", e.Index, e.Change.Op, e.Change.ServerID, e.Err)
}

// Unwrap returns Err.
func (e *ChangeError) Unwrap() error { return e.Err }

// FolderError reports a folder that [BuildTree] or [Tree.AddLocal] refused.
type FolderError struct {
	// Index is the position of the folder in the list given to BuildTree, or -1.
	Index int
	// Folder is the refused folder.
	Folder Folder
	// Err says what is wrong (see the Err variables of this package).
	Err error
}

// Error names the folder and the reason.
func (e *FolderError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("hierarchy: folder %q: %v", e.Folder.ServerID, e.Err)
	}
	return fmt.Sprintf("hierarchy: folder %d (%q): %v", e.Index, e.Folder.ServerID, e.Err)
}

// Unwrap returns Err.
func (e *FolderError) Unwrap() error { return e.Err }

// Errors of the stores.
var (
	// ErrInvalidSyncKey: Commit of an empty SyncKey, one longer than the 64
	// characters MS-ASCMD 2.2.3.181.2 allows, or one that is not UTF-8.
	ErrInvalidSyncKey = errors.New("hierarchy: invalid SyncKey")
	// ErrNilTree: Commit of a nil *Tree.
	ErrNilTree = errors.New("hierarchy: nil tree")
	// ErrRecoveredFromBackup is part of the error [FileStore.Load] returns together
	// with a usable State when the current snapshot was damaged and the previous one
	// was loaded instead. The same error holds a [*CorruptError] saying what was wrong
	// with the current snapshot.
	ErrRecoveredFromBackup = errors.New("hierarchy: current snapshot unusable, loaded the previous one")
	// ErrNoUsableSnapshot is part of the error [FileStore.Load] returns when snapshots
	// exist but none is usable; the same error holds a [*CorruptError] for each.
	ErrNoUsableSnapshot = errors.New("hierarchy: no usable snapshot")
)

// The kinds of damage a [*CorruptError] reports (its Err; test with errors.Is).
var (
	// ErrBadMagic: the file does not start with the snapshot magic: it is not a
	// snapshot, or its first bytes are damaged.
	ErrBadMagic = errors.New("not a hierarchy snapshot (bad magic)")
	// ErrBadHeader: the header line is malformed, or of an unknown format version.
	ErrBadHeader = errors.New("malformed snapshot header")
	// ErrTruncated: the file ends before the header line or the body it announces.
	ErrTruncated = errors.New("snapshot truncated")
	// ErrTrailingData: the file is longer than the header says.
	ErrTrailingData = errors.New("data after the snapshot body")
	// ErrChecksumMismatch: the body's SHA-256 differs from the header's.
	ErrChecksumMismatch = errors.New("snapshot checksum mismatch")
	// ErrBadJSON: the body (with a matching checksum) is not the JSON a snapshot holds.
	ErrBadJSON = errors.New("snapshot body is not valid JSON")
	// ErrInvalidSnapshot: the body is well-formed but its data is not a valid state
	// (bad SyncKey, invalid or duplicate folders, a cycle).
	ErrInvalidSnapshot = errors.New("invalid data in snapshot")
	// ErrTooLarge: the snapshot is larger than the store's limit
	// ([WithMaxSnapshotSize]). Commit refuses to write such a snapshot with an error
	// wrapping it; Load reports such a file as a [*CorruptError].
	ErrTooLarge = errors.New("snapshot larger than the limit")
)

// CorruptError reports a snapshot file that cannot be used: torn by a crash, damaged
// on disk, or not a snapshot at all.
type CorruptError struct {
	// Path is the file.
	Path string
	// Reason says what is wrong, for people.
	Reason string
	// Err is the kind of damage, for programs: ErrBadMagic, ErrBadHeader,
	// ErrTruncated, ErrTrailingData, ErrChecksumMismatch, ErrBadJSON,
	// ErrInvalidSnapshot or ErrTooLarge.
	Err error
}

// Error names the file, the kind of damage and the reason.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("hierarchy: snapshot %s is unusable: %v: %s", e.Path, e.Err, e.Reason)
}

// Unwrap returns Err.
func (e *CorruptError) Unwrap() error { return e.Err }
