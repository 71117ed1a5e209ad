// Package sim is an in-process Exchange ActiveSync server for FolderSync
// (MS-ASCMD 2.2.1.5) that implements [transport.Transport]: a session can be run
// against it in a test, with no network, no clock and no randomness, and the same
// calls give the same answers every time.
//
// # State
//
// A [Server] holds a mutable folder hierarchy ([Server.AddFolder],
// [Server.RenameFolder], [Server.MoveFolder], [Server.DeleteFolder], [Server.Seed])
// and the FolderSync state of one device. Each successful FolderSync issues a new
// SyncKey ("1", "2", ..., after an optional prefix, [WithKeyPrefix]) and records the
// hierarchy that key names. A FolderSync with the current key is answered with
// Status 1, the changes between the hierarchy that key named and the hierarchy now
// (Adds, Updates for renamed or moved folders, one Delete per removed folder), and a
// new key. Key "0" is answered with the whole hierarchy as Adds and a new key.
//
// # Profiles
//
// Real servers differ on what they do with a key that is not the current one
// (DESIGN.md, "Real peers"; ../shared/servers/sogo/README.md for SOGo). A
// [Profile] chooses which one the server imitates:
//
//   - [Replay], like Horde ActiveSync: the previous key (the client resends
//     because it lost our last response) gets the lost response again, byte for
//     byte; any other unknown key gets Status 9.
//   - [Reexecute], like Z-Push: the previous key re-runs the request against the
//     hierarchy that key named and issues a new key; the key the lost response
//     carried is forgotten; any other unknown key gets Status 9.
//   - [Lenient], like SOGo 5.8: keys are never compared. Any non-zero key from a
//     device that has synced gets Status 1 with the changes since the last
//     response the server sent (its per-device folder cache); a new key is issued
//     only when there are changes, otherwise the key sent is echoed with Count 0.
//     So a resend after a lost response gets "no changes" and the lost changes are
//     never sent again (DESIGN rule 3). A non-zero key before any key-0 sync gets
//     Status 9 (SOGo: "Status 9 only for a device with no state"). An empty key
//     gets Status 1, Count 0 and the empty key echoed, whatever changed.
//   - [SilentReset]: a stale or unknown key gets Status 1 with the whole
//     hierarchy as Adds and a new key, as if the client had sent key 0.
//
// # Wire
//
// Every round trip goes through the codec of package transport: the request is
// encoded and decoded before the server reads it, and the response is encoded
// (by the server) and decoded (for the client) before it is returned, so sim
// traffic exercises MarshalWBXML and the decoders. A request body the decoder
// refuses (a SyncKey over 64 characters) is answered with HTTP 500 and no body, as
// SOGo answers an unreadable body.
//
// [Server.History] logs every exchange (key sent, how the server classified it,
// status, key returned, number of changes) for tests and audits.
package sim
