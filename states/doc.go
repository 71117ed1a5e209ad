// Package states will hold the six states of a FolderSync session (idle, awaiting,
// retrying, resetting, failed, synced) as typed values with a description and flags
// (terminal, request in flight).
//
// It is pure data: no I/O, no clock. The recovery-core issue builds it; until then
// the package holds only this description (see ../shared/DESIGN.md, "Rooms").
package states
