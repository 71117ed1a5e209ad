package soak

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// start is the simulated time at which every account begins.
var start = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// Run runs the campaign cfg describes and returns what it found. The error is
// for a Config that cannot run, a campaign that could not set itself up (a
// loopback listener), or ctx ending: Run then stops between two sessions and
// returns the Summary so far. Violations are not errors: they are in the
// Summary.
//
// Run runs the accounts one after another on the calling goroutine: the
// goroutine check compares runtime.NumGoroutine before and after each session.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	r := &runner{cfg: cfg, baseline: runtime.NumGoroutine()}
	r.progress.Total = len(cfg.Profiles) * cfg.Seeds * cfg.Sessions
	for _, p := range cfg.Profiles {
		r.sum.Profiles = append(r.sum.Profiles, ProfileSummary{Profile: p, FailedBy: map[string]int{}})
		ps := &r.sum.Profiles[len(r.sum.Profiles)-1]
		for k := range cfg.Seeds {
			if err := ctx.Err(); err != nil {
				return r.sum, err
			}
			seed := cfg.FirstSeed + int64(k)
			if err := r.account(ctx, ps, seed); err != nil {
				return r.sum, err
			}
			r.progress.Profile, r.progress.Seed = p, seed
			if cfg.Progress != nil {
				cfg.Progress(r.progress)
			}
		}
	}
	return r.sum, nil
}

type runner struct {
	cfg      Config
	baseline int // goroutines before the campaign
	sum      Summary
	progress Progress
}

// account is one seed's state: the server, the client's store and clock, the
// audit log and the resets carried from session to session.
type account struct {
	profile sim.Profile
	seed    int64
	server  *sim.Server
	store   *hierarchy.MemoryStore
	clock   *machine.SimClock
	audit   bytes.Buffer
	resets  []time.Time
	loop    *loopback
	// broken is set by the first violation: the account stops there. stopped is
	// set when the policy itself keeps the account from going on (errStop).
	broken, stopped bool
}

// account runs one seed's sessions.
func (r *runner) account(ctx context.Context, ps *ProfileSummary, seed int64) error {
	cfg := r.cfg
	a := &account{profile: ps.Profile, seed: seed, server: sim.New(ps.Profile, sim.WithFolders(sim.DefaultFolders()...)),
		store: hierarchy.NewMemoryStore(), clock: machine.NewSimClock(start)}
	ps.Accounts++
	if cfg.HTTP {
		var err error
		if a.loop, err = startLoopback(a.server, a.clock, seed); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x736f616b)) // "soak"
	ran := 0
	for i := 1; i <= cfg.Sessions && !a.broken && !a.stopped; i++ {
		if i > 1 {
			if err := ctx.Err(); err != nil {
				r.closeAccount(ps, a)
				return err
			}
			_ = a.clock.Sleep(context.Background(), cfg.Interval) // a background context never ends
			if !r.churn(ps, a, rng, i, fmt.Sprintf("c%d", i)) {
				break
			}
		}
		sched := faults.Seeded(sessionSeed(seed, i), cfg.FaultRate, cfg.Menu...)
		failed := r.session(ps, a, i, false, sched)
		ran++
		r.progress.Done++
		if failed && !a.broken {
			// The next clean sync must converge, once the reset window has passed.
			_ = a.clock.Sleep(context.Background(), cfg.Policy.ResetGuard.Window)
			if cfg.ChurnBeforeCleanSync && !r.churn(ps, a, rng, i, fmt.Sprintf("c%dx", i)) {
				break
			}
			r.session(ps, a, i, true, nil)
		}
	}
	r.progress.Done += cfg.Sessions - ran // an account that broke early is done all the same
	r.closeAccount(ps, a)
	return nil
}

