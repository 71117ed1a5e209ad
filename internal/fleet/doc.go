// Package fleet measures a fleet of FolderSync sessions in one process (issue 6:
// 10,000 concurrent sessions, under 16 KiB of heap per idle session). N accounts,
// each with its own transport/sim server (profile Replay, sim.DefaultFolders),
// hierarchy.MemoryStore, machine.SimClock and machine.Session, are synced
// concurrently, one goroutine each. It has no API; everything is in its tests.
//
// TestFleet (skipped with -short) runs 10,000 sessions, or FOLDERSYNC_FLEET, and
// 2,000 under the race detector, once per audit sink: none (Config.Audit nil),
// own (one machine.JSONLines over io.Discard per session) and shared (one for the
// fleet). Round 1 is every session's initial sync; round 2 churns every server and
// syncs again through a seeded fault schedule (transport/faults), so sessions
// resend, verify and reset. After each round every session must have synced and
// its store must equal its server. Figures are logged (-v), never asserted:
//
//   - client heap per idle session: live heap (runtime.MemStats.HeapAlloc after
//     two runtime.GC calls) once round 1 has ended, less the live heap with only
//     the servers built, less what one initial sync adds to a server (measured
//     apart on servers no session uses), divided by N. It is the Session, the
//     MemoryStore with its committed 16-folder tree, the SimClock and the sink,
//     and whatever they keep reachable.
//   - server heap per session: the same method over the servers alone.
//   - a session in flight: live heap and goroutine stacks with every round-2
//     session parked in its first request (a gate in front of the transport),
//     less the same before the goroutines started, divided by N.
//   - after round 2: the fleet is taken apart (sessions, then stores, clocks and
//     sinks, then servers) with the live heap read after each step.
//   - throughput: N over the wall time of a round; peak heap: the largest
//     /memory/classes/heap/objects:bytes runtime/metrics reported during the round,
//     sampled every millisecond and by every 32nd session as it ends.
//
// The runtime keeps the descriptor of every ended goroutine for reuse (about
// 500 B of heap each); TestFleet starts N goroutines once before measuring, so no
// figure includes them.
//
//	go test ./internal/fleet -run TestFleet -v -count=1 -cpu 1,2
//	FOLDERSYNC_FLEET=50000 go test ./internal/fleet -run TestFleet -v -count=1
//	go test ./internal/fleet -run '^$' -bench FleetSync -benchtime 10000x -benchmem -count 10 -cpu 1,2
//
// Heap profiles of the fleet idle after round 1 (idle.pprof.MODE), parked in
// round 2 (.parked) and idle after round 2 (.round2):
//
//	go test ./internal/fleet -run TestFleet -count=1 -memprofilerate 1 -fleet.memprofile idle.pprof -o fleet.test
//	go tool pprof -sample_index=inuse_space -top fleet.test idle.pprof.none
package fleet
