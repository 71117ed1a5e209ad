//go:build unix

package crashtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transport/sim"
)

// The child process: TestMain runs childMain instead of the tests when envChild
// names a store directory.
const (
	envChild = "FOLDERSYNC_CRASHTEST_CHILD" // the store directory
	envSeed  = "FOLDERSYNC_CRASHTEST_SEED"  // the world's seed
	// envPause is "k:point": pause (until killed) at a point of step k, a Commit
	// step name (after that step is done) or pointBegin or pointSynced.
	envPause = "FOLDERSYNC_CRASHTEST_PAUSE"
)

// Points of a step that are not Commit steps.
const (
	pointBegin  = "begin"  // the session is about to start
	pointSynced = "synced" // the session returned, its state committed
)

// Lines the child writes on stdout, one write each, so that the parent reads every
// line written before the kill:
//
//	ready <j>              resumed from step j's state, the server ready
//	begin <k>              session k starts
//	phase <k> <step>       a step of a Commit in session k is done (crash hook)
//	paused <k> <point>     paused at the point asked for, waiting to be killed
//	synced <k> <key>       session k returned Synced, key committed
//	missed <k> <point>     session k ended without reaching the pause point
//
// Anything wrong goes to stderr, and the child exits with a non-zero status.

// Child exit codes, for the parent's messages.
const (
	exitFailed   = 2 // a check failed: stderr says which
	exitOrphaned = 3 // stdin closed: the parent is gone
	exitTimeout  = 4 // never killed
)

// childTimeout bounds a child's life, if the parent forgets it.
const childTimeout = 2 * time.Minute

func childMain() int {
	// Exit when the parent goes away (it holds our stdin open) or forgets us.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(exitOrphaned)
	}()
	time.AfterFunc(childTimeout, func() {
		fmt.Fprintln(os.Stderr, "crashtest child: never killed; giving up")
		os.Exit(exitTimeout)
	})
	if err := runChild(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest child:", err)
		return exitFailed
	}
	return 0
}

func report(format string, args ...any) {
	// One write a line: a line is in the pipe, whole, or not at all.
	if _, err := os.Stdout.Write([]byte(fmt.Sprintf(format, args...) + "\n")); err != nil {
		os.Exit(exitOrphaned)
	}
}

// pause reports where the child stopped and waits to be killed.
func pause(k int, point string) {
	report("paused %d %s", k, point)
	for {
		time.Sleep(time.Hour)
	}
}

func runChild(ctx context.Context) error {
	dir := os.Getenv(envChild)
	seed, err := strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: %w", envSeed, err)
	}
	pauseStep, pausePoint := -1, ""
	if p := os.Getenv(envPause); p != "" {
		k, point, ok := strings.Cut(p, ":")
		if pauseStep, err = strconv.Atoi(k); !ok || err != nil {
			return fmt.Errorf("%s=%q: want k:point", envPause, p)
		}
		pausePoint = point
	}
	pauseAt := func(k int, point string) {
		if k == pauseStep && point == pausePoint {
			pause(k, point)
		}
	}

	store, err := hierarchy.OpenFileStore(dir)
	if err != nil {
		return err
	}
	step := 0 // the session in progress, for the hook
	if err := setCrashHook(store, func(name string) error {
		report("phase %d %s", step, name)
		pauseAt(step, name)
		return nil
	}); err != nil {
		return err
	}

	// Resume from what the store holds: it must be some step's state, whole.
	st, err := store.Load(ctx)
	if err != nil {
		return fmt.Errorf("resuming: Load: %w", err)
	}
	j := stepOfKey(seed, st.SyncKey)
	if j < 0 {
		return fmt.Errorf("resuming: the store holds SyncKey %q, no step's", st.SyncKey)
	}
	if want := stateAt(seed, j); !st.Tree.Equal(want.Tree) {
		return fmt.Errorf("resuming: the store holds step %d's SyncKey %q with another tree: %s", j, st.SyncKey, strings.Join(want.Tree.Diff(st.Tree), "; "))
	}
	srv, err := serverAt(ctx, sim.Replay, seed, j)
	if err != nil {
		return err
	}
	// The child's server replays (Horde-like): its answers are complete, and the
	// world has one SyncKey per step, so the child does not verify after a kill
	// (the parent's convergence sessions do, against every profile).
	pol := policy.Default()
	pol.VerifyAfterLostResponse = false
	sess, err := machine.New(machine.Config{
		Transport: srv,
		Store:     store,
		Policy:    pol,
		Clock:     machine.NewSimClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		SessionID: "crashtest-child",
	})
	if err != nil {
		return err
	}
	report("ready %d", j)
	for k := j + 1; ; k++ {
		want := stateAt(seed, k)
		if err := srv.Seed(hierarchyAt(seed, k)...); err != nil {
			return err
		}
		step = k
		report("begin %d", k)
		pauseAt(k, pointBegin)
		res, err := sess.Sync(ctx)
		if err != nil {
			return fmt.Errorf("session %d: %w", k, err)
		}
		if res.SyncKey != want.SyncKey || !res.Tree.Equal(want.Tree) {
			return fmt.Errorf("session %d ended %v with SyncKey %q, want %q; tree diff: %s", k, res.State, res.SyncKey, want.SyncKey, strings.Join(want.Tree.Diff(res.Tree), "; "))
		}
		report("synced %d %s", k, res.SyncKey)
		pauseAt(k, pointSynced)
		if k == pauseStep {
			// The point asked for did not happen in this session (a Commit with
			// nothing to rotate): say so, and wait for the parent to fail.
			report("missed %d %s", k, pausePoint)
			pause(k, pausePoint)
		}
	}
}

// setCrashHook installs hook as the FileStore's test hook (its unexported crashAt
// field, called after each step of Commit: filestore.go's "crash(step, f)"). This
// package cannot set it otherwise, and filestore.go offers no exported way; the
// hook only reports and pauses, it never makes Commit fail. If the field is gone or
// has changed type, the test says so instead of silently killing at random only.
func setCrashHook(s *hierarchy.FileStore, hook func(step string) error) error {
	f := reflect.ValueOf(s).Elem().FieldByName("crashAt")
	if !f.IsValid() || f.Type() != reflect.TypeOf(hook) {
		return errors.New("hierarchy.FileStore has no crashAt func(string) error field any more: the crash test needs a hook after each Commit step")
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(hook))
	return nil
}