// churn changes the account's server between two sessions (before session i) and
// counts what it did; it reports false, after recording the violation, if the
// server refused a change.
func (r *runner) churn(ps *ProfileSummary, a *account, rng *rand.Rand, i int, tag string) bool {
	n, err := churn(rng, a.server, tag)
	ps.Churn.Adds += n.adds
	ps.Churn.Renames += n.renames
	ps.Churn.Moves += n.moves
	ps.Churn.Deletes += n.deletes
	if err != nil {
		r.violate(ps, a, i, false, "churn", err.Error())
		return false
	}
	return true
}

// closeAccount shuts the account's server and checks that its goroutines ended.
func (r *runner) closeAccount(ps *ProfileSummary, a *account) {
	if a.loop != nil {
		if err := a.loop.close(); err != nil && !a.broken {
			r.violate(ps, a, 0, false, "loopback", err.Error())
		}
	}
	if r.cfg.SkipGoroutineCheck || a.broken {
		return
	}
	if n, ok := settle(r.baseline); !ok {
		r.violate(ps, a, 0, false, "goroutines", fmt.Sprintf("%d goroutines after the account's server was shut, %d before the campaign", n, r.baseline))
	}
}

// sessionSeed derives a session's fault schedule seed from the account's seed and
// the session's number (splitmix64), so that neighbouring seeds and sessions get
// unrelated schedules.
func sessionSeed(seed int64, session int) int64 {
	return int64(mix64(mix64(uint64(seed)) ^ uint64(session)))
}

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// violate records a broken check and stops the account.
func (r *runner) violate(ps *ProfileSummary, a *account, session int, clean bool, check, detail string) {
	a.broken = true
	ps.Violations++
	if check == "replay" {
		ps.Divergences++
	}
	if len(r.sum.Violations) >= r.cfg.MaxReported {
		return
	}
	r.sum.Violations = append(r.sum.Violations, Violation{
		Profile: a.profile, Seed: a.seed, Session: session, CleanSync: clean, Check: check, Detail: detail,
		Audit: bytes.Clone(a.audit.Bytes()), Repro: r.cfg.ReproArgs(a.profile, a.seed),
	})
	r.progress.Violations = r.sum.TotalViolations()
}

// SessionReport is what the checks see of one session; Config.Check receives it.
type SessionReport struct {
	Profile sim.Profile
	Seed    int64
	// Session is the session's number in its account, from 1.
	Session int
	// CleanSync says this is the clean sync after a failed session.
	CleanSync bool
	// Result and Err are what machine.Session.Sync returned.
	Result *machine.Result
	Err    error
	// Records are the session's audit records, read back from the JSON Lines log.
	Records []machine.Record
	// Injected are the faults that took effect, in call order; Requests the number
	// of requests the session sent.
	Injected []faults.Injection
	Requests int
	// Before and After are the stored state before and after the session.
	Before, After hierarchy.State
	// Server is the account's simulated server (read it, do not change it).
	Server *sim.Server
}

