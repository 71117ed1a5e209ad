// Package states defines the six states of one FolderSync session: idle, awaiting,
// retrying, resetting, failed and synced. Each is a typed value with a name (used in
// the transitions table, the audit log and the rendered graphs), a description and two
// flags: terminal (the session is over) and request in flight (a FolderSync request
// has been sent and its outcome is pending).
//
// The package is pure data: no I/O, no clock. What moves a session between states
// lives in package transitions.
package states
