// Package soak runs fault campaigns: many simulated accounts, each a sequence of
// FolderSync sessions against a transport/sim server, with a seeded fault schedule
// on every session and seeded server-side churn between sessions, and checks after
// every session that recovery kept its promises. It generalises the seeded property
// test of package machine (TestSeededFaultSchedulesEveryProfile) from one faulty
// sync per account to long sequences, over the full fault menu, in process or over
// loopback HTTP.
//
// # A campaign
//
// For each server profile in [Config.Profiles] and each seed (one seed is one
// account: a sim.Server seeded with sim.DefaultFolders, a hierarchy.MemoryStore, a
// machine.SimClock, one audit log), [Run] runs [Config.Sessions] sessions. Before
// every session but the first, the server's hierarchy churns (adds of single folders
// and of small subtrees, renames, moves of folders with their subtrees, deletes of
// folders with their subtrees; 0 to 4 operations, chosen by a generator seeded with
// the seed and the session number), and the simulated clock advances by
// [Config.Interval]. Every session goes through faults.Wrap with faults.Seeded over
// [Config.Menu] at [Config.FaultRate], its seed derived from the account's seed and
// the session number: the same Config gives the same sessions, the same audit logs
// and the same [Summary]. Waits cost no real time (machine.SimClock).
//
// With [Config.HTTP] each account's server is served by sim.NewHandler on a
// loopback listener (127.0.0.1, port chosen by the system) and the session's
// transport is a transport/httpeas client, wrapped by the fault injector: every
// request crosses real HTTP (OPTIONS negotiation, Basic authentication, gzip), and
// the server performs on the wire every fault it can (faults.Wire): it resets the
// connection before serving (connection-reset), serves and then resets it
// (response-lost), serves and cuts the body short (truncated) or damages one byte
// (corrupt), serves and adds X-MS-RP (reset-requested), answers a status-only body
// (status-N) or an HTTP error with its Retry-After and X-MS-ASThrottle headers
// (http-N). The HTTP client's own code then meets them. Request-lost and timeout,
// which need the client's timer to run out in real time, a 451 (its X-MS-Location
// names a host loopback cannot reach) and a Retry-After in fractions of a second
// stay with the wrapper, above the client. The Summary counts the faults performed
// on the wire (OnWire).
//
// # What is checked after every session
//
// A session ends synced or failed. Either way:
//
//   - attempts: the session sent at most policy max_attempts requests, and exactly
//     as many as the audit log records (the transport counts its calls);
//   - resend budget: no streak of resends after lost responses is longer than
//     resend.max_resends;
//   - reset guard: counting the resets of earlier sessions that the harness carries
//     across sessions (as foldersync sync does, machine.Config.PriorResets), no
//     reset brought the number inside any reset_guard.window above
//     reset_guard.max_resets;
//   - waits: the simulated time the session waited is at most
//     backoff.max_elapsed (when the policy sets one);
//   - replay: the session's records, read back from the JSON Lines audit log, are
//     one session that machine.Replay re-derives identically under the policy, and
//     whose last state is the session's result;
//   - goroutines: runtime.NumGoroutine, after a settle loop, is back to what it was
//     before the session (with HTTP, once the client's idle connections are
//     closed), and back to what it was before the campaign once the account's
//     server is shut;
//   - tree: the stored hierarchy has no orphan (every ParentId is the root or a
//     stored folder).
//
// A synced session must also have converged: the stored hierarchy equals the
// server's, folder for folder (ServerId, ParentId, DisplayName, Type: none lost,
// none duplicated, none stale), the stored SyncKey is the server's current key,
// and the session's Result says the same as the store.
//
// A failed session must have left the store as it found it (same SyncKey, same
// folders), its error must be a *machine.Error, and its kind must be acceptable
// (below). Then, as in the property test, the next clean sync must converge: once
// the reset guard's window has passed (the hint of ErrBudget and ErrResetLoop is
// "sync again later"), a sync with no faults and no server change must end synced,
// with every check above ([Config.ChurnBeforeCleanSync] lets the server change
// first, as a real one would). That clean sync is counted apart (CleanSyncs); its
// failure, whatever the kind, is a violation. (With reset_guard.max_resets 0 the
// policy forbids the reset a clean sync may need: ErrResetLoop is then accepted and
// the account ends there.)
//
// # Which failures are acceptable
//
// The rule: a failure is acceptable only when the policy says so under the faults
// the session actually met. By kind:
//
//   - machine.ErrBudget: a retry budget (max_attempts, resend.max_resends,
//     unknown_status_retries, backoff.max_elapsed) was spent; accepted when the
//     session met at least one injected fault.
//   - machine.ErrResetLoop: the reset guard refused; accepted when the session met
//     an injected fault or inherited resets inside the window from earlier
//     sessions, or when reset_guard.max_resets is 0.
//   - machine.ErrThrottled: accepted when the last request got an injected HTTP 503
//     whose Retry-After is longer than retry_after_cap.
//   - The kinds that end a session at once on what the server said
//     (ErrMalformedRequest for an injected Status 10 or HTTP 400, ErrAuth,
//     ErrDenied, ErrPasswordExpired, ErrNotSupported, ErrServerFull, ErrRemoteWipe,
//     ErrServerError, ErrStatus, also for a status a policy override makes fatal)
//     and the kinds of refused redirects and provisioning (ErrRedirect,
//     ErrProvisioning): accepted when the last request's answer was injected.
//   - Never: machine.ErrCommit (the campaign injects no store faults),
//     machine.ErrCancelled (the campaign never cancels a session; a session that
//     outlives [Config.SessionTimeout] is reported as hung), and any error that is
//     not a *machine.Error (an internal error).
//
// Every broken check is a [Violation]: Run keeps going with the next account and
// reports the violations in the Summary, each with the account's audit log up to
// the failing session and the arguments of a `foldersync soak` command that
// reruns that one account ([Config.ReproArgs]).
//
// # Measurements
//
// Per profile the [Summary] counts sessions, synced and failed sessions (by kind),
// requests, injected faults, resends, resets, verifications, recoveries (sessions
// that needed more than one request) with the distribution of their round trips,
// and wasted requests: requests beyond the minimum the policy allows, which is one
// per injected fault, one per verification the policy asks for
// (verify_after_lost_response), and the final successful request. The answer that
// asked for a verification the reset guard then refused counts as wasted.
//
// Faults that end a session at once (Status 10, a Retry-After above the cap) are
// not in DefaultMenu, which would make such failures common; add them with
// [Config.Menu] (foldersync soak --menu).
package soak
