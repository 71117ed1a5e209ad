package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

const demoUsage = `Usage: foldersync demo [flags]

Runs FolderSync sessions against the in-process simulated server through a fault
schedule and prints every transition of the recovery machine and the final hierarchy.
With no flags it tells the default story: an initial sync, then changes on the server
and a second sync whose answer is lost, followed by a burst of Status 6 and a Status 9,
ending synced with no folder lost. Time is simulated: waits are shown, not slept.

Flags:
  --profile NAME   server behaviour: replay (Horde), reexecute (Z-Push), lenient (SOGo),
                   silent-reset (default replay)
  --faults SPEC    faults for the second sync, comma-separated N:KIND (N is the call
                   number): request-lost, response-lost, timeout, connection-reset,
                   truncated, corrupt, status-CODE, http-CODE, http-503-retry-DURATION.
                   "none" for no faults. Default: 1:response-lost,2:status-6,3:status-6,4:status-9
  --fault-rate R   instead of --faults, a seeded random schedule injecting faults at rate R
  --seed S         seed for --fault-rate and the policy's jitter (default 1)
  --policy FILE    a policy file (YAML or JSON); default: the default preset
  --audit FILE     also write the JSON Lines audit log to FILE (replay it with machine.Replay)

Example:
  go run ./cmd/foldersync demo --profile lenient --faults 1:response-lost
`

const defaultDemoFaults = "1:response-lost,2:status-6,3:status-6,4:status-9"

func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, demoUsage) }
	profileName := fs.String("profile", "replay", "")
	faultSpec := fs.String("faults", defaultDemoFaults, "")
	rate := fs.Float64("fault-rate", 0, "")
	seed := fs.Int64("seed", 1, "")
	policyFile := fs.String("policy", "", "")
	auditFile := fs.String("audit", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "foldersync demo: unexpected argument %q\n\n%s", fs.Arg(0), demoUsage)
		return 2
	}
	profile, err := parseProfile(*profileName)
	if err != nil {
		fmt.Fprintln(stderr, "foldersync demo:", err)
		return 2
	}
	pol := policy.Default()
	if *policyFile != "" {
		if pol, err = policy.Load(*policyFile); err != nil {
			fmt.Fprintln(stderr, "foldersync demo:", err)
			return 1
		}
	}
	pol.Seed = *seed
	var sched faults.Schedule
	switch {
	case *rate > 0:
		if *rate > 1 {
			fmt.Fprintln(stderr, "foldersync demo: --fault-rate is a fraction between 0 and 1")
			return 2
		}
		sched = faults.Seeded(*seed, *rate, faults.RequestLost, faults.ResponseLost, faults.Timeout, faults.ConnectionReset,
			faults.TruncatedBody, faults.CorruptBody, faults.Status(6), faults.Status(9), faults.Status(11), faults.HTTP(503, 30*time.Second, true))
	default:
		if sched, err = parseFaults(*faultSpec); err != nil {
			fmt.Fprintln(stderr, "foldersync demo:", err)
			return 2
		}
	}
	var audit io.Writer = io.Discard
	if *auditFile != "" {
		f, err := os.Create(*auditFile)
		if err != nil {
			fmt.Fprintln(stderr, "foldersync demo:", err)
			return 1
		}
		defer f.Close()
		audit = f
	}
	if err := demo(stdout, profile, sched, pol, audit); err != nil {
		fmt.Fprintln(stderr, "foldersync demo:", err)
		return 1
	}
	return 0
}

func parseProfile(name string) (sim.Profile, error) {
	for _, p := range []sim.Profile{sim.Replay, sim.Reexecute, sim.Lenient, sim.SilentReset} {
		if p.String() == name {
			return p, nil
		}
	}
	return 0, fmt.Errorf("unknown --profile %q: want replay, reexecute, lenient or silent-reset", name)
}

// parseFaults reads N:KIND,N:KIND (see demoUsage).
func parseFaults(spec string) (faults.Schedule, error) {
	if spec == "none" || spec == "" {
		return nil, nil
	}
	script := map[int]faults.Fault{}
	for _, item := range strings.Split(spec, ",") {
		n, kind, ok := strings.Cut(strings.TrimSpace(item), ":")
		call, err := strconv.Atoi(n)
		if !ok || err != nil || call < 1 {
			return nil, fmt.Errorf("--faults: %q is not N:KIND with N a call number from 1", item)
		}
		f, err := faults.Parse(kind)
		if err != nil {
			return nil, fmt.Errorf("--faults: %q: %v", item, err)
		}
		script[call] = f
	}
	return faults.Script(script), nil
}

// table prints each transition as it is recorded.
type table struct {
	out   io.Writer
	start time.Time
}

