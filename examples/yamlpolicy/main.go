// Command yamlpolicy shows how to tune a session's retry budget from a YAML file:
// load it with policy.Load, see the error a broken file gives (file, line, column
// and field), and watch a session through a bad patch of server answers wait
// exactly as the file says.
//
//	go run ./examples/yamlpolicy
//
// The policy only says how much effort each recovery may spend; what a status
// means (Status 6 is transient, a 503 is throttling) is the transitions table's
// business. Time is simulated (machine.SimClock): the waits are chosen and
// recorded, not slept.
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// policyYAML is policy.yaml beside this file. It is embedded so the program runs
// from any directory; a real client would Load a path from its configuration.
//
//go:embed policy.yaml
var policyYAML string

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "yamlpolicy:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	dir, err := os.MkdirTemp("", "foldersync-policy-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Load the file. Load starts from the preset the file names and validates the
	// result, so a policy that loads is a policy a session accepts.
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(policyYAML), 0o600); err != nil {
		return err
	}
	pol, err := policy.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "loaded %q: first retry after %s, x%g per retry, %d attempts, reset after %d transient failures, Retry-After capped at %s\n",
		pol.Name, pol.Backoff.Initial, pol.Backoff.Multiplier, pol.MaxAttempts, pol.TransientBeforeReset, pol.RetryAfterCap)

	// 2. Broken variants of the same file. Every mistake is a *policy.ConfigError
	// that points at the line and column, so a user can fix it without reading code.
	for _, broken := range []struct{ what, old, new string }{
		{"a misspelt key", "max_attempts: 8", "max_atempts: 8"},
		{"a duration without a unit", "initial: 2s", "initial: 2"},
		{"an impossible value", "multiplier: 3", "multiplier: 0.5"},
	} {
		bad := filepath.Join(dir, "broken.yaml")
		if err := os.WriteFile(bad, []byte(strings.Replace(policyYAML, broken.old, broken.new, 1)), 0o600); err != nil {
			return err
		}
		_, err := policy.Load(bad)
		var ce *policy.ConfigError
		if !errors.As(err, &ce) {
			return fmt.Errorf("%s: want a *policy.ConfigError, got %v", broken.what, err)
		}
		// ce.Error() reads "FILE:LINE:COL: field: message"; the temporary directory is
		// left out of the story.
		fmt.Fprintf(w, "%s -> %s\n", broken.what, strings.TrimPrefix(ce.Error(), dir+string(filepath.Separator)))
	}

	// 3. A session through a bad patch: a 503 asking to come back in 20s (a 503 is
	// throttling, so its wait is the server's Retry-After, capped by the policy), then
	// Status 6 three times (transient: the policy's backoff), then the server answers.
	fmt.Fprintln(w, "\nsession through 503 (Retry-After 20s), Status 6, Status 6, Status 6:")
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(server, faults.Sequence(faults.HTTP(503, 20*time.Second, true), faults.Status(6), faults.Status(6), faults.Status(6)))
	res, err := session(w, tr, pol)
	if err != nil {
		return err
	}
	report(w, res)

	// The same patch under policy.Default(): the third Status 6 in a row makes it
	// return to SyncKey 0 (transient_before_reset: 3, as MS-ASCMD 2.2.3.177.5 advises
	// when "continued attempts to synchronization fail") and fetch the whole
	// hierarchy again, which the tuned policy spares the phone.
	fmt.Fprintln(w, "\nthe same under policy.Default():")
	server = sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	tr = faults.Wrap(server, faults.Sequence(faults.HTTP(503, 20*time.Second, true), faults.Status(6), faults.Status(6), faults.Status(6)))
	if res, err = session(w, tr, policy.Default()); err != nil {
		return err
	}
	report(w, res)

	// 4. The cap at work: a Retry-After longer than retry_after_cap fails the session
	// at once with a reason, rather than sleeping for an hour inside a sync call
	// (DESIGN rule 6: honour Retry-After, capped by policy; MS-ASHTTP 2.2.2.2).
	fmt.Fprintln(w, "\nsession through 503 (Retry-After 1h):")
	tr = faults.Wrap(server, faults.Sequence(faults.HTTP(503, time.Hour, true)))
	_, err = session(w, tr, pol)
	if !errors.Is(err, machine.ErrThrottled) {
		return fmt.Errorf("want machine.ErrThrottled, got %v", err)
	}
	fmt.Fprintf(w, "  => failed: %v\n", err)
	return nil
}

func report(w io.Writer, res *machine.Result) {
	fmt.Fprintf(w, "  => %s after %d requests, %s of simulated waiting, %d reset(s)\n",
		res.State, res.Counters.Attempts, res.Counters.Elapsed.Round(time.Millisecond), len(res.Counters.Resets))
}

// session runs one session on a fresh store, printing each wait the policy chose.
func session(w io.Writer, tr *faults.Transport, pol policy.Policy) (*machine.Result, error) {
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	s, err := machine.New(machine.Config{
		Transport: tr,
		Store:     hierarchy.NewMemoryStore(),
		Policy:    pol,
		Clock:     clock,
		Observer:  waits{w},
	})
	if err != nil {
		return nil, err
	}
	return s.Sync(context.Background())
}

// waits prints the transitions that carry a classified code, with the wait chosen.
type waits struct{ w io.Writer }

func (p waits) OnTransition(r machine.Record) {
	if r.Code == "" {
		return
	}
	wait := ""
	if r.Delay > 0 {
		wait = ", wait " + time.Duration(r.Delay).Round(time.Millisecond).String()
	}
	fmt.Fprintf(p.w, "  attempt %d: %s -> %s%s\n", r.Attempt, r.Code, r.Event, wait)
}
