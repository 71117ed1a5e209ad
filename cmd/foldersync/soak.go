package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/soak"
)

const soakUsage = `Usage: foldersync soak [flags]

Runs a fault campaign against the simulated server. Per profile, --seeds accounts each
run --sessions FolderSync sessions; every request may meet a fault (seeded, at
--fault-rate, from --menu) and the server's hierarchy changes between sessions (seeded
adds, renames, moves and deletes, subtrees included). After every session it checks
that the client's hierarchy and SyncKey equal the server's, or that the session failed
for a reason the policy allows and left the store as it was (and then that a clean sync
converges), that max_attempts, the resend budget and the reset guard held, that the
audit log replays identically, and that no goroutine was left behind. Time is simulated:
waits cost nothing. The same flags give the same summary.

Flags:
  --sessions N       sessions (syncs) per account (default 5)
  --seeds S          accounts per profile (default 100)
  --first-seed N     seed of the first account (default 1); with --seeds 1, reruns one account
  --profiles LIST    comma-separated server profiles: replay, reexecute, lenient, silent-reset
                     (default all four)
  --fault-rate R     probability that a request meets a fault, 0 to 1 (default 0.2)
  --menu LIST        the faults, comma-separated, as in demo --faults: request-lost,
                     response-lost, timeout, connection-reset, truncated, corrupt,
                     reset-requested (X-MS-RP), status-CODE, http-CODE, http-CODE-retry-DURATION
                     (default: the first six, status-6, status-9, status-11, status-12,
                     http-503-retry-30s, http-500, reset-requested)
  --policy FILE      a policy file (YAML or JSON); default: the default preset
  --http             serve each account's server over loopback HTTP (127.0.0.1) and sync
                     through the MS-ASHTTP client; the server performs the faults on the
                     wire (all but request-lost, timeout and http-451), the "on wire"
                     column counts them
  --interval D       simulated time between two sessions of an account (default 15m)
  --churn-before-clean-sync
                     let the server change before the clean sync that follows a failed
                     session (stricter than the property test of package machine)
  --out DIR          where a failing account's audit log (JSON Lines, for foldersync replay)
                     and a one-line repro command go (default: a new temporary directory)

Failures the policy allows are not violations: a spent retry budget (budget) or reset
guard (reset-loop) after injected faults, a Retry-After above retry_after_cap
(throttled), and a session-ending status when the answer that ended it was injected.
A commit failure, a cancellation or an internal error is always a violation.

Exit status: 0 when every check held, 1 on a violation or an interrupted campaign,
2 on a usage error.

Examples:
  go run ./cmd/foldersync soak --seeds 100 --sessions 5 --profiles replay,reexecute,lenient,silent-reset --fault-rate 0.2
  go run ./cmd/foldersync soak --http --seeds 50
`

// soakCheck is an extra check for tests (soak.Config.Check).
var soakCheck func(soak.SessionReport) error

