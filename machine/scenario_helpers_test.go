package machine_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
)

// scenarioClock is the session clock of a scenario: simulated time
// (machine.SimClock) that, when cancelAtSleep is n > 0, cancels the session's
// context during the n-th Sleep (a caller giving up while the session waits out a
// backoff).
type scenarioClock struct {
	*machine.SimClock
	mu            sync.Mutex
	sleeps        int
	cancelAtSleep int
	cancel        context.CancelFunc
}

func (c *scenarioClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps++
	if c.cancelAtSleep > 0 && c.sleeps == c.cancelAtSleep && c.cancel != nil {
		c.mu.Unlock()
		c.cancel() // the wait is interrupted: no time passes
		return ctx.Err()
	}
	c.mu.Unlock()
	return c.SimClock.Sleep(ctx, d)
}

// scriptedFault is one line of a `faults` block: a fault of package faults, or a
// plain error no transport classifies (err), returned without reaching the server.
type scriptedFault struct {
	fault faults.Fault
	err   string
}

func (s scriptedFault) String() string {
	if s.err != "" {
		return "error " + strconv.Quote(s.err)
	}
	return s.fault.String()
}

// wireCall is one FolderSync round trip as the scenario saw it.
type wireCall struct {
	key    string
	fault  string // the injected fault, "" if none
	reply  *transport.Reply
	err    error
	cancel bool // the session's context was done when the request was made
}

// wire is the outermost transport of a scenario: it numbers the calls of one
// session, injects the scripted faults (through package faults, or a plain error),
// and records what was sent and what came back, for the trace.
type wire struct {
	server  transport.Transport
	script  map[int]scriptedFault
	faults  *faults.Transport
	current int
	calls   []wireCall
}

func newWire(server transport.Transport, script map[int]scriptedFault) *wire {
	w := &wire{server: server, script: script}
	// The faults wrapper numbers calls itself; the scenario numbers them here
	// (a plain-error fault never reaches it), so its schedule reads our number.
	w.faults = faults.Wrap(server, faults.ScheduleFunc(func(int) faults.Fault { return w.script[w.current].fault }))
	return w
}

func (w *wire) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	w.current++
	c := wireCall{key: req.SyncKey, cancel: ctx.Err() != nil}
	sf, scripted := w.script[w.current]
	if scripted {
		c.fault = sf.String()
	}
	if scripted && sf.err != "" {
		c.err = errors.New(sf.err)
	} else {
		c.reply, c.err = w.faults.FolderSync(ctx, req)
	}
	w.calls = append(w.calls, c)
	return c.reply, c.err
}

// parseFaultLine reads one line of a `faults` block: `N: kind[ args]` or
// `N-M: kind[ args]`. Kinds: request-lost, response-lost, timeout,
// connection-reset, truncated-body, corrupt-body, status CODE,
// http CODE [retry-after=DURATION] [location=URL] [throttle=REASON], error TEXT.
func parseFaultLine(line string) (from, to int, f scriptedFault, err error) {
	calls, spec, ok := strings.Cut(line, ":")
	if !ok {
		return 0, 0, f, fmt.Errorf("want `N: fault`, got %q", line)
	}
	calls = strings.TrimSpace(calls)
	lo, hi, isRange := strings.Cut(calls, "-")
	if from, err = strconv.Atoi(lo); err != nil {
		return 0, 0, f, fmt.Errorf("bad call number in %q", line)
	}
	to = from
	if isRange {
		if to, err = strconv.Atoi(hi); err != nil || to < from {
			return 0, 0, f, fmt.Errorf("bad call range in %q", line)
		}
	}
	fields := strings.Fields(spec)
	if len(fields) == 0 {
		return 0, 0, f, fmt.Errorf("no fault in %q", line)
	}
	kind, args := fields[0], fields[1:]
	simple := map[string]faults.Fault{
		"request-lost": faults.RequestLost, "response-lost": faults.ResponseLost, "timeout": faults.Timeout,
		"connection-reset": faults.ConnectionReset, "truncated-body": faults.TruncatedBody, "corrupt-body": faults.CorruptBody,
		"reset-requested": faults.ResetRequested,
	}
	if sf, ok := simple[kind]; ok && len(args) == 0 {
		return from, to, scriptedFault{fault: sf}, nil
	}
	switch kind {
	case "error":
		text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), "error"))
		if u, uerr := strconv.Unquote(text); uerr == nil {
			text = u
		}
		if text == "" {
			return 0, 0, f, fmt.Errorf("error needs a text in %q", line)
		}
		return from, to, scriptedFault{err: text}, nil
	case "status":
		if len(args) != 1 {
			return 0, 0, f, fmt.Errorf("want `status CODE` in %q", line)
		}
		code, err := strconv.Atoi(args[0])
		if err != nil {
			return 0, 0, f, fmt.Errorf("bad status in %q", line)
		}
		return from, to, scriptedFault{fault: faults.Status(code)}, nil
	case "http":
		if len(args) < 1 {
			return 0, 0, f, fmt.Errorf("want `http CODE ...` in %q", line)
		}
		code, err := strconv.Atoi(args[0])
		if err != nil {
			return 0, 0, f, fmt.Errorf("bad HTTP status in %q", line)
		}
		var ra time.Duration
		var has bool
		var loc, throttle *string
		for _, a := range args[1:] {
			k, v, _ := strings.Cut(a, "=")
			switch k {
			case "retry-after":
				if ra, err = time.ParseDuration(v); err != nil {
					return 0, 0, f, fmt.Errorf("bad retry-after in %q", line)
				}
				has = true
			case "location":
				loc = &v
			case "throttle":
				throttle = &v
			default:
				return 0, 0, f, fmt.Errorf("unknown http argument %q in %q", k, line)
			}
		}
		hf := faults.HTTP(code, ra, has)
		if loc != nil {
			hf = hf.WithLocation(*loc)
		}
		if throttle != nil {
			hf = hf.WithThrottle(*throttle)
		}
		return from, to, scriptedFault{fault: hf}, nil
	}
	return 0, 0, f, fmt.Errorf("unknown fault %q in %q", kind, line)
}

