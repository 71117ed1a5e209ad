package fleet_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

var memProfile = flag.String("fleet.memprofile", "",
	"write heap profiles of the fleet to `file`.MODE (idle after round 1), file.MODE.parked (round 2, "+
		"parked in a request) and file.MODE.round2 (idle after round 2); use with -memprofilerate 1")

// start is the simulated time at which every account's clock begins.
var start = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// fleetSize is FOLDERSYNC_FLEET, or 10,000 (2,000 under the race detector).
func fleetSize(tb testing.TB) int {
	if s := os.Getenv("FOLDERSYNC_FLEET"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			tb.Fatalf("FOLDERSYNC_FLEET=%q: want a positive number of sessions", s)
		}
		return n
	}
	if raceEnabled {
		return 2000
	}
	return 10000
}

// sinkMode is where the sessions' audit records go.
type sinkMode int

const (
	sinkNone   sinkMode = iota // Config.Audit nil
	sinkOwn                    // one machine.JSONLines over io.Discard per session
	sinkShared                 // one machine.JSONLines over io.Discard for the whole fleet
)

var sinkModes = []sinkMode{sinkNone, sinkOwn, sinkShared}

func (m sinkMode) String() string {
	switch m {
	case sinkNone:
		return "none"
	case sinkOwn:
		return "own"
	case sinkShared:
		return "shared"
	}
	return "sinkMode(" + strconv.Itoa(int(m)) + ")"
}

// account is one simulated account: its server, and the client side a process
// keeps for it between syncs (store, clock, sink, session). The scaffolding of
// round 2 (fault injector, gate) is kept apart.
type account struct {
	server  *sim.Server
	store   *hierarchy.MemoryStore
	clock   *machine.SimClock
	sink    machine.Sink
	session *machine.Session

	faults *faults.Transport
	gate   *gate

	err      error
	attempts int
	resets   int
}

// buildServers gives every account a server with the default hierarchy (16
// folders), profile Replay.
func buildServers(accts []account) {
	for i := range accts {
		accts[i].server = sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	}
}

// buildClients gives every account an empty MemoryStore, its own SimClock and,
// with sinkOwn, its own audit sink. shared is the fleet's sink for sinkShared.
func buildClients(accts []account, mode sinkMode, shared machine.Sink) {
	for i := range accts {
		a := &accts[i]
		a.store = hierarchy.NewMemoryStore()
		a.clock = machine.NewSimClock(start)
		switch mode {
		case sinkOwn:
			a.sink = machine.NewJSONLines(io.Discard)
		case sinkShared:
			a.sink = shared
		}
	}
}

// buildSessions gives every account a Session over tr(i, a).
func buildSessions(tb testing.TB, accts []account, tr func(i int, a *account) transport.Transport) {
	for i := range accts {
		a := &accts[i]
		s, err := machine.New(machine.Config{
			Transport: tr(i, a), Store: a.store, Clock: a.clock, Audit: a.sink,
			SessionID: "acct-" + strconv.Itoa(i),
		})
		if err != nil {
			tb.Fatal(err)
		}
		a.session = s
	}
}

// sync runs the account's session once and records how it ended in a.
func (a *account) sync() {
	res, err := a.session.Sync(context.Background())
	if err == nil && res.State != states.Synced {
		err = fmt.Errorf("session ended %s without an error", res.State)
	}
	if res != nil {
		a.attempts += res.Counters.Attempts
		a.resets += len(res.Counters.Resets)
	}
	a.err = err
}