func runSoak(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, soakUsage) }
	sessions := fs.Int("sessions", soak.DefaultSessions, "")
	seeds := fs.Int("seeds", soak.DefaultSeeds, "")
	firstSeed := fs.Int64("first-seed", 1, "")
	profileList := fs.String("profiles", "replay,reexecute,lenient,silent-reset", "")
	rate := fs.Float64("fault-rate", 0.2, "")
	menuSpec := fs.String("menu", "", "")
	policyFile := fs.String("policy", "", "")
	useHTTP := fs.Bool("http", false, "")
	interval := fs.Duration("interval", soak.DefaultInterval, "")
	churnBeforeClean := fs.Bool("churn-before-clean-sync", false, "")
	outDir := fs.String("out", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "foldersync soak: "+format+"\n\n%s", append(a, soakUsage)...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q", fs.Arg(0))
	case *sessions < 1 || *seeds < 1:
		return usageErr("--sessions and --seeds must be at least 1")
	case *firstSeed < 1:
		return usageErr("--first-seed must be at least 1")
	case !(*rate >= 0 && *rate <= 1):
		return usageErr("--fault-rate is a fraction from 0 to 1")
	case *interval <= 0:
		return usageErr("--interval must be positive")
	}
	profiles, err := soak.ParseProfiles(*profileList)
	if err != nil {
		return usageErr("--profiles: %v", err)
	}
	cfg := soak.Config{
		Profiles: profiles, Seeds: *seeds, FirstSeed: *firstSeed, Sessions: *sessions, FaultRate: *rate,
		HTTP: *useHTTP, Interval: *interval, ChurnBeforeCleanSync: *churnBeforeClean, Check: soakCheck,
	}
	if *menuSpec != "" {
		if cfg.Menu, err = soak.ParseMenu(*menuSpec); err != nil {
			return usageErr("--menu: %v", err)
		}
	}
	if *policyFile != "" {
		if cfg.Policy, err = policy.Load(*policyFile); err != nil {
			fmt.Fprintln(stderr, "foldersync soak:", err)
			return 1
		}
		if cfg.PolicyFile, err = filepath.Abs(*policyFile); err != nil {
			cfg.PolicyFile = *policyFile
		}
	}

	where := "in process"
	if cfg.HTTP {
		where = "over loopback HTTP"
	}
	polName := "default"
	if cfg.Policy.Name != "" {
		polName = cfg.Policy.Name
	}
	total := len(profiles) * *seeds * *sessions
	fmt.Fprintf(stdout, "foldersync soak: %d profiles x %d accounts x %d sessions = %d sessions, fault rate %g, %s, policy %s, simulated time\n\n",
		len(profiles), *seeds, *sessions, total, *rate, where, polName)

	bar := newProgressBar(stdout)
	cfg.Progress = bar.update
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	began := time.Now()
	sum, runErr := soak.Run(ctx, cfg)
	elapsed := time.Since(began)
	stop()
	bar.clear()
	if runErr != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "foldersync soak:", runErr)
		return 1
	}
	if err := sum.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "foldersync soak:", err)
		return 1
	}
	ran := 0
	for _, p := range sum.Profiles {
		ran += p.Sessions
	}
	fmt.Fprintf(stdout, "time: %d sessions in %s (%.0f sessions/s)\n", ran, elapsed.Round(time.Millisecond), float64(ran)/max(elapsed.Seconds(), 1e-9))
	code := 0
	if runErr != nil {
		fmt.Fprintln(stderr, "foldersync soak: interrupted: the summary covers the sessions run so far")
		code = 1
	}
	if sum.TotalViolations() == 0 {
		return code
	}
	dir := *outDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "foldersync-soak-"); err != nil {
			fmt.Fprintln(stderr, "foldersync soak:", err)
			return 1
		}
	}
	arts, err := sum.WriteArtifacts(dir, "foldersync")
	if err != nil {
		fmt.Fprintln(stderr, "foldersync soak: writing the failing accounts' logs:", err)
		return 1
	}
	fmt.Fprintf(stdout, "\nThe failing accounts' audit logs and repro commands are in %s:\n", dir)
	replayPolicy := ""
	if cfg.PolicyFile != "" {
		replayPolicy = "--policy " + soak.ShellQuote([]string{cfg.PolicyFile}) + " "
	}
	for _, a := range arts {
		fmt.Fprintf(stdout, "  %s\n    rerun:  %s\n    replay: foldersync replay %s%s\n", filepath.Base(a.Audit), a.Command, replayPolicy, soak.ShellQuote([]string{a.Audit}))
	}
	fmt.Fprintf(stderr, "foldersync soak: violations: %d\n", sum.TotalViolations())
	return 1
}

// progressBar draws the campaign's progress on one terminal line; on anything
// else (a file, a pipe, a test's buffer) it draws nothing.
type progressBar struct {
	out   io.Writer
	on    bool
	began time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(stdout io.Writer) *progressBar {
	return &progressBar{out: stdout, on: isTerminal(stdout), began: time.Now()}
}

// isTerminal reports whether w is a character device (a terminal), with no
// dependency beyond os.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const barWidth = 30

func (b *progressBar) update(p soak.Progress) {
	if !b.on {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && p.Done < p.Total {
		return
	}
	b.last = now
	frac := float64(p.Done) / float64(max(p.Total, 1))
	filled := int(frac * barWidth)
	rate := float64(p.Done) / max(now.Sub(b.began).Seconds(), 1e-9)
	fmt.Fprintf(b.out, "\r[%s%s] %3.0f%%  %d/%d sessions  %-12s  %d violations  %.0f/s ",
		strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), 100*frac, p.Done, p.Total, p.Profile, p.Violations, rate)
	b.drawn = true
}

// clear erases the bar's line.
func (b *progressBar) clear() {
	if b.drawn {
		fmt.Fprint(b.out, "\r\033[K")
	}
}