// splitQuoted splits a line into fields, keeping "double quoted" text (with Go
// escapes) as one field without its quotes: `add id=p1 name="Big Projects"`.
func splitQuoted(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, started := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '"' && !in:
			in, started = true, true
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' {
					j++
				}
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated quote in %q", line)
			}
			s, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("bad quoted text in %q: %v", line, err)
			}
			cur.WriteString(s)
			i = j
			in = false
		case ch == ' ' || ch == '\t':
			if started {
				out = append(out, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(ch)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out, nil
}

// keyValues turns `k=v` fields into a map; a bare field maps to "".
func keyValues(fields []string) map[string]string {
	m := map[string]string{}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

// folderFrom builds a folder from id=, parent=, name= and type= (type defaults to
// 12, a user-created mail folder; parent to the root).
func folderFrom(kv map[string]string) (hierarchy.Folder, error) {
	f := hierarchy.Folder{ServerID: kv["id"], ParentID: kv["parent"], DisplayName: kv["name"], Type: transport.FolderUserMail}
	if f.ParentID == "" {
		f.ParentID = hierarchy.RootID
	}
	if t, ok := kv["type"]; ok {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > 255 {
			return f, fmt.Errorf("bad folder type %q", t)
		}
		f.Type = transport.FolderType(n)
	}
	if f.ServerID == "" {
		return f, errors.New("a folder needs id=")
	}
	return f, nil
}

// renderTree prints a tree as an indented list, children sorted by name then
// ServerId, orphans last.
func renderTree(t *hierarchy.Tree) string {
	var b strings.Builder
	var walk func(parent string, depth int)
	walk = func(parent string, depth int) {
		for _, f := range t.Children(parent) {
			fmt.Fprintf(&b, "%s%s [%s] type=%d", strings.Repeat("  ", depth), f.DisplayName, f.ServerID, uint8(f.Type))
			if t.IsLocal(f.ServerID) {
				b.WriteString(" (local)")
			}
			b.WriteByte('\n')
			walk(f.ServerID, depth+1)
		}
	}
	walk(hierarchy.RootID, 0)
	for _, id := range t.Orphans() {
		f, _ := t.Get(id)
		fmt.Fprintf(&b, "orphan: %s [%s] parent=%s type=%d\n", f.DisplayName, f.ServerID, f.ParentID, uint8(f.Type))
	}
	if t.Len() == 0 {
		b.WriteString("(empty)\n")
	}
	return b.String()
}

// changeSummary counts a response's changes: "+3 ~1 -1", "none".
func changeSummary(cs []transport.FolderChange) string {
	var add, upd, del int
	for _, c := range cs {
		switch c.Op {
		case transport.OpAdd:
			add++
		case transport.OpUpdate:
			upd++
		case transport.OpDelete:
			del++
		}
	}
	var parts []string
	if add > 0 {
		parts = append(parts, "+"+strconv.Itoa(add))
	}
	if upd > 0 {
		parts = append(parts, "~"+strconv.Itoa(upd))
	}
	if del > 0 {
		parts = append(parts, "-"+strconv.Itoa(del))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// knownBugTB runs a scenario marked `# BUG:` and captures, instead of reporting,
// the failures of the expectations the engine does not meet yet. The scenario
// keeps the expectation the spec asks for; the test reports the bug as a skip
// while it reproduces and fails once it no longer does (remove the marker then).
type knownBugTB struct {
	testing.TB
	mu       sync.Mutex
	failed   bool
	messages []string
}

func (k *knownBugTB) Fail() { k.mu.Lock(); k.failed = true; k.mu.Unlock() }
func (k *knownBugTB) Failed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.failed
}
func (k *knownBugTB) FailNow() { k.Fail(); runtime.Goexit() }
func (k *knownBugTB) Error(args ...any) {
	k.note(fmt.Sprint(args...))
}
func (k *knownBugTB) Errorf(format string, args ...any) { k.note(fmt.Sprintf(format, args...)) }
func (k *knownBugTB) Fatal(args ...any)                 { k.note(fmt.Sprint(args...)); runtime.Goexit() }
func (k *knownBugTB) Fatalf(format string, args ...any) {
	k.note(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (k *knownBugTB) note(msg string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.failed = true
	k.messages = append(k.messages, msg)
}

// runKnownBug runs fn on a knownBugTB in its own goroutine (a Fatal there ends
// only that goroutine) and reports whether the bug reproduced, with the failures.
func runKnownBug(t testing.TB, fn func(tb testing.TB)) (reproduced bool, messages []string) {
	k := &knownBugTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(k)
	}()
	<-done
	return k.Failed(), k.messages
}
