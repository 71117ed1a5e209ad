package machine

import (
	"fmt"
	"time"

	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

// Counters is the session history the guards read. Decide updates it; a fresh
// session starts from the zero value (plus the reset times a caller carries across
// sessions, for the loop guard).
type Counters struct {
	// Attempts is the number of FolderSync requests sent.
	Attempts int `json:"attempts"`
	// Resends is the number of consecutive resends after lost responses.
	Resends int `json:"resends"`
	// Transient is the number of consecutive transient failures (the threshold for
	// returning to SyncKey 0 counts these).
	Transient int `json:"transient"`
	// Throttled is the number of consecutive 503 answers.
	Throttled int `json:"throttled"`
	// Unknown is the number of retries after an unknown status.
	Unknown int `json:"unknown"`
	// Provisions and Redirects count what the session did for 449/14x and 451.
	Provisions int `json:"provisions"`
	Redirects  int `json:"redirects"`
	// Resets holds the times of resets to SyncKey 0, for the loop guard.
	Resets []time.Time `json:"resets,omitempty"`
	// Elapsed is the sum of the waits the session chose.
	Elapsed time.Duration `json:"elapsed"`
	// LostSinceReset says a response may have been lost (applied by the server, never
	// seen by the client) since the session last fetched the full hierarchy. It is
	// sticky: with a server that never compares keys, every later no-change answer
	// may hide the lost changes, not only the one right after the loss (DESIGN rule 3).
	LostSinceReset bool `json:"lost_since_reset"`
}

// maxGuardHops bounds the chain of guard fallbacks (Else events) one decision may
// follow: the table's longest chain is two hops; more means a cycle.
const maxGuardHops = 8

// maxProvisions and maxRedirects bound provisioning and redirects in one session:
// MS-ASHTTP asks for a rerun after provisioning (once is enough: a server that asks
// again right after is in a loop) and DESIGN rule 6 allows at most 3 redirects.
const (
	maxProvisions = 1
	maxRedirects  = 3
)

// Stimulus is what happened: a session event (Start, Diverged, BackoffElapsed,
// ResetSent, Cancelled) or the outcome of a request, with the facts the guards need.
// Recorded in the audit log, stimuli are what Replay feeds back to Decide.
type Stimulus struct {
	// Event is the session event; zero for an outcome.
	Event transitions.Event `json:"event,omitempty"`
	// Outcome is the outcome of a request, classified by transitions.Classify.
	Outcome *transitions.Outcome `json:"outcome,omitempty"`
	// RetryAfter is the server's Retry-After, when HasRetryAfter.
	RetryAfter    Duration `json:"retry_after,omitempty"`
	HasRetryAfter bool     `json:"has_retry_after,omitempty"`
	// RedirectOK says the transport judged a 451's X-MS-Location acceptable (HTTPS
	// or insecure HTTP allowed, different from the current URL).
	RedirectOK bool `json:"redirect_ok,omitempty"`
	// RedirectRefusal is the transport's reason for refusing a 451's X-MS-Location.
	RedirectRefusal string `json:"redirect_refusal,omitempty"`
	// Location is a 451's X-MS-Location, for the audit log.
	Location string `json:"location,omitempty"`
	// Initial says the request carried SyncKey 0: its answer is the full hierarchy,
	// complete whatever was lost before.
	Initial bool `json:"initial,omitempty"`
	// NoChangeEcho says a Status 1 answer had no changes and the SyncKey that was sent.
	NoChangeEcho bool `json:"no_change_echo,omitempty"`
	// Throttle is the server's X-MS-ASThrottle header, surfaced for the audit log
	// (DESIGN rule 6); Decide does not read it.
	Throttle string `json:"throttle,omitempty"`
	// Preliminary says the outcome is of an exchange before the FolderSync
	// (provisioning, a redirect's verification): a lost answer there hides no
	// folder changes, so it does not call for verification (DESIGN rule 3).
	Preliminary bool `json:"preliminary,omitempty"`
	// Detail is the transport's error for an outcome without an answer, for the
	// audit log and the failure's message (transports keep credentials out of it);
	// for an answer, what it said beyond its code (a 457's password service, a 451
	// whose server Autodiscover found).
	Detail string `json:"detail,omitempty"`
	// Now is the session clock's time when the stimulus happened.
	Now time.Time `json:"now"`
	// Prior carries what earlier sessions left, on a session's first stimulus (Start
	// or Diverged), so the audit log alone replays the session.
	Prior *Prior `json:"prior,omitempty"`
}

// Prior is the history a session inherits: whether the stored state may be behind
// the server after a lost response (hierarchy.State.Unverified), and the times of
// earlier resets, for the loop guard.
type Prior struct {
	LostResponse bool        `json:"lost_response,omitempty"`
	Resets       []time.Time `json:"resets,omitempty"`
}

// Step is the decision for one stimulus: the event fired (after any guard
// fallbacks), where the session goes, and how long it waits there.
type Step struct {
	From states.State
	// Asked is the event the stimulus asked for; Event is the one fired. They differ
	// when guards refused: Guards lists each guard consulted and whether it held.
	Asked  transitions.Event
	Event  transitions.Event
	Guards []GuardCheck
	To     states.State
	// Rule is the classification of an outcome stimulus (nil for session events).
	Rule *transitions.Rule
	// Delay is the wait chosen in Retrying.
	Delay time.Duration
	// Reason says why, in words: the refusing guard's reason, else the row's.
	Reason string
	// Row is the table row taken.
	Row transitions.Row
}

// GuardCheck records one guard evaluation.
type GuardCheck struct {
	Guard transitions.Guard `json:"guard"`
	Held  bool              `json:"held"`
}

// Decide is the deterministic heart of a session: from the state, the history and
// a stimulus it computes the next step and updates the counters, consulting only
// the transitions table and the policy. No I/O, no clock (the stimulus carries the
// time), no randomness beyond the policy's seeded jitter: the same inputs give the
// same step, which is what makes an audit log replayable.
func Decide(p policy.Policy, s states.State, c *Counters, st Stimulus) (Step, error) {
	step := Step{From: s}
	ev := st.Event
	if st.Outcome != nil {
		r := transitions.Classify(*st.Outcome)
		step.Rule = &r
		ev = r.Event
	}
	if !ev.Valid() {
		return step, fmt.Errorf("machine: stimulus has no event and no outcome")
	}
	ov, key := override(p, step.Rule)
	if ov != nil && retryable(ev) && (isTrue(ov.Fatal) || (ov.Retry != nil && !*ov.Retry)) {
		// The policy makes this status fatal: an override tunes budgets, and
		// "no retries" ends the session at once. What the status means is still
		// the table's (the classification stays in the audit record).
		step.Reason = fmt.Sprintf("the policy makes %s fatal (overrides %q)", step.Rule.Source.String()+" "+fmt.Sprint(step.Rule.Code), key)
		ev = transitions.Failure
	}
	step.Asked = ev
	if st.Prior != nil && (ev == transitions.Start || ev == transitions.Diverged) {
		c.LostSinceReset = c.LostSinceReset || st.Prior.LostResponse
		c.Resets = append(c.Resets, st.Prior.Resets...)
	}
	for hops := 0; ; hops++ {
		if hops > maxGuardHops {
			return step, fmt.Errorf("machine: guard fallbacks from %v loop in state %v", step.Asked, s)
		}
		row, err := transitions.Lookup(s, ev)
		if err != nil {
			return step, err
		}
		if row.Guard != "" {
			held, why := holds(p, row.Guard, c, st, ov)
			step.Guards = append(step.Guards, GuardCheck{Guard: row.Guard, Held: held})
			if !held {
				step.Reason = why
				ev = row.Else
				continue
			}
		}
		step.Event, step.To, step.Row = ev, row.To, row
		break
	}
	step.Delay = delay(p, step, c, st, ov)
	update(c, step, st)
	if step.Reason == "" {
		step.Reason = step.Row.Why
	}
	return step, nil
}

// holds evaluates a guard; when it does not hold, it says why in words a user reads.
// The reason is formatted only then: guards hold on almost every step.
func holds(p policy.Policy, g transitions.Guard, c *Counters, st Stimulus, ov *policy.Override) (bool, string) {
	maxRetries := func(def int) int {
		if ov != nil && ov.MaxRetries != nil {
			return *ov.MaxRetries
		}
		return def
	}
	switch g {
	case transitions.ResendBudget:
		if c.Resends < p.Resend.MaxResends {
			return true, ""
		}
		return false, fmt.Sprintf("no response after %d resends (policy resend.max_resends)", c.Resends)
	case transitions.TransientBudget:
		// An override's max_retries counts retries; transient_before_reset counts
		// failures, the last of which resets instead of retrying.
		limit := p.TransientBeforeReset
		if ov != nil && ov.MaxRetries != nil {
			limit = *ov.MaxRetries + 1
		}
		if c.Transient+1 < limit {
			return true, ""
		}
		source := fmt.Sprintf("policy transient_before_reset %d", p.TransientBeforeReset)
		if ov != nil && ov.MaxRetries != nil {
			source = fmt.Sprintf("the status's max_retries override %d", *ov.MaxRetries)
		}
		return false, fmt.Sprintf("%d consecutive transient failures (%s)", c.Transient+1, source)
	case transitions.UnknownBudget:
		if c.Unknown < maxRetries(p.UnknownStatusRetries) {
			return true, ""
		}
		source := "policy unknown_status_retries"
		if ov != nil && ov.MaxRetries != nil {
			source = "the status's max_retries override"
		}
		return false, fmt.Sprintf("an unknown status after %d retries (%s)", c.Unknown, source)
	case transitions.RetryAfterWithinCap:
		if !st.HasRetryAfter || p.RetryAfterAllowed(time.Duration(st.RetryAfter)) {
			return true, ""
		}
		return false, fmt.Sprintf("the server asks to wait %s, more than policy retry_after_cap %s", time.Duration(st.RetryAfter), p.RetryAfterCap)
	case transitions.RedirectAllowed:
		switch {
		case !st.RedirectOK && st.RedirectRefusal != "":
			return false, st.RedirectRefusal
		case !st.RedirectOK:
			return false, "the redirect (X-MS-Location) is missing, not HTTPS, or the current URL"
		case c.Redirects >= maxRedirects:
			return false, fmt.Sprintf("more than %d redirects in one session", maxRedirects)
		}
		return true, ""
	case transitions.ProvisionAllowed:
		if c.Provisions < maxProvisions {
			return true, ""
		}
		return false, "the server asks for provisioning again right after the session provisioned"
	case transitions.ResetAllowed:
		if !p.ResetGuard.Exceeded(c.Resets, st.Now) {
			return true, ""
		}
		return false, fmt.Sprintf("more than %d resets to SyncKey 0 within %s (policy reset_guard): the server keeps rejecting the hierarchy", p.ResetGuard.MaxResets, p.ResetGuard.Window)
	case transitions.AttemptsLeft:
		switch {
		case c.Attempts >= p.MaxAttempts:
			return false, fmt.Sprintf("%d requests sent (policy max_attempts)", c.Attempts)
		case p.Backoff.MaxElapsed > 0 && c.Elapsed > p.Backoff.MaxElapsed:
			return false, fmt.Sprintf("%s spent waiting (policy backoff.max_elapsed %s)", c.Elapsed, p.Backoff.MaxElapsed)
		}
		return true, ""
	case transitions.ResponseTrusted:
		// After a lost answer, the answer to the resend is complete only from a server
		// that replays or re-runs it. One that never compares keys (SOGo) answers with
		// the changes since the lost answer, without those it carried, whether that
		// is "no changes" or other changes made meanwhile; the client cannot tell the
		// servers apart, so it verifies any Status 1 then, except the full hierarchy
		// a SyncKey 0 request gets.
		if !p.VerifyAfterLostResponse || !c.LostSinceReset || st.Initial {
			return true, ""
		}
		if st.NoChangeEcho {
			return false, "a no-change answer after a lost response may hide lost changes (policy verify_after_lost_response)"
		}
		return false, "an answer after a lost response may lack the lost answer's changes (policy verify_after_lost_response)"
	}
	return false, fmt.Sprintf("unknown guard %q", g)
}

// delay is the wait in Retrying: none after a lost response (resend at once, with a
// longer per-request timeout), none for provisioning or a redirect, Retry-After for
// a 503 that gives one, else the policy's backoff for the streak.
func delay(p policy.Policy, step Step, c *Counters, st Stimulus, ov *policy.Override) time.Duration {
	if step.To != states.Retrying {
		return 0
	}
	if ov != nil && ov.Initial != nil {
		p.Backoff.Initial = *ov.Initial // p is a copy
		if p.Backoff.MaxInterval < p.Backoff.Initial {
			p.Backoff.MaxInterval = p.Backoff.Initial
		}
	}
	switch step.Event {
	case transitions.Transient:
		return p.Delay(c.Transient + 1)
	case transitions.UnknownStatus:
		return p.Delay(c.Unknown + 1)
	case transitions.Throttled:
		if st.HasRetryAfter {
			return time.Duration(st.RetryAfter)
		}
		return p.Delay(c.Throttled + 1)
	}
	return 0
}

// update advances the counters for a decided step.
func update(c *Counters, step Step, st Stimulus) {
	c.Elapsed += step.Delay
	if step.To == states.Awaiting {
		c.Attempts++
	}
	if step.Asked.IsOutcome() {
		if step.Event == transitions.Lost {
			c.Resends++
			// A lost answer to a SyncKey 0 request hides nothing: the resend gets
			// the full hierarchy again.
			c.LostSinceReset = c.LostSinceReset || !st.Preliminary && !st.Initial
		} else {
			c.Resends = 0
		}
		// Streaks are consecutive outcomes of one kind: any other outcome ends them
		// (6, timeout, 6 is not two consecutive transient failures).
		if step.Event != transitions.Transient {
			c.Transient = 0
		}
		if step.Event != transitions.Throttled {
			c.Throttled = 0
		}
	}
	switch step.Event {
	case transitions.Transient:
		c.Transient++
	case transitions.Throttled:
		c.Throttled++
	case transitions.UnknownStatus:
		c.Unknown++
	case transitions.Provision:
		c.Provisions++
	case transitions.Redirect:
		c.Redirects++
	}
	if step.To == states.Resetting {
		// A verification is not the server rejecting the hierarchy: it does not
		// count toward the reset loop guard (it is bounded by the lost answers, which
		// the resend budget bounds).
		if step.Event != transitions.Verify {
			c.Resets = append(c.Resets, st.Now)
		}
		c.Transient, c.Throttled, c.Unknown, c.Resends = 0, 0, 0, 0
		c.LostSinceReset = false // the full hierarchy answers for whatever was lost
	}
}

// override returns the policy's override for a classified code, and its key.
func override(p policy.Policy, r *transitions.Rule) (*policy.Override, string) {
	if r == nil || len(p.Overrides) == 0 {
		return nil, ""
	}
	var kinds []string
	switch r.Source {
	case transitions.FolderSyncStatus:
		kinds = []string{policy.KindFolderSync, policy.KindLegacy}
	case transitions.CommonStatus:
		kinds = []string{policy.KindCommon}
	case transitions.HTTPStatus:
		kinds = []string{policy.KindHTTP}
	}
	for _, k := range kinds {
		if o, ok := p.Override(k, r.Code); ok {
			return &o, policy.OverrideKey(k, r.Code)
		}
	}
	return nil, ""
}

// retryable reports whether an outcome event leads to another attempt, which is
// what an override's fatal or retry: false can stop.
func retryable(e transitions.Event) bool {
	switch e {
	case transitions.Lost, transitions.Transient, transitions.Throttled, transitions.UnknownStatus,
		transitions.Provision, transitions.Redirect, transitions.KeyMismatch:
		return true
	}
	return false
}

func isTrue(b *bool) bool { return b != nil && *b }
