//go:build unix

package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

var (
	flagPoints = flag.Uint64("crash.points", 0, "kill points of TestCrashConsistency (default $FOLDERSYNC_CRASH_POINTS, else 40)")
	flagSeed   = flag.Uint64("crash.seed", 0, "seed of TestCrashConsistency (default $FOLDERSYNC_CRASH_SEED, else 1)")
)

const (
	defaultPoints = 40
	defaultSeed   = 1
	// freshEvery is how often the test starts over in an empty directory, so that
	// first Commits (nothing to rotate) are killed too.
	freshEvery = 10
	// pointTimeout bounds the wait for a child's line.
	pointTimeout = 30 * time.Second
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(childMain())
	}
	os.Exit(m.Run())
}

// commitSteps are the steps of FileStore.Commit, in order, as its crash hook names
// them (filestore.go), with whether the new state is the committed one once the
// step is done.
var commitSteps = []commitStepInfo{
	{"create temp", false},
	{"write header", false},
	{"write body", false},
	{"fsync temp", false},
	{"close temp", false},
	{"rename current to prev", false},
	{"rename temp to current", true},
	{"fsync directory", true},
}

type commitStepInfo struct {
	name string
	done bool
}

// commitStep is the index of the Commit step name in commitSteps, or -1.
func commitStep(name string) int {
	return slices.IndexFunc(commitSteps, func(s commitStepInfo) bool { return s.name == name })
}

// pausePoints are the points a targeted kill pauses the child at, in turn: before
// the session, after each step of Commit, after the session.
var pausePoints = func() []string {
	p := []string{pointBegin}
	for _, s := range commitSteps {
		p = append(p, s.name)
	}
	return append(p, pointSynced)
}()

const rotateStep = "rename current to prev" // does not happen on a first Commit

// firstCommitPoints are the pause points of a first Commit.
var firstCommitPoints = slices.DeleteFunc(slices.Clone(pausePoints), func(p string) bool { return p == rotateStep })

// expectation is which of the states around the step in flight a kill may leave.
type expectation uint8

const (
	wantOld expectation = 1 << iota
	wantNew
	wantEither = wantOld | wantNew
)

func (e expectation) String() string {
	switch e {
	case wantOld:
		return "the old state"
	case wantNew:
		return "the new state"
	}
	return "the old or the new state"
}

// childRun is what one child process said before it was killed.
type childRun struct {
	ready    int    // the step it resumed from
	k        int    // the step in flight: the last begun, or ready+1
	begun    bool   // session k began
	phase    string // the last Commit step reported in session k, "" if none
	synced   bool   // session k committed and returned
	paused   string // the point it paused at, "" for a delayed kill
	stepTime []time.Duration
}

// bucket names where the kill landed, for the report.
func (r childRun) bucket() string {
	switch {
	case r.paused != "":
		return "paused at " + r.paused
	case !r.begun:
		return "before the first session"
	case r.synced:
		return "after the session returned"
	case r.phase == "":
		return "in the session, before Commit"
	}
	return "after " + r.phase
}

// expect is what the store may hold after the kill: exact for a pause; for a
// delayed kill, the last step reported plus possibly the next one (done but not yet
// reported).
func (r childRun) expect() expectation {
	if r.paused != "" {
		switch r.paused {
		case pointBegin:
			return wantOld
		case pointSynced:
			return wantNew
		}
		if commitSteps[commitStep(r.paused)].done {
			return wantNew
		}
		return wantOld
	}
	switch {
	case r.synced:
		return wantNew
	case r.phase == "":
		return wantOld
	case commitSteps[commitStep(r.phase)].done:
		return wantNew
	case r.phase == "close temp" || r.phase == rotateStep:
		// The next step may be the rename of the temporary file.
		return wantEither
	}
	return wantOld
}

type stats struct {
	buckets      map[string]int
	firstCommit  map[string]int
	outcomes     map[string]int
	recovered    int
	targeted     int
	delayed      int
	converged    int
	profiles     map[string]int
	stepsRun     int
	childTime    time.Duration
	checkTime    time.Duration
	maxDelay     time.Duration
	tempLeftover int
}

