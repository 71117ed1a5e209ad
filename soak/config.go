package soak

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// Config describes a campaign. Every field has a usable zero value except
// FaultRate, whose zero means no faults.
type Config struct {
	// Profiles are the server profiles to run, in order; nil means all four
	// (replay, reexecute, lenient, silent-reset).
	Profiles []sim.Profile
	// Seeds is the number of accounts per profile (default 100); FirstSeed the first
	// account's seed (default 1). Account k of a campaign has seed FirstSeed+k.
	Seeds     int
	FirstSeed int64
	// Sessions is the number of sessions (syncs) per account (default 5).
	Sessions int
	// FaultRate is the probability that a request meets a fault (0 to 1).
	FaultRate float64
	// Menu is the faults a faulty request meets, chosen uniformly; nil means
	// DefaultMenu().
	Menu []faults.Fault
	// Policy is the sessions' policy; the zero value means policy.Default().
	// PolicyFile names the file it came from, for the repro command (optional).
	Policy     policy.Policy
	PolicyFile string
	// HTTP serves each account's server over loopback HTTP and syncs through
	// transport/httpeas (see the package documentation).
	HTTP bool
	// Interval is the simulated time between two sessions of an account
	// (default 15m).
	Interval time.Duration
	// ChurnBeforeCleanSync lets the server's hierarchy churn before the clean sync
	// that follows a failed session, as it would on a real server: stricter than
	// the property test of package machine, which syncs again at once.
	ChurnBeforeCleanSync bool
	// SessionTimeout bounds one session in real time (default 1m); a session that
	// takes longer is cancelled and reported as hung.
	SessionTimeout time.Duration
	// SkipGoroutineCheck turns off the goroutine check, for callers that run other
	// goroutines while the campaign runs (the check reads runtime.NumGoroutine).
	SkipGoroutineCheck bool
	// MaxReported is how many violations the Summary keeps in detail, each with
	// its account's audit log (default 10); all are counted.
	MaxReported int
	// Progress, when set, is called after each account with the campaign's
	// progress. It runs on Run's goroutine.
	Progress func(Progress)
	// Check, when set, is an extra check run after every session (and every clean
	// sync after a failure), after the built-in ones: a non-nil error is a
	// violation named "check".
	Check func(SessionReport) error
}

// Progress is how far a campaign has come.
type Progress struct {
	// Profile is the profile being run, and Seed the account just finished.
	Profile sim.Profile
	Seed    int64
	// Done and Total count sessions over the whole campaign.
	Done, Total int
	// Violations so far.
	Violations int
}

// Defaults of Config.
const (
	DefaultSeeds          = 100
	DefaultSessions       = 5
	DefaultInterval       = 15 * time.Minute
	DefaultSessionTimeout = time.Minute
	DefaultMaxReported    = 10
)

// AllProfiles returns the four server profiles in their usual order.
func AllProfiles() []sim.Profile {
	return []sim.Profile{sim.Replay, sim.Reexecute, sim.Lenient, sim.SilentReset}
}

// DefaultMenu returns the full fault menu: request-lost, response-lost, timeout,
// connection-reset, truncated and corrupt bodies, FolderSync Status 6, 9, 11 and
// 12, HTTP 503 with a Retry-After of 30s, HTTP 500, and X-MS-RP (reset-requested).
func DefaultMenu() []faults.Fault {
	return []faults.Fault{
		faults.RequestLost, faults.ResponseLost, faults.Timeout, faults.ConnectionReset,
		faults.TruncatedBody, faults.CorruptBody,
		faults.Status(6), faults.Status(9), faults.Status(11), faults.Status(12),
		faults.HTTP(503, 30*time.Second, true), faults.HTTP(500, 0, false),
		faults.ResetRequested,
	}
}

