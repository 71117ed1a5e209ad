// Package machine will run one FolderSync session to synced or failed under the
// transitions table: it asks transitions what an outcome means, asks policy how long
// to wait, asks the transport for a round trip, commits through the hierarchy store,
// and records every transition in a replayable audit log.
//
// The recovery-core issue builds it; until then the package holds only this
// description (see ../shared/DESIGN.md, "Rooms").
package machine
