package soak

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/easkit/foldersync/transport/sim"
)

// Summary is what a campaign found. It holds no wall-clock time: the same Config
// gives the same Summary.
type Summary struct {
	// Profiles has one entry per profile run, in the order of Config.Profiles.
	Profiles []ProfileSummary
	// Violations are the first Config.MaxReported violations, in the order found,
	// each with its account's audit log.
	Violations []Violation
}

// ProfileSummary is the campaign's count for one server profile.
type ProfileSummary struct {
	Profile sim.Profile
	// Accounts is the number of accounts (seeds) run; Sessions the number of
	// sessions, Synced and Failed how they ended (clean syncs after a failure
	// excluded).
	Accounts, Sessions, Synced, Failed int
	// FailedBy counts failed sessions by kind (KindName).
	FailedBy map[string]int
	// CleanSyncs is the number of clean syncs run after a failed session (see the
	// package documentation); they are not counted anywhere else.
	CleanSyncs int
	// Requests is the number of FolderSync requests sent; Injected the number that
	// met a fault that took effect, OnWire the number of those the server performed
	// on the wire (with HTTP: faults.Wire) rather than the wrapper above the client.
	Requests, Injected, OnWire int
	// Resends, Resets and Verifications count transitions: resends after a lost
	// response, returns to SyncKey 0 (Status 9, X-MS-RP, transient streaks,
	// verifications), and verifications of a no-change answer after a lost
	// response.
	Resends, Resets, Verifications int
	// Recoveries is the number of sessions that needed more than one request;
	// RoundTrips[n] is the number of those that sent n requests.
	Recoveries int
	RoundTrips []int
	// Wasted is the number of requests beyond the minimum the policy allows: one
	// per injected fault, one per verification, and the final successful request.
	Wasted int
	// Churn counts the server-side changes made between sessions.
	Churn Churn
	// Divergences is the number of sessions whose audit log did not replay
	// identically; Violations the number of broken checks (divergences included).
	Divergences, Violations int
}

// Churn counts server-side changes.
type Churn struct {
	Adds, Renames, Moves, Deletes int
}

// Violation is one broken check.
type Violation struct {
	Profile sim.Profile
	Seed    int64
	// Session is the session's number in its account, from 1; 0 for a check on the
	// whole account (goroutines after its server was shut).
	Session int
	// CleanSync says the check broke on the clean sync after a failed session.
	CleanSync bool
	// Check names the check: "attempts", "resend-budget", "reset-guard", "waits",
	// "replay", "goroutines", "tree", "converged", "sync-key", "result",
	// "store-unchanged", "failure", "clean-sync", "churn", "loopback" or "check"
	// (Config.Check).
	Check string
	// Detail says what was found.
	Detail string
	// Audit is the account's JSON Lines audit log up to the failing session; nil
	// for violations past Config.MaxReported.
	Audit []byte `json:"-"`
	// Repro are the `foldersync soak` arguments that rerun the account.
	Repro []string
}

func (v Violation) String() string {
	where := fmt.Sprintf("%s seed %d", v.Profile, v.Seed)
	if v.Session > 0 {
		where += fmt.Sprintf(" session %d", v.Session)
		if v.CleanSync {
			where += " (clean sync after the failure)"
		}
	}
	return fmt.Sprintf("%s: %s: %s", where, v.Check, v.Detail)
}

// TotalViolations is the number of violations over every profile.
func (s Summary) TotalViolations() int {
	n := 0
	for _, p := range s.Profiles {
		n += p.Violations
	}
	return n
}

// Percentile returns the q-th percentile (0 < q <= 100, nearest rank) of the round
// trips of the recoveries, 0 when there were none.
func (p ProfileSummary) Percentile(q float64) int {
	if p.Recoveries == 0 {
		return 0
	}
	rank := int(q / 100 * float64(p.Recoveries))
	if float64(rank) < q/100*float64(p.Recoveries) {
		rank++ // ceil
	}
	rank = max(rank, 1)
	seen := 0
	for n, c := range p.RoundTrips {
		seen += c
		if seen >= rank {
			return n
		}
	}
	return len(p.RoundTrips) - 1
}

// WriteTable writes the summary as a table: one row per profile, then the failed
// sessions by kind, then the violations kept in detail.
func (s Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\tsessions\tsynced\tfailed\trequests\tinjected\ton wire\tresends\tresets\tverifies\trecoveries\trt p50\trt p99\twasted\tdivergences\tviolations\t")
	for _, p := range s.Profiles {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", p.Profile, p.Sessions, p.Synced, p.Failed,
			p.Requests, p.Injected, p.OnWire, p.Resends, p.Resets, p.Verifications, p.Recoveries, p.Percentile(50), p.Percentile(99),
			p.Wasted, p.Divergences, p.Violations)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nfailed sessions by kind (machine error kinds), and the clean syncs run after them:")
	for _, p := range s.Profiles {
		var parts []string
		for _, k := range KindOrder() {
			if n := p.FailedBy[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", k, n))
			}
		}
		if len(parts) == 0 {
			parts = []string{"none"}
		}
		fmt.Fprintf(w, "  %-13s %s; %d clean syncs after a failure\n", p.Profile.String()+":", strings.Join(parts, ", "), p.CleanSyncs)
	}
	fmt.Fprintln(w, "\nserver churn between sessions:")
	for _, p := range s.Profiles {
		c := p.Churn
		fmt.Fprintf(w, "  %-13s %d adds, %d renames, %d moves, %d deletes over %d accounts\n", p.Profile.String()+":", c.Adds, c.Renames, c.Moves, c.Deletes, p.Accounts)
	}
	if n := s.TotalViolations(); n > 0 {
		fmt.Fprintf(w, "\nviolations: %d", n)
		if len(s.Violations) < n {
			fmt.Fprintf(w, " (the first %d below)", len(s.Violations))
		}
		fmt.Fprintln(w)
		for _, v := range s.Violations {
			fmt.Fprintln(w, "  "+v.String())
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// Artifact is what WriteArtifacts wrote for one failing account.
type Artifact struct {
	// Audit is the account's audit log (JSON Lines), for `foldersync replay`.
	Audit string
	// Repro is a file holding the one-line command that reruns the account.
	Repro string
	// Command is that line.
	Command string
}

// WriteArtifacts writes, for each failing account among the reported violations,
// its audit log as PROFILE-seed-N.jsonl and the command that reruns it (program
// followed by the violation's Repro, shell-quoted) as PROFILE-seed-N.repro, under
// dir (created if needed).
func (s Summary) WriteArtifacts(dir, program string) ([]Artifact, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []Artifact
	done := map[string]bool{}
	for _, v := range s.Violations {
		base := fmt.Sprintf("%s-seed-%d", v.Profile, v.Seed)
		if done[base] || v.Audit == nil {
			continue
		}
		done[base] = true
		a := Artifact{Audit: filepath.Join(dir, base+".jsonl"), Repro: filepath.Join(dir, base+".repro"),
			Command: ShellQuote(append([]string{program}, v.Repro...))}
		if err := os.WriteFile(a.Audit, v.Audit, 0o644); err != nil {
			return out, err
		}
		if err := os.WriteFile(a.Repro, []byte(a.Command+"\n"), 0o644); err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}
