// Package transitions is the single source of truth of foldersync: the table that
// says, for every state of a session and every event, where the session goes
// (Rows, Lookup), and the classification that turns the outcome of a request into
// an event (Classify, Rules). Code, tests, docs and graphs derive from it.
//
// A row may name a Guard, a condition the session checks against its policy and
// history (a retry budget, the reset loop guard); when it fails the row's Else
// event is fired instead, so budgets and loop guards are visible in the table.
// Pairs a state does not accept are rejected explicitly, with a reason, and
// Validate proves the table sound: every state reachable from idle, synced and
// failed reachable from every state before them, no pair defined twice, every pair
// handled or rejected.
//
// The facts behind the classification (each code's name, meaning, resolution and
// spec section: FolderSync statuses, MS-ASCMD 2.2.3.177.5; common statuses,
// MS-ASCMD 2.2.2; HTTP codes, MS-ASHTTP) are in statuscodes.tsv, embedded at build
// time; statuscodes.md says where each came from. What each code does to a session
// is decided in classify.go; a test keeps the two in step. An unknown code maps to
// a defined event, never to a panic.
//
// The package is pure data and lookups: no I/O, no clock. Package machine runs it.
package transitions
