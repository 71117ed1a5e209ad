// Package machine runs FolderSync sessions under the transitions table.
//
// Its heart is Decide, a pure function: from a session's state, its history
// (Counters) and a Stimulus (a session event, or the outcome of a request with the
// facts guards need) it computes the next Step: the table row taken, the guards
// consulted, the event fired after any fallbacks, and the wait chosen. It reads only
// the transitions table and the policy: no I/O, no clock, no randomness beyond the
// policy's seeded jitter. Every step becomes an audit Record (DESIGN rule 8) that
// carries its stimulus, so Replay re-derives a whole session from its log and
// reports the first divergence.
//
// Session performs the I/O around Decide: transport round trips (and, when the table
// says so, a redirect followed or provisioning first), commits through a
// hierarchy.Store, waits on an injected clock, looplab/fsm run in step behind an
// adapter, and an audit Record per transition to a Sink and an Observer.
package machine