// heapNow is the live heap: runtime.MemStats.HeapAlloc after two full collections
// (the second also frees what the first one's finalizers and sweeps left), and the
// goroutine stacks in use.
func heapNow() (heap, stacks uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

func perSession(after, before uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}

// warmGoroutines starts n goroutines that wait for each other, then ends them, and
// returns what the runtime kept per goroutine. The runtime keeps the descriptor of
// an ended goroutine on the heap for reuse; a fleet warmed up first keeps those
// out of its figures (otherwise the first fleet to reach a new peak of goroutines
// pays for them all).
func warmGoroutines(n int) float64 {
	h0, _ := heapNow()
	var started, ended sync.WaitGroup
	started.Add(n)
	ended.Add(n)
	release := make(chan struct{})
	for range n {
		go func() {
			defer ended.Done()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	close(release)
	ended.Wait()
	h1, _ := heapNow()
	return perSession(h1, h0, n)
}

// serverCost is what one sim server costs on the heap: seeded with the default
// hierarchy, and after one initial FolderSync (key "0" answered, key "1" issued,
// the encoded answer kept for a replay, one exchange logged). Measured once, over
// n servers nothing else refers to, and subtracted from the fleet's figures: a
// session's first Sync leaves its server in exactly that state.
var serverCost = sync.OnceValues(func() (seeded, synced float64) {
	const n = 2000
	servers := make([]*sim.Server, n)
	h0, _ := heapNow()
	for i := range servers {
		servers[i] = sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	}
	h1, _ := heapNow()
	for _, s := range servers {
		reply, err := s.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey})
		if err != nil || reply.Response.Status != 1 {
			panic(fmt.Sprintf("fleet: a bare initial FolderSync failed: %v", err))
		}
	}
	h2, _ := heapNow()
	runtime.KeepAlive(servers)
	return perSession(h1, h0, n), perSession(h2, h0, n)
})

// roundStats is what one concurrent round measured.
type roundStats struct {
	wall time.Duration
	gcs  uint32
	peaks
}

// peaks are the largest values runtime/metrics reported while a round ran.
// runtime/metrics does not stop the world, unlike ReadMemStats.
type peaks struct {
	mu      sync.Mutex
	heap    uint64 // /memory/classes/heap/objects:bytes: live and not yet swept
	stacks  uint64 // /memory/classes/heap/stacks:bytes
	goal    uint64 // /gc/heap/goal:bytes
	gs      uint64 // /sched/goroutines:goroutines
	samples int
}

var peakMetrics = []string{
	"/memory/classes/heap/objects:bytes", "/memory/classes/heap/stacks:bytes",
	"/gc/heap/goal:bytes", "/sched/goroutines:goroutines",
}

// observe reads the metrics once and keeps the peaks.
func (p *peaks) observe() {
	s := make([]metrics.Sample, len(peakMetrics))
	for i, name := range peakMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heap = max(p.heap, s[0].Value.Uint64())
	p.stacks = max(p.stacks, s[1].Value.Uint64())
	p.goal = max(p.goal, s[2].Value.Uint64())
	p.gs = max(p.gs, s[3].Value.Uint64())
	p.samples++
}

// sampleEvery is how often, in sessions, a session goroutine samples the peaks
// when it ends. A ticker alone is not enough: with thousands of runnable
// goroutines, and with GOMAXPROCS=1 most of all, its goroutine runs too seldom.
const sampleEvery = 32

// runRound runs every account's sync concurrently, one goroutine each, and
// measures the round: wall clock from the first goroutine's start (or from ready's
// return) to the last one's end, and the peaks while it runs (sampled every
// millisecond and by every 32nd session as it ends). ready, if not nil, runs once
// every goroutine has started and before the clock starts (round 2 measures the
// sessions parked at their gates there, then opens them).
func runRound(accts []account, ready func()) *roundStats {
	st := &roundStats{}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0 := ms.NumGC
	var wg sync.WaitGroup
	wg.Add(len(accts))
	begin := time.Now()
	for i := range accts {
		go func(a *account, sample bool) {
			defer wg.Done()
			a.sync()
			if sample {
				st.observe()
			}
		}(&accts[i], i%sampleEvery == sampleEvery-1)
	}
	if ready != nil {
		ready()
		begin = time.Now()
	}
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			st.observe()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	wg.Wait()
	st.wall = time.Since(begin)
	close(stop)
	<-ticked
	runtime.ReadMemStats(&ms)
	st.gcs = ms.NumGC - gc0
	return st
}

// gate parks a session's first request until the fleet has been measured: it
// stands for the network wait in which a real session spends most of its time.
type gate struct {
	inner   transport.Transport
	arrived *sync.WaitGroup
	open    <-chan struct{}
	passed  bool // a Session makes one request at a time
}

func (g *gate) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	if !g.passed {
		g.passed = true
		g.arrived.Done()
		select {
		case <-g.open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.inner.FolderSync(ctx, req)
}

// Unwrap implements transport.Wrapper.
func (g *gate) Unwrap() transport.Transport { return g.inner }

// churn changes account i's server hierarchy before round 2, deterministically
// from i: a new folder, a rename, and sometimes a delete (with its subtree) and a
// move to the top. Default folders are renamed at most, never deleted or moved.
func churn(s *sim.Server, i int) error {
	rng := rand.New(rand.NewPCG(uint64(i), 6))
	fs := s.Folders()
	parent := fs[rng.IntN(len(fs))]
	if err := s.AddFolder(hierarchy.Folder{ServerID: "fleet-" + strconv.Itoa(i), ParentID: parent.ServerID,
		DisplayName: "Fleet " + strconv.Itoa(i), Type: transport.FolderUserMail}); err != nil {
		return err
	}
	if err := s.RenameFolder(fs[rng.IntN(len(fs))].ServerID, "Renamed "+strconv.Itoa(i)); err != nil {
		return err
	}
	var user []string
	for _, f := range fs {
		if !f.Type.IsDefault() {
			user = append(user, f.ServerID)
		}
	}
	switch rng.IntN(4) {
	case 0:
		return s.DeleteFolder(user[rng.IntN(len(user))])
	case 1:
		return s.MoveFolder(user[rng.IntN(len(user))], hierarchy.RootID)
	}
	return nil
}

// round2Menu is what the round-2 schedule injects: every fault that leaves no
// usable answer (the server applied the request or not), a Status 9 (the session
// resets to SyncKey 0 and reconciles) and a throttling 503 (a backoff wait).
var round2Menu = []faults.Fault{
	faults.RequestLost, faults.ResponseLost, faults.Timeout, faults.ConnectionReset,
	faults.TruncatedBody, faults.CorruptBody, faults.Status(9), faults.HTTP(503, 30*time.Second, true),
}

const (
	round2Rate   = 0.5 // the chance that each of the first calls faults
	round2Faulty = 3   // calls after the third are never faulted: within policy.Default's budget
)

// round2Schedule is account i's fault schedule: faults.Seeded with seed i+1 over
// the first round2Faulty calls, nothing after.
func round2Schedule(i int) faults.Schedule {
	seeded := faults.Seeded(int64(i)+1, round2Rate, round2Menu...)
	return faults.ScheduleFunc(func(call int) faults.Fault {
		if call > round2Faulty {
			return faults.None
		}
		return seeded.Fault(call)
	})
}

// requireConverged checks that every account's session synced and that its store
// holds its server's key and hierarchy, folder for folder.
func requireConverged(t *testing.T, accts []account) {
	t.Helper()
	var bad []string
	for i := range accts {
		a := &accts[i]
		err := a.err
		if err == nil {
			st, lerr := a.store.Load(context.Background())
			want := hierarchy.NewTree(a.server.Folders()...)
			switch {
			case lerr != nil:
				err = lerr
			case st.SyncKey != a.server.CurrentKey():
				err = fmt.Errorf("stored key %q, server's %q", st.SyncKey, a.server.CurrentKey())
			case !want.Equal(st.Tree):
				err = fmt.Errorf("client and server differ: %v", want.Diff(st.Tree))
			case st.Unverified:
				err = errors.New("the stored state is still marked unverified")
			}
		}
		if err != nil {
			bad = append(bad, fmt.Sprintf("account %d: %v", i, err))
		}
	}
	require.Empty(t, bad, "%d of %d accounts did not converge", len(bad), len(accts))
}

// TestFleet runs N accounts (FOLDERSYNC_FLEET, default 10,000; 2,000 under the
// race detector) in one process, once per audit sink mode, and logs what they cost:
//
//   - round 1: every session's initial FolderSync, all N concurrently, one
//     goroutine each; then the heap of the idle fleet;
//   - round 2: churn on every server, then a new Session per account over a
//     seeded fault schedule (same store, clock and sink), all N concurrently: the
//     sessions are first parked in their first request and measured, then let go.
//
// After each round every session must have synced and its store must equal its
// server. Nothing here asserts a speed or a size: the figures are logged (-v) for
// docs/BENCHMARKS.md.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("a fleet of 10,000 sessions: not with -short")
	}
	n := fleetSize(t)
	perG := warmGoroutines(n + 64) // the fleet, and the harness's own goroutines
	seeded, synced := serverCost()
	t.Logf("fleet of %d sessions, GOMAXPROCS=%d, race=%v", n, runtime.GOMAXPROCS(0), raceEnabled)
	t.Logf("warming up %d goroutines added %.0f B of heap each (the runtime keeps ended goroutines for reuse; "+
		"0 if an earlier test in this process did it): in no figure below", n+64, perG)
	t.Logf("one sim server (measured apart, 2,000 servers): %.0f B seeded, %.0f B after an initial sync", seeded, synced)
	for _, mode := range sinkModes {
		t.Run("sink="+mode.String(), func(t *testing.T) { testFleet(t, n, mode, synced-seeded) })
	}
}