func envOr(flagVal uint64, env string, def uint64) (uint64, error) {
	if flagVal != 0 {
		return flagVal, nil
	}
	if v := os.Getenv(env); v != "" {
		return strconv.ParseUint(v, 10, 64)
	}
	return def, nil
}

// TestCrashConsistency kills sessions in a child process with SIGKILL, at random
// moments and at every step of Commit, and checks after each kill that the store
// holds the old state or the new one, whole (DESIGN rule 1), and that the next
// session converges. See the package documentation.
func TestCrashConsistency(t *testing.T) {
	points, err := envOr(*flagPoints, "FOLDERSYNC_CRASH_POINTS", defaultPoints)
	require.NoError(t, err, "FOLDERSYNC_CRASH_POINTS")
	seed, err := envOr(*flagSeed, "FOLDERSYNC_CRASH_SEED", defaultSeed)
	require.NoError(t, err, "FOLDERSYNC_CRASH_SEED")
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Logf("seed %d, %d kill points (FOLDERSYNC_CRASH_SEED, FOLDERSYNC_CRASH_POINTS)", seed, points)

	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0xc4a5))
	st := stats{buckets: map[string]int{}, firstCommit: map[string]int{}, outcomes: map[string]int{}, profiles: map[string]int{}}
	start := time.Now()
	stepEstimate := 20 * time.Millisecond // refined from the children's reports
	var dir string
	j := 0 // the step whose state dir holds
	targetedTurn, firstTurn := 0, 0
	for n := range int(points) {
		if n%freshEvery == 0 {
			dir = filepath.Join(t.TempDir(), "store")
			j = 0
		}
		spec := killSpec{}
		if n%3 == 2 {
			spec.delay = time.Duration(rng.Int64N(int64(3 * stepEstimate)))
			st.maxDelay = max(st.maxDelay, spec.delay)
			st.delayed++
		} else {
			var point string
			k := j + 1 + rng.IntN(2)
			if j == 0 {
				// A first Commit, which has nothing to rotate: its points in a turn
				// of their own, so that each is killed about as often.
				point = firstCommitPoints[firstTurn%len(firstCommitPoints)]
				firstTurn++
				k = 1
			} else {
				point = pausePoints[targetedTurn%len(pausePoints)]
				targetedTurn++
				if point == rotateStep && k == j+1 && !exists(filepath.Join(dir, hierarchy.SnapshotFile)) {
					// A kill between the renames left no current snapshot: the next
					// Commit has nothing to rotate, the one after has.
					k++
				}
			}
			spec.pause = fmt.Sprintf("%d:%s", k, point)
			st.targeted++
		}
		t0 := time.Now()
		run, err := runChildUntilKilled(exe, dir, seed, spec)
		st.childTime += time.Since(t0)
		if err != nil {
			t.Fatalf("kill point %d (%s): %v\nreproduce: FOLDERSYNC_CRASH_SEED=%d FOLDERSYNC_CRASH_POINTS=%d", n, spec, err, seed, n+1)
		}
		for _, d := range run.stepTime {
			stepEstimate = (3*stepEstimate + d) / 4
		}
		st.stepsRun += run.k - run.ready - 1
		if run.synced {
			st.stepsRun++
		}
		if run.ready != j {
			t.Fatalf("kill point %d: the child resumed from step %d, the parent expected %d", n, run.ready, j)
		}
		bucket := run.bucket()
		st.buckets[bucket]++
		if run.k == 1 {
			st.firstCommit[bucket]++
		}

		t1 := time.Now()
		res, err := checkAfterKill(ctx, dir, seed, run, n)
		if err != nil {
			saved := saveDir(t, dir, seed, n)
			t.Fatalf("kill point %d (%s, step %d, %s): %v\nthe store is saved in %s\nreproduce: FOLDERSYNC_CRASH_SEED=%d FOLDERSYNC_CRASH_POINTS=%d go test ./internal/crashtest -run CrashConsistency -v\n(a paused kill reproduces exactly; a delayed one lands wherever real time takes it)", n, spec, run.k, bucket, err, saved, seed, n+1)
		}
		st.checkTime += time.Since(t1)
		st.outcomes[res.outcome]++
		if res.recovered {
			st.recovered++
		}
		st.profiles[res.profile]++
		st.converged++
		st.tempLeftover += res.temps
		j = run.k
		if res.outcome == "old" {
			j = run.k - 1
		}
	}
	elapsed := time.Since(start)

	var b strings.Builder
	fmt.Fprintf(&b, "%d kill points in %v (children %v, checks and convergence sessions %v); %d paused at a chosen point, %d after a random delay (up to %v); %d sessions committed by the children\n",
		points, elapsed.Round(time.Millisecond), st.childTime.Round(time.Millisecond), st.checkTime.Round(time.Millisecond), st.targeted, st.delayed, st.maxDelay.Round(time.Microsecond), st.stepsRun)
	fmt.Fprintf(&b, "where the kills landed (of which in a first Commit):\n")
	for _, k := range sortedKeys(st.buckets) {
		fmt.Fprintf(&b, "  %-40s %4d  (%d)\n", k, st.buckets[k], st.firstCommit[k])
	}
	fmt.Fprintf(&b, "outcomes: old state %d, new state %d, recovered from the backup %d; torn or unknown states 0; temporary files left by kills %d\n",
		st.outcomes["old"], st.outcomes["new"], st.recovered, st.tempLeftover)
	fmt.Fprintf(&b, "convergence sessions: %d, all converged (profiles: %v)", st.converged, st.profiles)
	t.Log(b.String())
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	order := func(k string) int {
		for i, p := range pausePoints {
			if strings.HasSuffix(k, " "+p) {
				return i
			}
		}
		return -1
	}
	sort.Slice(keys, func(a, b int) bool {
		pa, pb := strings.HasPrefix(keys[a], "paused"), strings.HasPrefix(keys[b], "paused")
		if pa != pb {
			return pa
		}
		if oa, ob := order(keys[a]), order(keys[b]); oa != ob {
			return oa < ob
		}
		return keys[a] < keys[b]
	})
	return keys
}

