// Package hierarchy is the folder tree of one Exchange ActiveSync account: the
// idempotent application of FolderSync changes, reconciliation after a reset, and
// durable, atomic storage of the tree together with its SyncKey.
//
// # The tree
//
// A [Tree] maps ServerIds to [Folder]s. [Tree.Apply] applies the Changes of a
// FolderSync response (MS-ASCMD 2.2.1.5, 2.2.3.25) in document order, idempotently
// (DESIGN rule 2): a resent request may be answered with the same changes again, and
// applying them twice leaves the same tree as applying them once. [Tree.Reconcile] is
// the mark-and-sweep that follows a reset to SyncKey 0 (DESIGN rule 5; MS-ASCMD
// 2.2.3.25: "clients MUST be able to handle having the server return a completely
// different set of mapped data"): folders whose ServerId comes back are kept, only
// those that do not come back are removed, and the tree is never wiped first.
// Folders the client created itself (FolderCreate) are marked with [Tree.AddLocal] and
// can be rolled back with [Tree.RollbackLocal] when the server answers Status 9
// (MS-ASCMD 2.2.3.177.5, "Handling Status Errors").
//
// Both Apply and Reconcile are all or nothing: invalid input (an empty ServerId, a
// ServerId longer than 64 characters, MS-ASCMD 2.2.3.166.4; an undefined folder Type,
// 2.2.3.186.3; a folder that would become its own ancestor) is an error that leaves the
// tree as it was.
//
// # Storage
//
// A [Store] holds the last committed [State]: a SyncKey and the tree it belongs to.
// [Store.Commit] replaces both in one atomic step (DESIGN rule 1: a crash leaves the
// old state or the new, never a mix). [MemoryStore] keeps the state in memory;
// [FileStore] keeps it in a checksummed snapshot file, written with write, fsync,
// rename and directory fsync, and keeps the previous snapshot as a backup. See
// [FileStore] for the file format and for what [FileStore.Load] returns after a crash
// or on a damaged disk.
//
// A Tree is not safe for concurrent use; the stores are.
package hierarchy