// session runs one session of account a through sched (nil: no faults) and checks
// it. It reports whether the session failed.
func (r *runner) session(ps *ProfileSummary, a *account, i int, clean bool, sched faults.Schedule) bool {
	cfg := r.cfg
	var inner transport.Transport = a.server
	if a.loop != nil {
		inner = a.loop.client
	}
	tr := faults.Wrap(inner, sched)
	if a.loop != nil {
		tr.OnWire(a.loop)
	}
	id := fmt.Sprintf("%s-seed%d-s%d", a.profile, a.seed, i)
	if clean {
		id += "-clean"
	}
	bg := context.Background()
	before, err := a.store.Load(bg)
	if err != nil { // a MemoryStore fails only on a done context
		r.violate(ps, a, i, clean, "store", err.Error())
		return false
	}
	prior := inWindow(a.resets, cfg.Policy.ResetGuard.Window, a.clock.Now())
	sess, err := machine.New(machine.Config{Transport: tr, Store: a.store, Policy: cfg.Policy, Clock: a.clock,
		SessionID: id, Audit: machine.NewJSONLines(&a.audit), PriorResets: append([]time.Time(nil), a.resets...)})
	if err != nil {
		r.violate(ps, a, i, clean, "config", err.Error())
		return false
	}
	mark := a.audit.Len()
	goroutines := runtime.NumGoroutine()
	t0 := a.clock.Now()
	ctx, cancel := context.WithTimeout(bg, cfg.SessionTimeout)
	res, syncErr := sess.Sync(ctx)
	cancel()
	waited := a.clock.Now().Sub(t0)
	if a.loop != nil {
		a.loop.idle()
	}

	rep := SessionReport{Profile: a.profile, Seed: a.seed, Session: i, CleanSync: clean, Result: res, Err: syncErr,
		Requests: tr.Calls(), Before: before, Server: a.server}
	for _, inj := range tr.Injected() {
		if !tookNoEffect(inj) {
			rep.Injected = append(rep.Injected, inj)
		}
	}
	rep.Records, err = machine.ReadRecords(bytes.NewReader(a.audit.Bytes()[mark:]))
	if err != nil {
		r.violate(ps, a, i, clean, "replay", "the audit log does not read back: "+err.Error())
		return syncErr != nil
	}
	rep.After, err = a.store.Load(bg)
	if err != nil {
		r.violate(ps, a, i, clean, "store", err.Error())
		return syncErr != nil
	}
	if res != nil {
		// The resets the next session inherits: this one's Counters hold the
		// inherited ones and its own.
		a.resets = inWindow(res.Counters.Resets, cfg.Policy.ResetGuard.Window, a.clock.Now())
	}

	r.count(ps, rep)
	err = r.check(rep, evidence{injected: rep.Injected, requests: rep.Requests, prior: prior}, waited)
	if err == nil && !cfg.SkipGoroutineCheck {
		if n, ok := settle(goroutines); !ok {
			err = broke("goroutines", "%d goroutines after the session, %d before", n, goroutines)
		}
	}
	if err == nil && cfg.Check != nil {
		if cerr := cfg.Check(rep); cerr != nil {
			err = broke("check", "%v", cerr)
		}
	}
	var v *violation
	switch {
	case errors.As(err, &v):
		r.violate(ps, a, i, clean, v.check, v.detail)
	case err != nil: // errStop
		a.stopped = true
	}
	return syncErr != nil
}

// tookNoEffect reports an injection the wrapper logged without changing the
// answer (a broken body on an answer that had none).
func tookNoEffect(inj faults.Injection) bool {
	return len(inj.Detail) >= 9 && inj.Detail[:9] == "no effect"
}

// inWindow returns the times inside the window ending at now.
func inWindow(ts []time.Time, window time.Duration, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range ts {
		if t.After(now.Add(-window)) && !t.After(now) {
			out = append(out, t)
		}
	}
	return out
}

// count adds a session to the profile's measurements.
func (r *runner) count(ps *ProfileSummary, rep SessionReport) {
	if rep.CleanSync {
		ps.CleanSyncs++
		return
	}
	ps.Sessions++
	if rep.Err == nil {
		ps.Synced++
	} else {
		ps.Failed++
		ps.FailedBy[KindName(rep.Err)]++
	}
	ps.Requests += rep.Requests
	ps.Injected += len(rep.Injected)
	for _, inj := range rep.Injected {
		if inj.OnWire {
			ps.OnWire++
		}
	}
	verifies := 0
	for _, rec := range rep.Records {
		switch {
		case rec.Event == transitions.Lost && rec.To == states.Retrying:
			ps.Resends++
		case rec.Event == transitions.Verify:
			verifies++
		}
		if rec.To == states.Resetting && rec.Event != transitions.Verify {
			ps.Resets++
		}
	}
	ps.Verifications += verifies
	if rep.Requests > 1 {
		ps.Recoveries++
		for len(ps.RoundTrips) <= rep.Requests {
			ps.RoundTrips = append(ps.RoundTrips, 0)
		}
		ps.RoundTrips[rep.Requests]++
	}
	minimum := len(rep.Injected) + verifies
	if rep.Err == nil {
		minimum++
	}
	ps.Wasted += max(0, rep.Requests-minimum)
}