// killSpec says when to kill a child: when it pauses at pause ("k:point"), or delay
// after it is ready.
type killSpec struct {
	pause string
	delay time.Duration
}

func (s killSpec) String() string {
	if s.pause != "" {
		return "paused at " + s.pause
	}
	return "killed " + s.delay.String() + " after ready"
}

type line struct {
	text string
	at   time.Time
}

// runChildUntilKilled starts a child on dir, kills it with SIGKILL as spec says,
// and returns what it reported. The child must die of the SIGKILL: one that exits
// by itself has found something wrong, and its stderr says what.
func runChildUntilKilled(exe, dir string, seed uint64, spec killSpec) (childRun, error) {
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"="+dir, envSeed+"="+strconv.FormatUint(seed, 10), envPause+"="+spec.pause)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe() // held open: the child exits when it closes
	if err != nil {
		return childRun{}, err
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return childRun{}, err
	}
	if err := cmd.Start(); err != nil {
		return childRun{}, err
	}
	lines := make(chan line, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- line{sc.Text(), time.Now()}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	var got []line
	var killTimer <-chan time.Time
	timeout := time.NewTimer(pointTimeout)
	defer timeout.Stop()
	killed, exited, timedOut := false, false, false
	for !killed && !exited {
		select {
		case l, ok := <-lines:
			if !ok {
				exited = true
				break
			}
			got = append(got, l)
			switch {
			case spec.pause != "" && strings.HasPrefix(l.text, "paused "):
				killed = true
			case spec.pause == "" && strings.HasPrefix(l.text, "ready "):
				killTimer = time.After(spec.delay)
			}
		case <-killTimer:
			killed = true
		case <-timeout.C:
			killed, timedOut = true, true
		}
	}
	var killErr error
	if killed {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			killErr = err
		}
	}
	for l := range lines {
		got = append(got, l)
	}
	waitErr := cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case killErr != nil:
		return childRun{}, fmt.Errorf("killing the child: %w", killErr)
	case timedOut:
		return childRun{}, fmt.Errorf("no kill point reached in %v; the child said %q; stderr: %s", pointTimeout, texts(got), stderr.String())
	case !ws.Signaled() || ws.Signal() != syscall.SIGKILL:
		return childRun{}, fmt.Errorf("the child ended by itself (%v), not by SIGKILL; stderr: %s; stdout: %q", waitErr, stderr.String(), texts(got))
	}
	run, err := parseRun(got, seed, spec)
	if err != nil {
		return childRun{}, fmt.Errorf("%w; the child said %q", err, texts(got))
	}
	return run, nil
}

