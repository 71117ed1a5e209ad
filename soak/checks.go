package soak

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// errStop is returned by check for a clean sync that failed as the policy
// demands (ErrResetLoop with reset_guard.max_resets 0): not a violation, but the
// account cannot go on.
var errStop = errors.New("soak: the policy forbids the reset the clean sync needs")

// violation is a broken check: its name and what was found.
type violation struct{ check, detail string }

func (v *violation) Error() string { return v.check + ": " + v.detail }

func broke(check, format string, args ...any) error {
	return &violation{check: check, detail: fmt.Sprintf(format, args...)}
}

// check applies the checks of the package documentation to one session; it
// returns nil, errStop, or a *violation.
func (r *runner) check(rep SessionReport, ev evidence, waited time.Duration) error {
	p := r.cfg.Policy
	res := rep.Result
	if res == nil {
		return broke("failure", "Sync returned no Result (error: %v)", rep.Err)
	}
	if err := checkAudit(rep, p); err != nil {
		return err
	}
	switch {
	case res.Counters.Attempts > p.MaxAttempts:
		return broke("attempts", "%d requests, more than max_attempts %d", res.Counters.Attempts, p.MaxAttempts)
	case rep.Requests != res.Counters.Attempts:
		return broke("attempts", "the transport saw %d requests, the session counted %d", rep.Requests, res.Counters.Attempts)
	}
	if err := checkBudgets(rep.Records, p.Resend.MaxResends, p.ResetGuard, ev.prior); err != nil {
		return err
	}
	if p.Backoff.MaxElapsed > 0 && waited > p.Backoff.MaxElapsed {
		return broke("waits", "the session waited %s, more than backoff.max_elapsed %s", waited, p.Backoff.MaxElapsed)
	}
	if waited > res.Counters.Elapsed {
		return broke("waits", "the session waited %s, more than the %s of waits it chose", waited, res.Counters.Elapsed)
	}
	if o := rep.After.Tree.Orphans(); len(o) > 0 {
		return broke("tree", "the stored hierarchy has %d orphans, the first %q", len(o), o[0])
	}

	if rep.Err == nil {
		return checkSynced(rep)
	}
	if res.State != states.Failed {
		return broke("result", "Sync returned an error (%v) with state %s", rep.Err, res.State)
	}
	if rep.After.SyncKey != rep.Before.SyncKey || !rep.After.Tree.Equal(rep.Before.Tree) {
		return broke("store-unchanged", "the failed session changed the store: SyncKey %q -> %q, %s",
			rep.Before.SyncKey, rep.After.SyncKey, diffText(rep.Before.Tree, rep.After.Tree))
	}
	if rep.CleanSync {
		if errors.Is(rep.Err, machine.ErrResetLoop) && p.ResetGuard.MaxResets == 0 {
			return errStop
		}
		return broke("clean-sync", "a clean sync after a failed session did not converge: %v", rep.Err)
	}
	if why := acceptable(rep.Err, p, ev); why != "" {
		return broke("failure", "%s (%v)", why, rep.Err)
	}
	return nil
}

// checkSynced checks a synced session: the store equals the server, holds its
// current key, and the Result says the same.
func checkSynced(rep SessionReport) error {
	res, after := rep.Result, rep.After
	if res.State != states.Synced {
		return broke("result", "Sync returned no error with state %s", res.State)
	}
	want := hierarchy.NewTree(rep.Server.Folders()...)
	if !want.Equal(after.Tree) {
		return broke("converged", "client and server hierarchies differ (- server only, + client only): %s", diffText(want, after.Tree))
	}
	if cur := rep.Server.CurrentKey(); after.SyncKey != cur {
		return broke("sync-key", "the stored SyncKey is %q, the server's current key %q", after.SyncKey, cur)
	}
	switch {
	case res.SyncKey != after.SyncKey:
		return broke("result", "the Result's SyncKey is %q, the store's %q", res.SyncKey, after.SyncKey)
	case !res.Tree.Equal(after.Tree):
		return broke("result", "the Result's tree is not the stored one: %s", diffText(after.Tree, res.Tree))
	case after.Unverified:
		return broke("result", "the store is still marked unverified after a synced session")
	}
	return nil
}

// checkAudit checks that the session's records are one session that replays
// identically and ends where the Result says.
func checkAudit(rep SessionReport, p policy.Policy) error {
	recs := rep.Records
	if len(recs) == 0 {
		return broke("replay", "the session wrote no audit record")
	}
	if n := len(machine.SplitSessions(recs)); n != 1 {
		return broke("replay", "the session's records split into %d sessions", n)
	}
	if d := machine.Replay(recs, p); d != nil {
		return broke("replay", "%v", d)
	}
	if last := recs[len(recs)-1].To; last != rep.Result.State {
		return broke("replay", "the audit log ends in %s, the Result in %s", last, rep.Result.State)
	}
	awaiting := 0
	for _, rec := range recs {
		if rec.To == states.Awaiting {
			awaiting++
		}
	}
	if awaiting != rep.Requests {
		return broke("attempts", "the audit log records %d requests, the transport saw %d", awaiting, rep.Requests)
	}
	return nil
}

// checkBudgets checks the resend streaks and the reset guard against the records:
// no streak of resends after lost responses longer than maxResends, and no reset
// that brought the number of resets inside the guard's window (the inherited ones
// included) above its limit.
func checkBudgets(recs []machine.Record, maxResends int, guard policy.ResetGuard, prior []time.Time) error {
	streak := 0
	resets := append([]time.Time(nil), prior...)
	for _, rec := range recs {
		if rec.Asked.IsOutcome() {
			if rec.Event == transitions.Lost {
				streak++
				if streak > maxResends {
					return broke("resend-budget", "%d resends in a row (record %d), more than resend.max_resends %d", streak, rec.Seq, maxResends)
				}
			} else {
				streak = 0
			}
		}
		if rec.To != states.Resetting {
			continue
		}
		streak = 0
		if rec.Event == transitions.Verify {
			continue // a verification does not count toward the loop guard (machine.Decide)
		}
		now := rec.Stimulus.Now
		resets = append(resets, now)
		if n := len(inWindow(resets, guard.Window, now)); n > guard.MaxResets {
			return broke("reset-guard", "%d resets within %s at record %d (%d inherited), more than reset_guard.max_resets %d",
				n, guard.Window, rec.Seq, len(inWindow(prior, guard.Window, now)), guard.MaxResets)
		}
	}
	return nil
}

// diffText is the first lines of a tree diff.
func diffText(a, b *hierarchy.Tree) string {
	d := a.Diff(b)
	const most = 6
	if len(d) > most {
		d = append(d[:most:most], fmt.Sprintf("... %d more", len(d)-most))
	}
	if len(d) == 0 {
		return "no folder differs"
	}
	return strings.Join(d, "; ")
}