func (t table) OnTransition(r machine.Record) {
	code := r.Code
	if code == "" {
		code = "-"
	}
	wait := ""
	if r.Delay > 0 {
		wait = "wait " + time.Duration(r.Delay).Round(time.Millisecond).String()
	}
	move := fmt.Sprintf("%s -%s-> %s", r.From, r.Event, r.To)
	fmt.Fprintf(t.out, "  %2d  +%-7s %-40s %-26s %-11s %s\n", r.Seq, r.Time.Sub(t.start).Round(time.Millisecond), move, code, wait, r.Reason)
}

func demo(out io.Writer, profile sim.Profile, sched faults.Schedule, pol policy.Policy, audit io.Writer) error {
	server := sim.New(profile, sim.WithFolders(sim.DefaultFolders()...))
	store := hierarchy.NewMemoryStore()
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	sink := machine.NewJSONLines(audit)
	run := func(title string, tr transport.Transport, id string) (*machine.Result, error) {
		fmt.Fprintf(out, "\n%s\n", title)
		fmt.Fprintf(out, "  %2s  %-8s %-40s %-26s %-11s %s\n", "#", "time", "state -event-> state", "classified as", "wait", "why")
		s, err := machine.New(machine.Config{Transport: tr, Store: store, Policy: pol, Clock: clock, SessionID: id,
			Audit: sink, Observer: table{out: out, start: clock.Now()}})
		if err != nil {
			return nil, err
		}
		res, err := s.Sync(context.Background())
		if res != nil {
			fmt.Fprintf(out, "  => %s after %d requests, %d resets, %s waited", res.State, res.Counters.Attempts, len(res.Counters.Resets), res.Counters.Elapsed.Round(time.Millisecond))
			if res.State == states.Synced {
				fmt.Fprintf(out, "; SyncKey %q", res.SyncKey)
			}
			fmt.Fprintln(out)
			for _, w := range res.Warnings {
				fmt.Fprintln(out, "  note:", w)
			}
		}
		return res, err
	}

	fmt.Fprintf(out, "foldersync demo: one account against a simulated %s server (%s), simulated time\n", profile, serverLike(profile))
	if _, err := run("1. Initial FolderSync (SyncKey 0): the whole hierarchy", server, "initial"); err != nil {
		return err
	}

	// Changes on the server between the two syncs.
	if err := server.AddFolder(hierarchy.Folder{ServerID: "demo-projects", ParentID: "0", DisplayName: "Projects", Type: transport.FolderUserMail}); err != nil {
		return err
	}
	if err := server.AddFolder(hierarchy.Folder{ServerID: "demo-projects-2027", ParentID: "demo-projects", DisplayName: "2027", Type: transport.FolderUserMail}); err != nil {
		return err
	}
	folders := sim.DefaultFolders()
	if err := server.RenameFolder(folders[0].ServerID, folders[0].DisplayName+" (renamed on the server)"); err != nil {
		return err
	}
	fmt.Fprintln(out, "\n   (on the server: Projects and Projects/2027 added, a folder renamed)")

	tr := transport.Transport(server)
	title := "2. Incremental FolderSync with the stored key"
	if sched != nil {
		tr = faults.Wrap(server, sched)
		title += ", through the fault schedule"
	}
	res, err := run(title, tr, "incremental")
	if sched != nil {
		for _, inj := range tr.(*faults.Transport).Injected() {
			fmt.Fprintf(out, "  fault injected at call %d: %s\n", inj.Call, inj.Fault)
		}
	}
	if err != nil {
		fmt.Fprintln(out, "  error:", err)
	}

	fmt.Fprintln(out, "\n3. The hierarchy the client stored")
	st, lerr := store.Load(context.Background())
	if lerr != nil {
		return lerr
	}
	printHierarchy(out, st.Tree, "0", "     ")
	want := hierarchy.NewTree(server.Folders()...)
	if want.Equal(st.Tree) {
		fmt.Fprintf(out, "   client and server hierarchies are equal: %d folders, none lost or duplicated\n", st.Tree.Len())
	} else {
		fmt.Fprintf(out, "   client and server differ: %v\n", want.Diff(st.Tree))
	}
	_ = res
	return nil
}

func serverLike(p sim.Profile) string {
	switch p {
	case sim.Replay:
		return "like Horde: a repeated key gets the lost answer again"
	case sim.Reexecute:
		return "like Z-Push: a repeated key is re-run"
	case sim.Lenient:
		return "like SOGo: keys are never compared"
	}
	return "a stale key gets the full hierarchy"
}

func printHierarchy(out io.Writer, t *hierarchy.Tree, parent, indent string) {
	for _, f := range t.Children(parent) {
		fmt.Fprintf(out, "%s%s  [%s]\n", indent, f.DisplayName, f.Type)
		printHierarchy(out, t, f.ServerID, indent+"  ")
	}
}