// texts returns the text of the last lines, for messages.
func texts(ls []line) []string {
	const keep = 40
	var out []string
	if len(ls) > keep {
		out = append(out, fmt.Sprintf("(%d lines before)", len(ls)-keep))
		ls = ls[len(ls)-keep:]
	}
	for _, l := range ls {
		out = append(out, l.text)
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// parseRun reads the child's lines, checking that they tell a consistent story:
// sessions in order, Commit steps in order, the keys committed the ones expected.
func parseRun(ls []line, seed uint64, spec killSpec) (childRun, error) {
	run := childRun{ready: -1}
	var lastBegin time.Time
	step := -1 // the last Commit step reported in session k
	for _, l := range ls {
		word, rest, _ := strings.Cut(l.text, " ")
		kStr, arg, _ := strings.Cut(rest, " ")
		k, err := strconv.Atoi(kStr)
		if err != nil {
			return run, fmt.Errorf("unreadable line %q", l.text)
		}
		if word != "ready" && run.ready < 0 {
			return run, fmt.Errorf("line %q before ready", l.text)
		}
		switch word {
		case "ready":
			run.ready, run.k = k, k+1
		case "begin":
			if k != run.ready+1 && (k != run.k+1 || !run.synced) {
				return run, fmt.Errorf("session %d begun after session %d", k, run.k)
			}
			if run.begun {
				run.stepTime = append(run.stepTime, l.at.Sub(lastBegin))
			}
			lastBegin = l.at
			run.k, run.begun, run.synced, run.phase, step = k, true, false, "", -1
		case "phase":
			i := commitStep(arg)
			switch {
			case i < 0:
				return run, fmt.Errorf("unknown Commit step %q: FileStore.Commit changed, update commitSteps", arg)
			case k != run.k || !run.begun || run.synced:
				return run, fmt.Errorf("Commit step %q of session %d outside it", arg, k)
			case i <= step:
				return run, fmt.Errorf("Commit step %q after %q: a second Commit in session %d", arg, run.phase, k)
			}
			run.phase, step = arg, i
		case "synced":
			if k != run.k || !run.begun {
				return run, fmt.Errorf("session %d synced, not begun", k)
			}
			if want := keyAt(seed, k); arg != want {
				return run, fmt.Errorf("session %d committed SyncKey %q, want %q", k, arg, want)
			}
			if run.phase != "fsync directory" {
				return run, fmt.Errorf("session %d returned after Commit step %q, not the last", k, run.phase)
			}
			run.synced = true
		case "missed":
			return run, fmt.Errorf("session %d ended without reaching the pause point %q", k, arg)
		case "paused":
			if want := spec.pause; rest != strings.Replace(want, ":", " ", 1) {
				return run, fmt.Errorf("paused at %q, asked for %q", rest, want)
			}
			run.paused = arg
		default:
			return run, fmt.Errorf("unknown line %q", l.text)
		}
	}
	if run.ready < 0 {
		return run, errors.New("killed before it was ready")
	}
	if spec.pause != "" && run.paused == "" {
		return run, errors.New("killed without pausing")
	}
	return run, nil
}

type checkResult struct {
	outcome   string // "old" or "new"
	recovered bool
	profile   string
	temps     int
}

// checkAfterKill checks the store the child left (every file, then Load), then runs
// one session on a copy of it and checks that it converges.
func checkAfterKill(ctx context.Context, dir string, seed uint64, run childRun, n int) (checkResult, error) {
	var res checkResult
	k := run.k
	oldSt, newSt := stateAt(seed, k-1), stateAt(seed, k)

	// 1. Only the snapshot files and temporary ones, each snapshot whole and the
	// state of a step it may hold: the current one of k-1 or k, the previous one of
	// k-2 or k-1.
	entries, err := os.ReadDir(dir)
	if err != nil {
		return res, err
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == hierarchy.SnapshotFile:
			if err := checkSnapshotFile(dir, name, seed, k-1, k); err != nil {
				return res, err
			}
		case name == hierarchy.PreviousSnapshotFile:
			if err := checkSnapshotFile(dir, name, seed, k-2, k-1); err != nil {
				return res, err
			}
		case strings.HasPrefix(name, hierarchy.SnapshotFile+".tmp-") && e.Type().IsRegular():
			res.temps++
		case name == hierarchy.UnverifiedFile:
			// written by the session before its first request, removed by Commit
		default:
			return res, fmt.Errorf("unexpected file %q in the store", name)
		}
	}

	// 2. Load: the old state or the new, whole, as the point reached says.
	store, err := hierarchy.OpenFileStore(dir)
	if err != nil {
		return res, err
	}
	got, err := store.Load(ctx)
	switch {
	case errors.Is(err, hierarchy.ErrRecoveredFromBackup):
		res.recovered = true
	case err != nil:
		return res, fmt.Errorf("Load: %w", err)
	}
	isOld := got.SyncKey == oldSt.SyncKey && got.Tree.Equal(oldSt.Tree)
	isNew := got.SyncKey == newSt.SyncKey && got.Tree.Equal(newSt.Tree)
	// The session marks the state unverified before its first request and Commit
	// clears the mark: killed inside Commit with the old state stored, the mark must
	// be there (the server has answered); after the session returned it must not.
	switch {
	case run.paused == pointSynced && got.Unverified:
		return res, errors.New("Load: the state is marked unverified after a session that committed")
	case run.phase != "" && isOld && !got.Unverified && oldSt.SyncKey != transport.InitialSyncKey:
		// (A store never committed is not marked: SyncKey 0 fetches everything anyway.)
		return res, fmt.Errorf("Load: killed in Commit (after %q) with the old state stored, but the state is not marked unverified: the server's answer would be lost for good", run.phase)
	}
	want := run.expect()
	switch {
	case isOld && want&wantOld != 0:
		res.outcome = "old"
	case isNew && want&wantNew != 0:
		res.outcome = "new"
	case isOld:
		return res, fmt.Errorf("Load returned the old state (SyncKey %q), want %s", got.SyncKey, want)
	case isNew:
		return res, fmt.Errorf("Load returned the new state (SyncKey %q), want %s", got.SyncKey, want)
	default:
		return res, fmt.Errorf("Load returned a third state: %s", describeState(seed, got, oldSt, newSt))
	}

	// 3. One session on a copy converges: the local hierarchy ends equal to the
	// server's. The server has answered session k's request if the new state is
	// stored, and may have if the old one is and the session got as far as its
	// first request, which the unverified mark shows (it is written just before):
	// a client with the old key then resends it after a lost response. With Lenient
	// (SOGo), which never sends lost changes again, only the mark makes the next
	// session verify with SyncKey 0 (DESIGN rule 3).
	profiles := []sim.Profile{sim.Replay, sim.Reexecute, sim.SilentReset, sim.Lenient}
	answered := res.outcome == "new" || n%2 == 0 && got.Unverified
	profile := profiles[(n/2)%len(profiles)]
	res.profile = profile.String()
	var srv *sim.Server
	if answered {
		srv, err = serverAnswered(ctx, profile, seed, k)
	} else {
		srv, err = serverAt(ctx, profile, seed, k-1)
		if err == nil {
			err = srv.Seed(hierarchyAt(seed, k)...)
		}
	}
	if err != nil {
		return res, err
	}
	if !answered {
		res.profile += " (request not answered)"
	}
	cp := filepath.Join(filepath.Dir(dir), fmt.Sprintf("converge-%d", n))
	if err := copyDir(dir, cp); err != nil {
		return res, err
	}
	defer os.RemoveAll(cp)
	cstore, err := hierarchy.OpenFileStore(cp)
	if err != nil {
		return res, err
	}
	sess, err := machine.New(machine.Config{Transport: srv, Store: cstore, Clock: machine.NewSimClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), SessionID: "crashtest-parent"})
	if err != nil {
		return res, err
	}
	sr, err := sess.Sync(ctx)
	if err != nil {
		return res, fmt.Errorf("the session after the kill (%s): %w", res.profile, err)
	}
	if sr.State != states.Synced {
		return res, fmt.Errorf("the session after the kill (%s) ended %v: %s", res.profile, sr.State, sr.Reason)
	}
	after, err := cstore.Load(ctx)
	if err != nil {
		return res, fmt.Errorf("Load after the session: %w", err)
	}
	serverTree, err := hierarchy.BuildTree(srv.Folders())
	if err != nil {
		return res, err
	}
	if !after.Tree.Equal(serverTree) || after.SyncKey != srv.CurrentKey() {
		return res, fmt.Errorf("the session after the kill (%s) did not converge: SyncKey %q, the server's %q; tree diff: %s",
			res.profile, after.SyncKey, srv.CurrentKey(), strings.Join(serverTree.Diff(after.Tree), "; "))
	}
	left, err := os.ReadDir(cp)
	if err != nil {
		return res, err
	}
	for _, e := range left {
		if e.Name() != hierarchy.SnapshotFile && e.Name() != hierarchy.PreviousSnapshotFile {
			return res, fmt.Errorf("the Commit after the kill left %q", e.Name())
		}
	}
	return res, nil
}