// withDefaults fills the zero fields and checks the others.
func (c Config) withDefaults() (Config, error) {
	if c.Profiles == nil {
		c.Profiles = AllProfiles()
	}
	for _, p := range c.Profiles {
		if !slices.Contains(AllProfiles(), p) {
			return c, fmt.Errorf("soak: undefined profile %v", p)
		}
	}
	if c.Seeds == 0 {
		c.Seeds = DefaultSeeds
	}
	if c.FirstSeed == 0 {
		c.FirstSeed = 1
	}
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	switch {
	case c.Seeds < 0:
		return c, errors.New("soak: Seeds must be positive")
	case c.Sessions < 0:
		return c, errors.New("soak: Sessions must be positive")
	case math.IsNaN(c.FaultRate) || c.FaultRate < 0 || c.FaultRate > 1:
		return c, fmt.Errorf("soak: FaultRate %v is not a fraction from 0 to 1", c.FaultRate)
	case c.Interval < 0 || c.SessionTimeout < 0:
		return c, errors.New("soak: Interval and SessionTimeout must not be negative")
	}
	if c.Menu == nil {
		c.Menu = DefaultMenu()
	}
	if len(c.Menu) == 0 {
		return c, errors.New("soak: the fault menu is empty")
	}
	for _, f := range c.Menu {
		if f.Kind == faults.KindNone {
			return c, errors.New("soak: the fault menu names no fault (none)")
		}
	}
	if c.Policy.MaxAttempts == 0 {
		c.Policy = policy.Default()
	}
	if err := c.Policy.Validate(); err != nil {
		return c, fmt.Errorf("soak: %w", err)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.MaxReported == 0 {
		c.MaxReported = DefaultMaxReported
	}
	return c, nil
}

// ReproArgs returns the arguments of `foldersync soak` (after the program name)
// that rerun one account of this campaign: the same settings, that profile, that
// seed alone.
func (c Config) ReproArgs(p sim.Profile, seed int64) []string {
	c, _ = c.withDefaults()
	args := []string{"soak", "--profiles", p.String(), "--first-seed", strconv.FormatInt(seed, 10), "--seeds", "1",
		"--sessions", strconv.Itoa(c.Sessions), "--fault-rate", strconv.FormatFloat(c.FaultRate, 'g', -1, 64)}
	if c.HTTP {
		args = append(args, "--http")
	}
	if c.Interval != DefaultInterval {
		args = append(args, "--interval", c.Interval.String())
	}
	if c.ChurnBeforeCleanSync {
		args = append(args, "--churn-before-clean-sync")
	}
	if !slices.Equal(c.Menu, DefaultMenu()) {
		specs := make([]string, len(c.Menu))
		for i, f := range c.Menu {
			specs[i] = FaultSpec(f)
		}
		args = append(args, "--menu", strings.Join(specs, ","))
	}
	if c.PolicyFile != "" {
		args = append(args, "--policy", c.PolicyFile)
	}
	return args
}

// ShellQuote quotes args for a POSIX shell, leaving plain words as they are.
func ShellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		plain := a != ""
		for _, r := range a {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,=+@%", r)) {
				plain = false
				break
			}
		}
		if plain {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// ParseFault reads one fault of a menu: see faults.Parse.
func ParseFault(spec string) (faults.Fault, error) { return faults.Parse(spec) }

// ParseMenu reads a comma-separated list of faults (see ParseFault).
func ParseMenu(spec string) ([]faults.Fault, error) {
	var menu []faults.Fault
	for _, s := range strings.Split(spec, ",") {
		f, err := ParseFault(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		menu = append(menu, f)
	}
	return menu, nil
}

// FaultSpec writes f as ParseFault reads it (headers other than Retry-After are
// those faults.HTTP sets by default).
func FaultSpec(f faults.Fault) string {
	switch f.Kind {
	case faults.KindTruncatedBody:
		return "truncated"
	case faults.KindCorruptBody:
		return "corrupt"
	case faults.KindStatus:
		return "status-" + strconv.Itoa(f.Status)
	case faults.KindHTTP:
		s := "http-" + strconv.Itoa(f.HTTPStatus)
		if f.HasRetryAfter {
			s += "-retry-" + f.RetryAfter.String()
		}
		return s
	}
	return f.Kind.String()
}

// ParseProfiles reads a comma-separated list of profile names.
func ParseProfiles(spec string) ([]sim.Profile, error) {
	var out []sim.Profile
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(AllProfiles(), func(p sim.Profile) bool { return p.String() == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown profile %q: want replay, reexecute, lenient or silent-reset", name)
		}
		if slices.Contains(out, AllProfiles()[i]) {
			return nil, fmt.Errorf("profile %q named twice", name)
		}
		out = append(out, AllProfiles()[i])
	}
	return out, nil
}
