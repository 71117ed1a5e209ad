// Package transitions will hold the single source of truth of foldersync: the table
// (state, event) -> state with named guards, and the classification of every outcome
// into an event: FolderSync statuses (MS-ASCMD 2.2.3.177.5), common statuses 101-177
// (MS-ASCMD 2.2.2), HTTP codes (MS-ASHTTP 2.2.2.1.1), timeouts and transport errors.
// Code, tests, docs and graphs are derived from it.
//
// It is pure data and lookups. The recovery-core issue builds it; until then the
// package holds only this description (see ../shared/DESIGN.md, "Rooms").
package transitions