func testFleet(t *testing.T, n int, mode sinkMode, serverGrowth float64) {
	var shared machine.Sink
	if mode == sinkShared {
		shared = machine.NewJSONLines(io.Discard)
	}
	accts := make([]account, n)
	g0 := runtime.NumGoroutine()

	h0, _ := heapNow()
	buildServers(accts)
	h1, _ := heapNow()
	buildClients(accts, mode, shared)
	hStores, _ := heapNow()
	buildSessions(t, accts, func(_ int, a *account) transport.Transport { return a.server })
	hBuilt, _ := heapNow()

	r1 := runRound(accts, nil)
	h2, s2 := heapNow()
	if *memProfile != "" {
		writeHeapProfile(t, *memProfile+"."+mode.String())
	}
	requireConverged(t, accts)
	// The client side after round 1: everything since the servers were built, less
	// what the initial sync added to each server (measured apart, serverCost).
	idle := perSession(h2, h1, n) - serverGrowth

	// Round 2: churn, then new sessions over the fault injector and a gate. The
	// round-1 sessions become garbage; stores, clocks and sinks carry over.
	for i := range accts {
		require.NoError(t, churn(accts[i].server, i))
	}
	var arrived sync.WaitGroup
	arrived.Add(n)
	open := make(chan struct{})
	buildSessions(t, accts, func(i int, a *account) transport.Transport {
		a.faults = faults.Wrap(a.server, round2Schedule(i))
		a.gate = &gate{inner: a.faults, arrived: &arrived, open: open}
		return a.gate
	})
	for i := range accts {
		accts[i].attempts, accts[i].resets = 0, 0
	}
	hR2, sR2 := heapNow()
	var hGate, sGate uint64
	var gParked int
	r2 := runRound(accts, func() {
		arrived.Wait()
		hGate, sGate = heapNow()
		gParked = runtime.NumGoroutine() - g0
		if *memProfile != "" {
			writeHeapProfile(t, *memProfile+"."+mode.String()+".parked")
		}
		close(open)
	})
	h3, _ := heapNow()
	if *memProfile != "" {
		writeHeapProfile(t, *memProfile+"."+mode.String()+".round2")
	}
	requireConverged(t, accts)
	var injected, faulted, attempts, resets int
	for i := range accts {
		a := &accts[i]
		k := len(a.faults.Injected())
		injected += k
		if k > 0 {
			faulted++
		}
		attempts += a.attempts
		resets += a.resets
	}
	require.Positive(t, injected, "the schedule injected faults")

	// Split the heap after round 2 by taking the fleet apart: first the sessions
	// and their scaffolding, then stores, clocks and sinks, then the servers.
	for i := range accts {
		accts[i].session, accts[i].faults, accts[i].gate = nil, nil, nil
	}
	h3a, _ := heapNow()
	for i := range accts {
		accts[i].store, accts[i].clock, accts[i].sink = nil, nil, nil
	}
	h4, _ := heapNow()
	for i := range accts {
		accts[i].server = nil
	}
	h5, _ := heapNow()
	runtime.KeepAlive(accts) // the slice itself is in every figure's baseline
	runtime.KeepAlive(shared)
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > g0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // a goroutine that has called wg.Done may not have returned yet
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), g0, "the fleet's goroutines ended")

	t.Logf("sink=%s, N=%d, GOMAXPROCS=%d", mode, n, runtime.GOMAXPROCS(0))
	t.Logf("  server, seeded (in the fleet):            %8.0f B/session", perSession(h1, h0, n))
	t.Logf("  client, built, before any sync:           %8.0f B/session (store, clock, sink %.0f; session %.0f)",
		perSession(hBuilt, h1, n), perSession(hStores, h1, n), perSession(hBuilt, hStores, n))
	t.Logf("  client, idle after round 1:               %8.0f B/session (goal: under 16384)", idle)
	t.Logf("  round 1: %d initial syncs in %v: %.0f sessions/s; peak heap %.1f MiB (max heap goal %.1f MiB), peak stacks %.1f MiB, %d goroutines, %d GCs, %d samples",
		n, r1.wall.Round(time.Millisecond), float64(n)/r1.wall.Seconds(), mib(r1.heap), mib(r1.goal), mib(r1.stacks), r1.gs, r1.gcs, r1.samples)
	t.Logf("  round 2, parked in the first request:     %8.0f B/session heap + %.0f B/session stack (%d goroutines)",
		perSession(hGate, hR2, n), perSession(sGate, sR2, n), gParked)
	t.Logf("  round 2: %d syncs after churn, %d faults injected into %d sessions, %d requests, %d resets, in %v: %.0f sessions/s; peak heap %.1f MiB (max heap goal %.1f MiB), %d GCs",
		n, injected, faulted, attempts, resets, r2.wall.Round(time.Millisecond), float64(n)/r2.wall.Seconds(), mib(r2.heap), mib(r2.goal), r2.gcs)
	t.Logf("  after round 2: store, clock, sink         %8.0f B/session; sessions + fault injector + gate %.0f; server %.0f",
		perSession(h3a, h4, n), perSession(h3, h3a, n), perSession(h4, h5, n))
	t.Logf("  whole process live heap after round 1: %.1f MiB; idle goroutine stacks %.1f MiB", mib(h2), mib(s2))
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// writeHeapProfile writes the heap profile (in-use objects as of the last GC).
func writeHeapProfile(tb testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkFleetSync runs b.N initial syncs concurrently, one goroutine and one
// account (sim server, MemoryStore, SimClock, Session) each, and reports
// sessions/s (wall clock) and idle-B/session, the client-side live heap per idle
// session afterwards (as TestFleet's round 1). Run it with -benchtime 10000x: the
// fleet is b.N accounts at once, so the default benchtime grows it to whatever
// fits in a second.
func BenchmarkFleetSync(b *testing.B) {
	seeded, synced := serverCost()
	growth := synced - seeded
	for _, mode := range sinkModes {
		b.Run("sink="+mode.String(), func(b *testing.B) {
			var shared machine.Sink
			if mode == sinkShared {
				shared = machine.NewJSONLines(io.Discard)
			}
			accts := make([]account, b.N)
			warmGoroutines(b.N + 64)
			buildServers(accts)
			h1, _ := heapNow()
			buildClients(accts, mode, shared)
			buildSessions(b, accts, func(_ int, a *account) transport.Transport { return a.server })
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			wg.Add(len(accts))
			begin := time.Now()
			for i := range accts {
				go func(a *account) {
					defer wg.Done()
					a.sync()
				}(&accts[i])
			}
			wg.Wait()
			wall := time.Since(begin)
			b.StopTimer()
			for i := range accts {
				if err := accts[i].err; err != nil {
					b.Fatalf("account %d: %v", i, err)
				}
			}
			h2, _ := heapNow()
			runtime.KeepAlive(accts) // measured live, not collected before heapNow
			runtime.KeepAlive(shared)
			b.ReportMetric(float64(b.N)/wall.Seconds(), "sessions/s")
			b.ReportMetric(perSession(h2, h1, b.N)-growth, "idle-B/session")
		})
	}
}
