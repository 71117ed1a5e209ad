package machine_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport/sim"
)

// TestScenario runs every file of testdata/scenarios: EAS FolderSync
// conversations written as traces, in the manner of etcd-io/raft's data-driven
// tests. Regenerate the expected output with
//
//	go test ./machine -run Scenario -rewrite
//
// and read every change: an expectation is what the spec and DESIGN.md ask for,
// not what the engine happens to do. A file with a `# BUG:` line keeps the
// expectation the engine does not meet yet; it is reported as skipped while the
// bug reproduces, fails once it no longer does, and is never rewritten.
//
// Commands (one per block; see testdata/scenarios/README.md):
//
//	server profile=replay|reexecute|lenient|silent-reset [folders=default|none]
//	server add id=ID [parent=ID] name=NAME [type=N]      (also rename, move, delete;
//	                                                      or several, one per body line)
//	policy [preset=NAME]          YAML body, parsed with policy.Parse
//	faults                        body: `N: kind[ args]` or `N-M: kind[ args]`, for the next sync
//	store key=K empty | store local id=.. [parent=..] name=.. [type=N] | store
//	sync [brief] [cancel-in-sleep=N] [prior-resets=(DURATION, ...)]
//	audit                         the last sync's records: keys before and after, request id
//	hierarchy [diverged] | hierarchy server
//	replay
//	classify status=N | http=N | condition=N
func TestScenario(t *testing.T) {
	dir := filepath.Join("..", "testdata", "scenarios")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenario files in %s", dir)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			bug := knownBug(string(data))
			if bug == "" {
				runScenario(t, path)
				return
			}
			if flagSet("rewrite") {
				t.Skipf("not rewritten: the file keeps the expected behaviour of a known bug (%s)", bug)
			}
			reproduced, msgs := runKnownBug(t, func(tb testing.TB) { runScenario(tb, path) })
			if !reproduced {
				t.Fatalf("the scenario passes: the bug %q seems fixed; remove its # BUG: line", bug)
			}
			for _, m := range msgs {
				t.Log(m)
			}
			t.Skipf("known bug: %s", bug)
		})
	}
}

// knownBug returns the text of a file's `# BUG:` line, if any.
func knownBug(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "# BUG:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() == "true"
}

// scenario is the world of one file: one server, one client store, one clock and
// a policy, carried across its sync commands.
type scenario struct {
	t       testing.TB
	server  *sim.Server
	store   *hierarchy.MemoryStore
	clock   *scenarioClock
	pol     policy.Policy
	pending map[int]scriptedFault
	last    []machine.Record
	synced  int
}

func runScenario(t testing.TB, path string) {
	s := &scenario{
		store: hierarchy.NewMemoryStore(),
		clock: &scenarioClock{SimClock: machine.NewSimClock(t0)},
		pol:   policy.Default(),
	}
	datadriven.RunTestAny(t, path, func(t testing.TB, d *datadriven.TestData) string {
		s.t = t
		out, err := s.run(t, d)
		if err != nil {
			t.Fatalf("%s: %s: %v", d.Pos, d.Cmd, err)
		}
		return out
	})
}