// checkSnapshotFile loads one snapshot file alone (copied into an empty store as its
// current snapshot): it must be whole, and hold the state of step lo or hi.
func checkSnapshotFile(dir, name string, seed uint64, lo, hi int) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	alone, err := os.MkdirTemp(filepath.Dir(dir), "alone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(alone)
	if err := os.WriteFile(filepath.Join(alone, hierarchy.SnapshotFile), data, 0o600); err != nil {
		return err
	}
	s, err := hierarchy.OpenFileStore(alone)
	if err != nil {
		return err
	}
	st, err := s.Load(context.Background())
	if err != nil {
		return fmt.Errorf("%s is not a whole snapshot (%d bytes): %w", name, len(data), err)
	}
	i := stepOfKey(seed, st.SyncKey)
	if i < max(lo, 1) || i > hi {
		return fmt.Errorf("%s holds SyncKey %q, want step %d..%d's", name, st.SyncKey, max(lo, 1), hi)
	}
	if want := stateAt(seed, i); !st.Tree.Equal(want.Tree) {
		return fmt.Errorf("%s holds step %d's SyncKey with another tree: %s", name, i, strings.Join(want.Tree.Diff(st.Tree), "; "))
	}
	return nil
}

// describeState says what a state that is neither the old nor the new one is.
func describeState(seed uint64, got, oldSt, newSt hierarchy.State) string {
	var parts []string
	switch got.SyncKey {
	case oldSt.SyncKey:
		parts = append(parts, "the old SyncKey "+strconv.Quote(got.SyncKey))
	case newSt.SyncKey:
		parts = append(parts, "the new SyncKey "+strconv.Quote(got.SyncKey))
	default:
		parts = append(parts, fmt.Sprintf("SyncKey %q (step %d)", got.SyncKey, stepOfKey(seed, got.SyncKey)))
	}
	switch {
	case got.Tree.Equal(oldSt.Tree):
		parts = append(parts, "the old tree")
	case got.Tree.Equal(newSt.Tree):
		parts = append(parts, "the new tree")
	default:
		parts = append(parts, fmt.Sprintf("a tree of %d folders, neither (diff from the new: %s)", got.Tree.Len(), strings.Join(newSt.Tree.Diff(got.Tree), "; ")))
	}
	return strings.Join(parts, " with ")
}

func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// saveDir keeps a failing store for inspection, outside the test's temporary
// directories.
func saveDir(t *testing.T, dir string, seed uint64, n int) string {
	t.Helper()
	saved, err := os.MkdirTemp("", fmt.Sprintf("foldersync-crash-seed%d-point%d-", seed, n))
	if err != nil {
		return "(not saved: " + err.Error() + ")"
	}
	if err := copyDir(dir, saved); err != nil {
		return "(not saved: " + err.Error() + ")"
	}
	return saved
}
