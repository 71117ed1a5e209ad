package machine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/transport"
)

// Clock is the session's time: injected so tests and replays never sleep for real.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or returns ctx.Err() as soon as ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SimClock is simulated time: Sleep advances it by d and returns at once (or with
// ctx's error when ctx has ended). For tests, dry runs and the demo: a session's waits
// cost no real time, and the audit log still shows the waits the policy chose. It
// is safe for concurrent use.
type SimClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewSimClock returns a SimClock reading start.
func NewSimClock(start time.Time) *SimClock { return &SimClock{now: start} }

// Now returns the simulated time.
func (c *SimClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the simulated time by d, unless ctx has already ended.
func (c *SimClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// Observer is told of every transition, after it is recorded.
type Observer interface {
	OnTransition(Record)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(Record)

// OnTransition calls f(r).
func (f ObserverFunc) OnTransition(r Record) { f(r) }

// Config is what a Session needs. Transport and Store are required.
type Config struct {
	Transport transport.Transport
	Store     hierarchy.Store
	// Policy is the retry and reset budget; the zero value means policy.Default().
	Policy policy.Policy
	// Clock defaults to SystemClock.
	Clock Clock
	// SessionID names the session in the audit log and logs.
	SessionID string
	// Audit receives one Record per transition (optional).
	Audit Sink
	// Logger receives one line per transition (optional).
	Logger *slog.Logger
	// Observer is called after each transition (optional).
	Observer Observer
	// PriorResets are the times of resets in earlier sessions, for the loop guard
	// (the caller keeps them; the audit log records them on the session's start).
	PriorResets []time.Time
}

// Session runs FolderSync sessions for one account. A Session is not safe for
// concurrent use; run one Sync at a time.
type Session struct {
	cfg Config
	seq int
}

// New checks the configuration and returns a Session.
func New(cfg Config) (*Session, error) {
	if cfg.Transport == nil {
		return nil, errors.New("machine: Config.Transport is required (transport/httpeas for a server, transport/sim in tests)")
	}
	if cfg.Store == nil {
		return nil, errors.New("machine: Config.Store is required (hierarchy.OpenFileStore(dir) keeps state across runs, hierarchy.NewMemoryStore() does not)")
	}
	if cfg.Policy.MaxAttempts == 0 {
		cfg.Policy = policy.Default()
	}
	if err := cfg.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("machine: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.SessionID == "" {
		cfg.SessionID = "session"
	}
	return &Session{cfg: cfg}, nil
}

// Result is how a session ended.
type Result struct {
	// State is states.Synced or states.Failed.
	State states.State
	// SyncKey is the stored key after the session (the new one when synced).
	SyncKey string
	// Tree is the stored hierarchy after the session.
	Tree *hierarchy.Tree
	// Event is the last event; Reason says why the session ended as it did.
	Event  transitions.Event
	Reason string
	// Rule is the classification of the last outcome, if any.
	Rule *transitions.Rule
	// Counters is the session's history: attempts, resends, resets, time waited.
	Counters Counters
	// Applied and Reconciled say what the committed response did to the tree.
	Applied    *hierarchy.ApplyReport
	Reconciled *hierarchy.ReconcileReport
	// RolledBack are the local adds removed by a reset (Status 9 recovery).
	RolledBack []hierarchy.Folder
	// Warnings are problems the session worked around (a store recovered from its
	// backup snapshot, say).
	Warnings []string
	// URL is the endpoint after the redirects the session followed (the transport's
	// Redirector.URL), "" when it followed none: persist it and use it next time
	// (MS-ASHTTP 3.1.5.2.2). Redirects lists each URL adopted, in order.
	URL       string
	Redirects []string
	// Provisioning is the result of the provisioning the session ran, if any: its
	// PolicyKey is what the transport now sends.
	Provisioning *transport.ProvisionResult
	// ResetRequested says the server sent X-MS-RP during the session (MS-ASHTTP
	// 3.1.5.1): the client MUST reinitialize its synchronization state. The session
	// did so for the folder hierarchy; a client that also syncs items must reset
	// their Sync keys (MS-ASCMD 2.2.1.21) too.
	ResetRequested bool
}

// Sync runs one FolderSync session to Synced or Failed. A failed session returns
// its Result and an *Error saying what to do; the stored state is then unchanged.
func (s *Session) Sync(ctx context.Context) (*Result, error) {
	cfg := s.cfg
	res := &Result{}
	st, err := cfg.Store.Load(ctx)
	switch {
	case errors.Is(err, hierarchy.ErrRecoveredFromBackup):
		res.Warnings = append(res.Warnings, "the hierarchy store was recovered from its backup snapshot: "+err.Error())
	case errors.Is(err, hierarchy.ErrNoUsableSnapshot):
		res.Warnings = append(res.Warnings, "no usable stored hierarchy; starting from SyncKey 0: "+err.Error())
		st = hierarchy.State{SyncKey: transport.InitialSyncKey, Tree: hierarchy.NewTree()}
	case err != nil:
		return nil, fmt.Errorf("machine: loading the stored hierarchy: %w", err)
	}
	// key and tree are the committed state; work is the tree the next response is
	// applied to (after a reset, the committed tree less its rolled-back local adds).
	key, tree := st.SyncKey, st.Tree
	work := tree
	res.SyncKey, res.Tree = key, tree

	fsm := newFSMAdapter()
	var c Counters
	state := states.Idle
	stim := Stimulus{Event: transitions.Start}
	if st.Unverified || len(cfg.PriorResets) > 0 {
		stim.Prior = &Prior{LostResponse: st.Unverified, Resets: append([]time.Time(nil), cfg.PriorResets...)}
	}
	if st.Diverged() {
		stim.Event = transitions.Diverged
	}
	// Mark the stored state unverified before the first request, durably: if the
	// process dies after the server applied a request but before the commit, that
	// answer is lost and nothing else could record it; a server that never compares
	// keys would then answer "no changes" forever (DESIGN rule 3). A commit clears
	// the mark; a session that fails without losing an answer clears it too.
	markedHere := false
	if !st.Unverified {
		if err := cfg.Store.MarkUnverified(ctx); err != nil {
			res.Warnings = append(res.Warnings, "could not mark the stored state unverified before the first request: "+err.Error())
		} else {
			markedHere = true
		}
	}
	// clean is false while an answer may have been lost since the last commit: a
	// lost FolderSync answer, or a cancellation while a request was in flight.
	clean := true
	resetting := false        // the next request is the SyncKey 0 of a reset or a verification
	var pending actions       // what the table asked the transport to do before the next request
	var committedFrom *string // the key a commit during the last round trip replaced
	for {
		stim.Now = cfg.Clock.Now().Round(0) // wall time only: what the audit log keeps, so replays compare alike
		step, err := Decide(cfg.Policy, state, &c, stim)
		if err != nil {
			return res, fmt.Errorf("machine: internal error: %w", err)
		}
		if err := fsm.fire(ctx, step); err != nil {
			return res, err
		}
		if step.From == states.Awaiting && (step.Event == transitions.Lost && !stim.Preliminary || step.Event == transitions.Cancelled) {
			clean = false
		}
		s.seq++
		rec := NewRecord(s.seq, cfg.SessionID, step, stim, c)
		// Each record carries the committed SyncKey before and after its own
		// transition. A commit happens during the round trip that follows the
		// transition into awaiting, but it is the success transition's doing, so
		// that record shows it.
		rec.OldKey, rec.NewKey = key, key
		if committedFrom != nil {
			rec.OldKey = *committedFrom
			committedFrom = nil
		}
		state = step.To
		if step.Rule != nil {
			res.Rule = step.Rule
		}
		res.Event, res.Reason, res.Counters = step.Event, step.Reason, c

		var next Stimulus
		switch state {
		case states.Awaiting:
			sent := key
			if resetting {
				sent = transport.InitialSyncKey
			}
			var commit func() error
			// Before the rerun: follow the redirect the table agreed to, then
			// provision if the server asked. Either may end the round trip with an
			// outcome of its own (a refusal, or no answer: then it is tried again).
			var pre *Stimulus
			if pending.redirect != "" {
				pre, rec.RequestID = s.redirect(ctx, &pending, res)
			}
			if pre == nil && pending.provision {
				pre, rec.RequestID = s.provision(ctx, &c, &pending, res)
			}
			if pre != nil {
				next = *pre
			} else {
				next, commit, rec.RequestID = s.roundTrip(ctx, sent, work, resetting, &c, res)
			}
			if o := next.Outcome; o != nil && o.Condition == 0 && o.Status == 1 && o.HTTPStatus >= 200 && o.HTTPStatus <= 299 {
				// A Status 1 answer the server has applied: if it is not committed
				// below (X-MS-RP, a verification, a refused commit), the server is
				// ahead of the stored state until one is.
				clean = false
			}
			if commit != nil {
				// Decide first whether the Status 1 is trusted; commit only if so.
				preview := c
				preview.Resets = append([]time.Time(nil), c.Resets...)
				pstep, perr := Decide(cfg.Policy, state, &preview, withNow(next, cfg.Clock.Now().Round(0)))
				if perr == nil && pstep.To == states.Synced {
					if err := commit(); err != nil {
						if ctx.Err() != nil {
							next = Stimulus{Event: transitions.Cancelled} // the store refused because ctx ended
						} else {
							res.Warnings = append(res.Warnings, "commit failed: "+err.Error())
							next = Stimulus{Event: transitions.CommitFailed}
						}
					} else {
						resetting, clean = false, true
						before := key
						committedFrom = &before
						key, tree = res.SyncKey, res.Tree
						work = tree
					}
				}
			}
		case states.Retrying:
			s.act(step, stim, &pending, res)
			if c.Attempts >= cfg.Policy.MaxAttempts || cfg.Policy.Backoff.MaxElapsed > 0 && c.Elapsed > cfg.Policy.Backoff.MaxElapsed {
				// The budget is spent: the next decision gives up whatever the wait,
				// so do not wait for nothing.
				next = Stimulus{Event: transitions.BackoffElapsed}
			} else if err := cfg.Clock.Sleep(ctx, step.Delay); err != nil {
				next = Stimulus{Event: transitions.Cancelled}
			} else {
				next = Stimulus{Event: transitions.BackoffElapsed}
			}
		case states.Resetting:
			// Roll back what was added locally since the last sync, never wipe: the
			// SyncKey 0 answer is reconciled by mark-and-sweep (DESIGN rule 5).
			work = work.Clone()
			res.RolledBack = append(res.RolledBack, work.RollbackLocal()...)
			resetting = true
			next = Stimulus{Event: transitions.ResetSent}
		}
		s.emit(rec)
		// A cancelled context ends the session at the next step, except after a
		// commit: the new state is stored, so the success transition must be taken
		// (and recorded) rather than reporting a failure over a committed state.
		if ctx.Err() != nil && !state.Terminal() && next.Event != transitions.Cancelled && committedFrom == nil {
			next = Stimulus{Event: transitions.Cancelled}
		}
		if state.Terminal() {
			res.State = state
			if state == states.Failed {
				res.SyncKey, res.Tree = key, tree
				// Not cancellable: a cancelled session must still leave the right mark.
				bg := context.WithoutCancel(ctx)
				if !clean {
					// The server may be ahead of the stored state: say so durably, so
					// the next session verifies (DESIGN rule 3).
					if err := cfg.Store.MarkUnverified(bg); err != nil {
						res.Warnings = append(res.Warnings, "could not mark the stored state unverified: "+err.Error())
					}
				} else if cl, ok := cfg.Store.(hierarchy.UnverifiedClearer); ok && markedHere {
					// Every request was answered: the stored state is as verified as
					// the session found it.
					if err := cl.ClearUnverified(bg); err != nil {
						res.Warnings = append(res.Warnings, "could not clear the unverified mark: "+err.Error())
					}
				}
				return res, failure(ctx, step, stim)
			}
			return res, nil
		}
		stim = next
	}
}

func withNow(st Stimulus, now time.Time) Stimulus { st.Now = now; return st }

// actions are what the table asked the transport to do before the next request.
type actions struct {
	redirect  string // the X-MS-Location to follow
	provision bool   // provision first
}

// act records what a transition into Retrying asks of the transport beyond a rerun:
// follow the 451 the table agreed to (MS-ASHTTP 3.1.5.2.2), or provision after a 449
// or Status 141-144 (MS-ASPROV 3.1.5.1). Both happen before the rerun, in awaiting,
// where their outcomes are classified like any answer. A transport that can do
// neither (looked for through wrappers) just reruns, and the session says so.
func (s *Session) act(step Step, stim Stimulus, pending *actions, res *Result) {
	switch step.Event {
	case transitions.Redirect:
		if _, ok := transport.Find[transport.Redirector](s.cfg.Transport); ok {
			pending.redirect = stim.Location
		} else {
			res.Warnings = append(res.Warnings, "the transport cannot follow a 451 redirect (it is no transport.Redirector): rerunning at the same URL")
		}
	case transitions.Provision:
		if _, ok := transport.Find[transport.Provisioner](s.cfg.Transport); ok {
			pending.provision = true
		} else {
			res.Warnings = append(res.Warnings, "the transport cannot provision (it is no transport.Provisioner): rerunning without")
		}
	}
}

// redirect follows the pending redirect. It returns nil when the transport adopted
// the URL; otherwise the stimulus that ends the round trip: the new URL's refusal,
// classified, or no answer (the redirect stays pending and is tried again).
func (s *Session) redirect(ctx context.Context, pending *actions, res *Result) (*Stimulus, string) {
	r, _ := transport.Find[transport.Redirector](s.cfg.Transport)
	rctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Policy.RequestTimeout(0), transport.ErrRequestDeadline)
	defer cancel()
	reply, err := r.FollowRedirect(rctx, pending.redirect)
	if err != nil {
		st := noAnswer(ctx, err)
		st.Preliminary = true
		if st.Outcome == nil || st.Outcome.Condition == transitions.RequestFailed {
			pending.redirect = ""
		}
		return &st, ""
	}
	if reply != nil {
		st := replyStimulus(reply)
		st.Preliminary = true
		st.Detail = fmt.Sprintf("the redirect target %s answered HTTP %d to OPTIONS", pending.redirect, reply.HTTPStatus)
		pending.redirect = ""
		return &st, reply.RequestID
	}
	pending.redirect = ""
	res.URL = r.URL()
	res.Redirects = append(res.Redirects, res.URL)
	return nil, ""
}

// provision runs the transport's provisioning. It returns nil when the rerun may
// go ahead (with the new key, or without one when the server has no policy);
// otherwise the stimulus that ends the round trip: a refusal classified like any
// answer (an HTTP code, a common status), Status 140 for a remote wipe request,
// which ends the session with ErrRemoteWipe and is never acknowledged, or no
// answer. A refusal a retry may cure (no answer, 503, 500) leaves provisioning
// pending, so the resend provisions first.
func (s *Session) provision(ctx context.Context, c *Counters, pending *actions, res *Result) (*Stimulus, string) {
	p, _ := transport.Find[transport.Provisioner](s.cfg.Transport)
	rctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Policy.RequestTimeout(c.Resends), transport.ErrRequestDeadline)
	defer cancel()
	pr, err := p.Provision(rctx)
	if err == nil && pr == nil {
		err = &transport.Error{Err: transport.ErrUnreadable, Cause: errors.New("the transport returned neither a provisioning result nor an error")}
	}
	if err != nil {
		st := noAnswer(ctx, err)
		st.Preliminary = true
		if st.Outcome == nil || st.Outcome.Condition == transitions.RequestFailed {
			pending.provision = false
		}
		return &st, ""
	}
	res.Provisioning = pr
	st := Stimulus{RetryAfter: Duration(pr.RetryAfter), HasRetryAfter: pr.HasRetryAfter, Throttle: pr.Throttle, Preliminary: true}
	switch {
	case pr.HTTPStatus != 200:
		st.Outcome = &transitions.Outcome{HTTPStatus: pr.HTTPStatus}
	case pr.RemoteWipe || pr.AccountOnlyRemoteWipe:
		st.Outcome = &transitions.Outcome{HTTPStatus: 200, Status: remoteWipeStatus}
		if pr.AccountOnlyRemoteWipe && !pr.RemoteWipe {
			res.Warnings = append(res.Warnings, "the server asks to wipe this account's data from the device (AccountOnlyRemoteWipe, MS-ASPROV 2.2.2.1)")
		}
	case pr.Status >= 100:
		st.Outcome = &transitions.Outcome{HTTPStatus: 200, Status: pr.Status}
	default:
		pending.provision = false
		if pr.Status != 1 || pr.PolicyKey == "" {
			// No policy (SOGo and Horde answer so) or a server-side provisioning
			// error: the rerun goes without a key. A server that really requires
			// one asks again, and the provision_allowed guard ends the session.
			res.Warnings = append(res.Warnings, fmt.Sprintf("provisioning gave no policy key (Provision status %d, policy status %d): continuing without one", pr.Status, pr.PolicyStatus))
		}
		return nil, pr.RequestID
	}
	switch transitions.Classify(*st.Outcome).Event {
	case transitions.Transient, transitions.Throttled:
		// provisioning stays pending: the resend provisions again
	default:
		pending.provision = false
	}
	return &st, pr.RequestID
}

// remoteWipeStatus is common status 140, RemoteWipeRequested (MS-ASCMD 2.2.2): what
// a RemoteWipe element in a Provision response means to the table.
const remoteWipeStatus = 140

// noAnswer turns a transport error into a stimulus: Cancelled when the session's
// own context ended; Lost (timeout, connection error, unreadable body) for the
// no-answer kinds, which are resent; RequestFailed, which ends the session with the
// error's text, for anything else (a resend would fail the same way).
func noAnswer(ctx context.Context, err error) Stimulus {
	if ctx.Err() != nil {
		return Stimulus{Event: transitions.Cancelled}
	}
	cond := transitions.RequestFailed
	switch {
	case errors.Is(err, transport.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		cond = transitions.Timeout
	case errors.Is(err, transport.ErrUnreadable):
		cond = transitions.Unreadable
	case errors.Is(err, transport.ErrConnection):
		cond = transitions.ConnectionError
	}
	return Stimulus{Outcome: &transitions.Outcome{Condition: cond}, Detail: err.Error()}
}

// replyStimulus is the stimulus of a server's answer, before its body is looked at.
func replyStimulus(reply *transport.Reply) Stimulus {
	st := Stimulus{
		Outcome:    &transitions.Outcome{HTTPStatus: reply.HTTPStatus},
		RetryAfter: Duration(reply.RetryAfter), HasRetryAfter: reply.HasRetryAfter,
		RedirectOK: reply.RedirectOK, RedirectRefusal: reply.RedirectRefusal, Location: reply.Location,
		Throttle: reply.Throttle,
	}
	if reply.CredentialServiceURL != "" {
		// MS-ASHTTP 3.1.5.2.4: a 457 may name where the password is changed.
		st.Detail = "the password can be changed at " + reply.CredentialServiceURL
	}
	if reply.Autodiscovered {
		// MS-ASHTTP 3.1.5.2.2: no X-MS-Location, so the transport ran Autodiscover.
		st.Detail = "the 451 named no server; Autodiscover found " + reply.Location
	}
	return st
}

// roundTrip sends one FolderSync and turns what came back into a stimulus. For a
// Status 1 it also prepares the commit: the changes applied (or, after a reset,
// reconciled) on a copy of the tree, ready to be stored with the new key.
func (s *Session) roundTrip(ctx context.Context, sent string, tree *hierarchy.Tree, reset bool, c *Counters, res *Result) (Stimulus, func() error, string) {
	cfg := s.cfg
	rctx, cancel := context.WithTimeoutCause(ctx, cfg.Policy.RequestTimeout(c.Resends), transport.ErrRequestDeadline)
	defer cancel()
	reply, err := cfg.Transport.FolderSync(rctx, &transport.FolderSyncRequest{SyncKey: sent})
	if err == nil && reply == nil {
		err = &transport.Error{Err: transport.ErrUnreadable, Cause: errors.New("the transport returned neither a reply nor an error")}
	}
	if err != nil {
		st := noAnswer(ctx, err)
		st.Initial = sent == transport.InitialSyncKey
		return st, nil, ""
	}
	o := transitions.Outcome{HTTPStatus: reply.HTTPStatus, ResetRequested: reply.ResetRequested && sent != transport.InitialSyncKey}
	st := replyStimulus(reply)
	st.Initial = sent == transport.InitialSyncKey
	resp := reply.Response
	if reply.HTTPStatus >= 200 && reply.HTTPStatus <= 299 && resp == nil {
		// A success without a FolderSync body (a 204, an empty 200): nothing to
		// apply, so it is a lost answer and the identical request is resent.
		o = transitions.Outcome{Condition: transitions.Unreadable}
	}
	if o.ResetRequested {
		res.ResetRequested = true
	}
	if resp != nil {
		o.Status = resp.Status
	}
	st.Outcome = &o
	if resp == nil || resp.Status != 1 || o.ResetRequested || o.Condition != 0 {
		return st, nil, reply.RequestID
	}
	st.NoChangeEcho = len(resp.Changes) == 0 && resp.SyncKey == sent
	if resp.SyncKey == "" {
		// A Status 1 without a SyncKey cannot be committed: treat it as unreadable.
		return Stimulus{Outcome: &transitions.Outcome{Condition: transitions.Unreadable}}, nil, reply.RequestID
	}
	next := tree.Clone()
	var applied *hierarchy.ApplyReport
	var reconciled *hierarchy.ReconcileReport
	if reset {
		r, err := next.Reconcile(resp.Changes)
		if err != nil {
			return Stimulus{Outcome: &transitions.Outcome{Condition: transitions.Unreadable}}, nil, reply.RequestID
		}
		reconciled = &r
	} else if fullHierarchy(tree, resp.Changes) {
		// A server that silently resets (a stale key answered with its full
		// hierarchy, all Adds) cannot be applied: Apply would keep every folder the
		// server deleted meanwhile. An answer of only Adds that re-adds a folder the
		// client has is that full hierarchy: reconcile it by mark-and-sweep instead.
		r, err := next.Reconcile(resp.Changes)
		if err != nil {
			return Stimulus{Outcome: &transitions.Outcome{Condition: transitions.Unreadable}}, nil, reply.RequestID
		}
		reconciled = &r
		res.Warnings = append(res.Warnings, fmt.Sprintf("the server answered SyncKey %q with its full hierarchy (a silent reset): reconciled by mark-and-sweep, %d folders removed", sent, r.Removed))
	} else {
		r, err := next.Apply(resp.Changes)
		if err != nil {
			return Stimulus{Outcome: &transitions.Outcome{Condition: transitions.Unreadable}}, nil, reply.RequestID
		}
		applied = &r
	}
	commit := func() error {
		// The FolderSync is committed: the local adds are no longer "since the last
		// sync", so their marks go before the tree is stored.
		next.ClearLocal()
		if err := cfg.Store.Commit(ctx, resp.SyncKey, next); err != nil {
			// The Store contract allows an error after the new state is in place (a
			// directory fsync failing after the rename): Load says which.
			st, lerr := cfg.Store.Load(context.WithoutCancel(ctx))
			if lerr != nil || st.SyncKey != resp.SyncKey || !st.Tree.Equal(next) {
				return err
			}
			res.Warnings = append(res.Warnings, "the store reported an error but holds the new state: "+err.Error())
		}
		res.SyncKey, res.Tree, res.Applied, res.Reconciled = resp.SyncKey, next, applied, reconciled
		return nil
	}
	return st, commit, reply.RequestID
}

func (s *Session) emit(rec Record) {
	if s.cfg.Audit != nil {
		if err := s.cfg.Audit.Record(rec); err != nil && s.cfg.Logger != nil {
			s.cfg.Logger.Error("audit record not written", "seq", rec.Seq, "err", err)
		}
	}
	if s.cfg.Logger != nil {
		s.cfg.Logger.Info("foldersync transition", "session", rec.Session, "seq", rec.Seq,
			"from", rec.From.String(), "event", rec.Event.String(), "to", rec.To.String(),
			"code", rec.Code, "attempt", rec.Attempt, "delay", rec.Delay.String(), "reason", rec.Reason)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.OnTransition(rec)
	}
}

// fullHierarchy reports whether changes are a full hierarchy sent in place of an
// incremental answer (a server that silently resets): all Adds, naming every default
// folder (Inbox, Drafts, ... MS-ASCMD 2.2.3.186.3) the client holds. A full
// hierarchy always lists the default folders; an incremental answer never re-adds
// them all, so an ordinary Add of a known folder (rule 2: it acts as an Update) is
// never taken for a reset, and nothing is swept on a partial answer.
func fullHierarchy(tree *hierarchy.Tree, changes []transport.FolderChange) bool {
	if tree.Len() == 0 {
		return false // nothing held, nothing to sweep (an initial sync)
	}
	named := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.Op != transport.OpAdd {
			return false
		}
		named[c.ServerID] = true
	}
	defaults := 0
	for _, f := range tree.Folders() {
		if f.Type.IsDefault() {
			defaults++
			if !named[f.ServerID] {
				return false
			}
		}
	}
	return defaults > 0
}