func (s *scenario) run(t testing.TB, d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "server":
		return s.serverCmd(d)
	case "policy":
		return s.policyCmd(d)
	case "faults":
		return s.faultsCmd(d)
	case "store":
		return s.storeCmd(d)
	case "sync":
		return s.syncCmd(t, d)
	case "hierarchy":
		return s.hierarchyCmd(t, d)
	case "replay":
		if s.last == nil {
			return "", errors.New("replay before any sync")
		}
		if div := machine.Replay(s.last, s.pol); div != nil {
			return "replay: " + div.Error() + "\n", nil
		}
		return fmt.Sprintf("replay: identical (%d records)\n", len(s.last)), nil
	case "audit":
		var b strings.Builder
		for _, r := range s.last {
			fmt.Fprintf(&b, "%d %s -%s-> %s key %s -> %s", r.Seq, r.From, r.Event, r.To, r.OldKey, r.NewKey)
			if r.RequestID != "" {
				fmt.Fprintf(&b, " request %s", r.RequestID)
			}
			b.WriteByte('\n')
		}
		return b.String(), nil
	case "classify":
		return s.classifyCmd(d)
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

var profileByName = map[string]sim.Profile{
	"replay": sim.Replay, "reexecute": sim.Reexecute, "lenient": sim.Lenient, "silent-reset": sim.SilentReset,
}

func (s *scenario) serverCmd(d *datadriven.TestData) (string, error) {
	if d.HasArg("profile") {
		var name, folders string
		d.ScanArgs(s.t, "profile", &name)
		folders = "default"
		if d.HasArg("folders") {
			d.ScanArgs(s.t, "folders", &folders)
		}
		p, ok := profileByName[name]
		if !ok {
			return "", fmt.Errorf("unknown profile %q", name)
		}
		var opts []sim.Option
		switch folders {
		case "default":
			opts = append(opts, sim.WithFolders(sim.DefaultFolders()...))
		case "none":
		default:
			return "", fmt.Errorf("folders=%q: want default or none", folders)
		}
		s.server = sim.New(p, opts...)
		return fmt.Sprintf("%s server with %d folders\n", p, len(s.server.Folders())), nil
	}
	if s.server == nil {
		return "", errors.New("no server yet: start with `server profile=...`")
	}
	var lines []string
	if len(d.CmdArgs) > 0 {
		lines = append(lines, strings.TrimPrefix(d.FullCmd(), "server "))
	}
	for _, l := range strings.Split(d.Input, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	for _, l := range lines {
		fields, err := splitQuoted(l)
		if err != nil {
			return "", err
		}
		if len(fields) == 0 {
			continue
		}
		kv := keyValues(fields[1:])
		switch fields[0] {
		case "add":
			f, err := folderFrom(kv)
			if err != nil {
				return "", err
			}
			err = s.server.AddFolder(f)
			if err != nil {
				return "", err
			}
		case "rename":
			err = s.server.RenameFolder(kv["id"], kv["name"])
		case "move":
			err = s.server.MoveFolder(kv["id"], kv["parent"])
		case "delete":
			err = s.server.DeleteFolder(kv["id"])
		default:
			return "", fmt.Errorf("unknown server change %q", fields[0])
		}
		if err != nil {
			return "", err
		}
	}
	return "", nil
}

func (s *scenario) policyCmd(d *datadriven.TestData) (string, error) {
	p, err := policy.Parse([]byte(d.Input), "scenario.yaml")
	if err != nil {
		return "", err
	}
	s.pol = p
	return "", nil
}

func (s *scenario) faultsCmd(d *datadriven.TestData) (string, error) {
	s.pending = map[int]scriptedFault{}
	for _, l := range strings.Split(d.Input, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		from, to, f, err := parseFaultLine(l)
		if err != nil {
			return "", err
		}
		for n := from; n <= to; n++ {
			s.pending[n] = f
		}
	}
	return "", nil
}

func (s *scenario) storeCmd(d *datadriven.TestData) (string, error) {
	ctx := context.Background()
	switch {
	case d.HasArg("empty"):
		var key string
		d.ScanArgs(s.t, "key", &key)
		if err := s.store.Commit(ctx, key, hierarchy.NewTree()); err != nil {
			return "", err
		}
	case d.HasArg("local"):
		fields, err := splitQuoted(strings.TrimPrefix(d.FullCmd(), "store local"))
		if err != nil {
			return "", err
		}
		f, err := folderFrom(keyValues(fields))
		if err != nil {
			return "", err
		}
		st, err := s.store.Load(ctx)
		if err != nil {
			return "", err
		}
		if err := st.Tree.AddLocal(f); err != nil {
			return "", err
		}
		if err := s.store.Commit(ctx, st.SyncKey, st.Tree); err != nil {
			return "", err
		}
	case len(d.CmdArgs) > 0:
		return "", fmt.Errorf("store: unknown arguments %q", d.FullCmd())
	}
	st, err := s.store.Load(ctx)
	if err != nil {
		return "", err
	}
	return describeState(st) + "\n", nil
}

func describeState(st hierarchy.State) string {
	out := fmt.Sprintf("stored key=%s folders=%d", st.SyncKey, st.Tree.Len())
	if n := len(st.Tree.LocalAdds()); n > 0 {
		out += fmt.Sprintf(" local=%d", n)
	}
	if st.Unverified {
		out += " unverified"
	}
	return out
}

func (s *scenario) syncCmd(t testing.TB, d *datadriven.TestData) (string, error) {
	if s.server == nil {
		return "", errors.New("sync before `server profile=...`")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.clock.sleeps, s.clock.cancelAtSleep, s.clock.cancel = 0, 0, nil
	if d.HasArg("cancel-in-sleep") {
		d.ScanArgs(s.t, "cancel-in-sleep", &s.clock.cancelAtSleep)
		s.clock.cancel = cancel
	}
	var prior []time.Time
	if arg, ok := d.Arg("prior-resets"); ok {
		for _, v := range arg.Vals {
			ago, err := time.ParseDuration(v)
			if err != nil {
				return "", fmt.Errorf("prior-resets: %v", err)
			}
			prior = append(prior, s.clock.Now().Add(-ago))
		}
	}
	before, err := s.store.Load(ctx)
	if err != nil {
		return "", err
	}
	w := newWire(s.server, s.pending)
	s.pending = nil
	var audit bytes.Buffer
	s.synced++
	sess, err := machine.New(machine.Config{
		Transport: w, Store: s.store, Policy: s.pol, Clock: s.clock,
		SessionID: fmt.Sprintf("s%d", s.synced), Audit: machine.NewJSONLines(&audit),
		PriorResets: prior,
	})
	if err != nil {
		return "", err
	}
	res, syncErr := sess.Sync(ctx)
	recs, err := machine.ReadRecords(&audit)
	if err != nil {
		return "", fmt.Errorf("the audit log does not read back: %v", err)
	}
	s.last = recs

	if d.HasArg("brief") {
		s.check(t, d, before, after0(s.store), res, syncErr, recs)
		out := fmt.Sprintf("requests=%d\n", len(w.calls))
		if syncErr != nil {
			return out + "failed\n", nil
		}
		return out + "synced\n", nil
	}
	var b strings.Builder
	req := -1
	for _, r := range recs {
		b.WriteString(traceLine(r, w.calls, &req))
		b.WriteByte('\n')
	}
	if res != nil {
		for _, f := range res.RolledBack {
			fmt.Fprintf(&b, "rolled back local add: %s [%s]\n", f.DisplayName, f.ServerID)
		}
		if syncErr == nil && res.Applied != nil {
			a := res.Applied
			fmt.Fprintf(&b, "applied: added=%d updated=%d deleted=%d", a.Added, a.Updated, a.Deleted)
			if a.Unchanged > 0 || a.DeletesOfUnknown > 0 || a.CascadeDeleted > 0 {
				fmt.Fprintf(&b, " unchanged=%d deletes-of-unknown=%d cascade=%d", a.Unchanged, a.DeletesOfUnknown, a.CascadeDeleted)
			}
			b.WriteByte('\n')
		}
		if syncErr == nil && res.Reconciled != nil {
			r := res.Reconciled
			fmt.Fprintf(&b, "reconciled: kept=%d updated=%d added=%d removed=%d", r.Kept, r.Updated, r.Added, r.Removed)
			if len(r.RemovedIDs) > 0 {
				fmt.Fprintf(&b, " (removed %s)", strings.Join(r.RemovedIDs, ", "))
			}
			b.WriteByte('\n')
		}
		for _, wmsg := range res.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", wmsg)
		}
	}
	after, err := s.store.Load(context.Background())
	if err != nil {
		return "", err
	}
	if syncErr != nil {
		fmt.Fprintf(&b, "failed %s: %v\n", kindName(syncErr), syncErr)
		fmt.Fprintf(&b, "%s\n", describeState(after))
	} else {
		fmt.Fprintf(&b, "synced key=%s folders=%d\n", after.SyncKey, after.Tree.Len())
	}
	s.check(t, d, before, after, res, syncErr, recs)
	return b.String(), nil
}

// check asserts what every session must keep, whatever the scenario says.
func (s *scenario) check(t testing.TB, d *datadriven.TestData, before, after hierarchy.State, res *machine.Result, syncErr error, recs []machine.Record) {
	if div := machine.Replay(recs, s.pol); div != nil {
		t.Errorf("%s: DESIGN rule 8: the audit log does not replay: %v", d.Pos, div)
	}
	if res == nil {
		t.Errorf("%s: Sync returned no Result (%v)", d.Pos, syncErr)
		return
	}
	if res.Counters.Attempts > s.pol.MaxAttempts {
		t.Errorf("%s: %d requests sent, more than max_attempts %d", d.Pos, res.Counters.Attempts, s.pol.MaxAttempts)
	}
	if syncErr != nil {
		var me *machine.Error
		if !errors.As(syncErr, &me) {
			t.Errorf("%s: a failed session returns a *machine.Error, got %T", d.Pos, syncErr)
		}
		if res.State != states.Failed {
			t.Errorf("%s: failed session in state %v", d.Pos, res.State)
		}
		if after.SyncKey != before.SyncKey || !after.Tree.Equal(before.Tree) {
			t.Errorf("%s: a failed session changed the stored state: key %s -> %s, %v", d.Pos, before.SyncKey, after.SyncKey, before.Tree.Diff(after.Tree))
		}
		return
	}
	if res.State != states.Synced || res.SyncKey != after.SyncKey {
		t.Errorf("%s: synced session: state %v, result key %q, stored key %q", d.Pos, res.State, res.SyncKey, after.SyncKey)
	}
	if after.Unverified {
		t.Errorf("%s: a synced session left the store unverified", d.Pos)
	}
}

var kinds = []struct {
	name string
	err  error
}{
	{"ErrMalformedRequest", machine.ErrMalformedRequest}, {"ErrAuth", machine.ErrAuth}, {"ErrDenied", machine.ErrDenied},
	{"ErrPasswordExpired", machine.ErrPasswordExpired}, {"ErrNotSupported", machine.ErrNotSupported},
	{"ErrServerFull", machine.ErrServerFull}, {"ErrRemoteWipe", machine.ErrRemoteWipe}, {"ErrServerError", machine.ErrServerError},
	{"ErrStatus", machine.ErrStatus}, {"ErrBudget", machine.ErrBudget}, {"ErrResetLoop", machine.ErrResetLoop}, {"ErrRedirect", machine.ErrRedirect}, {"ErrThrottled", machine.ErrThrottled}, {"ErrProvisioning", machine.ErrProvisioning},
	{"ErrCommit", machine.ErrCommit}, {"ErrCancelled", machine.ErrCancelled}, {"ErrRequest", machine.ErrRequest},
}

func kindName(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	return "(no kind)"
}

// traceLine renders one audit record: `from -event-> to`, then what the record
// and the wire say: the key sent (on entering awaiting), the classified code, the
// injected fault, the server's answer, refused guards with the reason, the delay.
func traceLine(r machine.Record, calls []wireCall, req *int) string {
	var notes []string
	if r.Event == transitions.Start || r.Event == transitions.Diverged {
		if p := r.Stimulus.Prior; p != nil {
			if p.LostResponse {
				notes = append(notes, "prior: store unverified (a response was lost)")
			}
			if len(p.Resets) > 0 {
				notes = append(notes, fmt.Sprintf("prior: %d resets", len(p.Resets)))
			}
		}
	}
	if r.From == states.Awaiting && *req >= 0 && *req < len(calls) {
		c := calls[*req]
		if r.Code != "" {
			code := r.Code
			if r.Stimulus.Outcome != nil {
				rule := transitions.Classify(*r.Stimulus.Outcome)
				if rule.Name != "" && !strings.Contains(code, rule.Name) {
					code += " (" + rule.Name + ")"
				}
			}
			notes = append(notes, code)
		}
		if c.fault != "" {
			notes = append(notes, "fault="+c.fault)
		}
		if c.reply != nil && c.reply.Response != nil && c.reply.Response.Status == 1 && c.fault == "" {
			notes = append(notes, fmt.Sprintf("answer key=%s changes=%s", c.reply.Response.SyncKey, changeSummary(c.reply.Response.Changes)))
		}
		if c.fault == "" && c.reply != nil && c.reply.Location != "" {
			notes = append(notes, "location="+c.reply.Location)
		}
		if c.fault == "" && c.reply != nil && c.reply.HasRetryAfter {
			notes = append(notes, "retry-after="+c.reply.RetryAfter.String())
		}
	}
	var refused []string
	for _, g := range r.Guards {
		if !g.Held {
			refused = append(refused, string(g.Guard))
		}
	}
	if len(refused) > 0 {
		notes = append(notes, fmt.Sprintf("(%s refused: %s)", strings.Join(refused, ", "), r.Reason))
	}
	if r.Delay != 0 {
		notes = append(notes, "delay="+r.Delay.String())
	}
	if r.To == states.Awaiting {
		*req++
		if *req < len(calls) {
			notes = append(notes, "sends key="+calls[*req].key)
		}
	}
	head := fmt.Sprintf("%s -%s-> %s", r.From, r.Event, r.To)
	if len(notes) == 0 {
		return head
	}
	return fmt.Sprintf("%-36s %s", head, strings.Join(notes, "  "))
}

func (s *scenario) hierarchyCmd(t testing.TB, d *datadriven.TestData) (string, error) {
	if d.HasArg("server") {
		return renderTree(hierarchy.NewTree(s.server.Folders()...)), nil
	}
	st, err := s.store.Load(context.Background())
	if err != nil {
		return "", err
	}
	out := renderTree(st.Tree)
	if s.server == nil {
		return out, nil
	}
	want := hierarchy.NewTree(s.server.Folders()...)
	equal := want.Equal(st.Tree)
	switch {
	case d.HasArg("diverged") && equal:
		t.Errorf("%s: `hierarchy diverged`, yet the client tree equals the server's", d.Pos)
	case d.HasArg("diverged"):
		out += "differs from the server:\n"
		for _, l := range want.Diff(st.Tree) {
			out += "  " + l + "\n"
		}
	case !equal:
		t.Errorf("%s: the client tree is not the server's: %v", d.Pos, want.Diff(st.Tree))
	}
	return out, nil
}

func (s *scenario) classifyCmd(d *datadriven.TestData) (string, error) {
	var o transitions.Outcome
	var code int
	switch {
	case d.HasArg("status"):
		d.ScanArgs(s.t, "status", &code)
		o = transitions.Outcome{HTTPStatus: 200, Status: code}
	case d.HasArg("http"):
		d.ScanArgs(s.t, "http", &code)
		o = transitions.Outcome{HTTPStatus: code}
	case d.HasArg("condition"):
		d.ScanArgs(s.t, "condition", &code)
		o = transitions.Outcome{Condition: transitions.Condition(code)}
	default:
		return "", errors.New("classify status=N | http=N | condition=N")
	}
	r := transitions.Classify(o)
	valid := "a defined event"
	if !r.Event.Valid() || !r.Event.IsOutcome() {
		valid = "NOT A DEFINED OUTCOME EVENT"
	}
	name := r.Name
	if name == "" {
		name = r.Meaning
	}
	// Which states accept it: an outcome event must be accepted in awaiting.
	var accepted []string
	for _, row := range transitions.Rows() {
		if row.Event == r.Event {
			accepted = append(accepted, row.From.String()+" -> "+row.To.String())
		}
	}
	sort.Strings(accepted)
	return fmt.Sprintf("%s %d (%s) -> %s: %s; table: %s\n", r.Source, r.Code, name, r.Event, valid, strings.Join(accepted, ", ")), nil
}

func after0(st *hierarchy.MemoryStore) hierarchy.State {
	a, _ := st.Load(context.Background())
	return a
}
