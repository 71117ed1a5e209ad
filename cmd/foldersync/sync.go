package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport/ashttp"
	"github.com/easkit/foldersync/transport/autodiscover"
	"github.com/easkit/foldersync/transport/httpeas"
)

const syncUsage = `Usage: foldersync sync (--url URL | --email ADDRESS) [--user USER] [flags]

Runs one FolderSync session against a real Exchange ActiveSync server, stores the
hierarchy and SyncKey under --state (the next run continues from them), appends every
transition to the audit log, and prints the outcome and the folder tree. Exit status
0 when synced, 1 when the session failed (the reason is on stderr), 2 on a usage error.

Flags:
  --url URL            the ActiveSync endpoint, e.g. https://mail.example.com/Microsoft-Server-ActiveSync
  --email ADDRESS      the mailbox's address: without --url, Autodiscover (MS-ASCMD 2.2.1.1) finds the
                       endpoint on the first run; with it too, a 451 that names no server, and a 401 or
                       403, run Autodiscover again (MS-ASHTTP 3.1.5.2)
  --autodiscover-url URL
                       ask this Autodiscover endpoint only, instead of the ones derived from the
                       address's domain (https://DOMAIN/autodiscover/autodiscover.xml, ...)
  --user USER          the logon name (default: the --email address)
  --password-env VAR   the environment variable holding the password (default FOLDERSYNC_PASSWORD);
                       the password is never read from the command line
  --device-id ID       the device id the server keeps state for (default: made once, stored in --state)
  --device-type TYPE   the device type (default foldersync)
  --protocol V         pin the protocol version (2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1);
                       default: the highest both sides speak, from OPTIONS
  --base64-query       send the base64-encoded query form (MS-ASHTTP 2.2.1.1.1.1); kept in --state,
                       since a server may see the other form as another device
  --state DIR          where the hierarchy, SyncKey, device id and endpoint are kept
                       (default foldersync-state)
  --policy FILE        a policy file (YAML or JSON); default: the default preset
  --audit FILE         append the JSON Lines audit log here (default DIR/audit.jsonl)
  --insecure-http      allow a plain http:// URL (credentials in the clear: loopback tests only)
  --timeout D          give up the whole session after D (default: none beyond the policy's
                       budgets, max_attempts and backoff.max_elapsed)

Example, with Autodiscover:
  FOLDERSYNC_PASSWORD=... foldersync sync --email alice@example.com --state ~/.foldersync/alice

Example (a local SOGo started by ../shared/servers/sogo/start.sh):
  FOLDERSYNC_PASSWORD=alice-pass go run ./cmd/foldersync sync \
    --url http://127.0.0.1:28080/Microsoft-Server-ActiveSync --user alice --insecure-http --state /tmp/alice
`

// endpoint is what a sync keeps besides the hierarchy: the device identity and
// where and how to reach the server, so the next run continues as this one ended.
type endpoint struct {
	// URL is the endpoint after any redirect; Given is the --url it came from.
	URL   string `json:"url"`
	Given string `json:"given_url"`
	User  string `json:"user"`
	// DeviceID must stay the same: the server keeps FolderSync state per device.
	DeviceID   string `json:"device_id"`
	DeviceType string `json:"device_type"`
	PolicyKey  string `json:"policy_key,omitempty"`
	Protocol   string `json:"protocol,omitempty"`
	// Base64Query is kept because servers may tell devices apart by it: SOGo 5.8
	// hex-encodes the DeviceId of the base64 form, so switching forms looks like a
	// new device to it (Status 9, then a full resync).
	Base64Query bool `json:"base64_query,omitempty"`
	// Resets are the times of recent resets to SyncKey 0, for the loop guard.
	Resets []time.Time `json:"resets,omitempty"`
}

const endpointFile = "endpoint.json"

func runSync(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, syncUsage) }
	rawURL := fs.String("url", "", "")
	email := fs.String("email", "", "")
	autodiscoverURL := fs.String("autodiscover-url", "", "")
	user := fs.String("user", "", "")
	passwordEnv := fs.String("password-env", "FOLDERSYNC_PASSWORD", "")
	deviceID := fs.String("device-id", "", "")
	deviceType := fs.String("device-type", "", "")
	protocol := fs.String("protocol", "", "")
	base64Query := fs.Bool("base64-query", false, "")
	stateDir := fs.String("state", "foldersync-state", "")
	policyFile := fs.String("policy", "", "")
	auditFile := fs.String("audit", "", "")
	insecure := fs.Bool("insecure-http", false, "")
	timeout := fs.Duration("timeout", 0, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "foldersync sync: "+format+"\n", a...)
		return code
	}
	if *user == "" {
		*user = *email
	}
	switch {
	case fs.NArg() > 0:
		return fail(2, "unexpected argument %q (see --help)", fs.Arg(0))
	case *rawURL == "" && *email == "":
		return fail(2, "--url or --email is required (the ActiveSync endpoint, e.g. https://mail.example.com/Microsoft-Server-ActiveSync, or the mailbox's address for Autodiscover)")
	case *autodiscoverURL != "" && *email == "":
		return fail(2, "--autodiscover-url needs --email: Autodiscover looks a mailbox up by its address")
	case *user == "":
		return fail(2, "--user is required")
	}
	given := *rawURL
	if given == "" {
		given = "autodiscover:" + *email // the state belongs to the account, wherever it is served
	}
	password := os.Getenv(*passwordEnv)
	if password == "" {
		return fail(2, "the environment variable %s is empty: put the password there (e.g. %s=... foldersync sync ...) or name another with --password-env", *passwordEnv, *passwordEnv)
	}
	pol := policy.Default()
	if *policyFile != "" {
		var err error
		if pol, err = policy.Load(*policyFile); err != nil {
			return fail(1, "%v", err)
		}
	}
	if err := os.MkdirAll(*stateDir, 0o700); err != nil {
		return fail(1, "creating the state directory: %v", err)
	}
	ep, err := loadEndpoint(*stateDir)
	if err != nil {
		return fail(1, "%v", err)
	}
	if ep.User != "" && (ep.User != *user || ep.Given != given) {
		// SOGo never compares SyncKeys: another account's key would be answered
		// "no changes", and that account's folders shown as this one's.
		return fail(2, "%s holds the state of %s at %s, not of %s at %s: give each account its own --state directory",
			*stateDir, ep.User, ep.Given, *user, given)
	}
	ep = ep.merge(given, *user, *deviceID, *deviceType, *protocol)
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "base64-query" {
			ep.Base64Query = *base64Query
		}
	})
	if ep.DeviceID == "" {
		ep.DeviceID = newDeviceID()
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if *timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, *timeout)
		defer cancelTimeout()
	}

	var discover func(ctx context.Context) (*autodiscover.Result, error)
	if *email != "" {
		// --insecure-http reaches only an --autodiscover-url: the search derived from
		// the address never takes plain HTTP (package autodiscover).
		ad := autodiscover.Options{Email: *email, User: *user, Password: password, AllowInsecureHTTP: *insecure}
		if *autodiscoverURL != "" {
			ad.Endpoints = []string{*autodiscoverURL}
		}
		ad.ConfirmRedirect = func(_ context.Context, from, to string) bool {
			// MS-OXDISCO 3.1.5.4 suggests asking the user before following the
			// redirect of the unauthenticated plain-HTTP step, which anyone on the
			// path can forge. The password follows it only inside the address's
			// domain; elsewhere the user names the endpoint.
			if inDomain(to, *email) {
				return true
			}
			fmt.Fprintf(stdout, "autodiscover: %s redirects to %s, outside %s's domain; not sending the password there.\n"+
				"  If that is your provider's Autodiscover, run again with --autodiscover-url %s\n", from, to, *email, to)
			return false
		}
		discover = func(ctx context.Context) (*autodiscover.Result, error) {
			res, err := autodiscover.Discover(ctx, ad)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(stdout, "autodiscover: %s is served at %s (%d endpoints asked)\n", res.Email, res.URL, len(res.Attempts))
			return res, nil
		}
	}
	startURL := ep.URL
	if startURL == "" { // an account given by --email alone, until a session syncs
		res, err := discover(ctx)
		if err != nil {
			return fail(1, "%v\n(give the endpoint with --url if you know it)", err)
		}
		startURL = res.URL
	}
	newClient := func(url string) (*httpeas.Client, error) {
		opts := httpeas.Options{
			URL: url, User: ep.User, Password: password, DeviceID: ep.DeviceID, DeviceType: ep.DeviceType,
			ProtocolVersion: *protocol, Base64Query: ep.Base64Query, PolicyKey: ep.PolicyKey, AllowInsecureHTTP: *insecure,
		}
		if discover != nil {
			// MS-ASHTTP 3.1.5.2.2: a 451 without X-MS-Location is followed through Autodiscover.
			opts.Autodiscover = func(ctx context.Context) (string, error) {
				res, err := discover(ctx)
				if err != nil {
					return "", err
				}
				return res.URL, nil
			}
		}
		return httpeas.New(opts)
	}
	client, err := newClient(startURL)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer func() { client.Close() }()
	store, err := hierarchy.OpenFileStore(filepath.Join(*stateDir, "hierarchy"))
	if err != nil {
		return fail(1, "%v", err)
	}
	if *auditFile == "" {
		*auditFile = filepath.Join(*stateDir, "audit.jsonl")
	}
	af, err := os.OpenFile(*auditFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fail(1, "opening the audit log: %v", err)
	}
	defer af.Close()

	inherited := len(ep.Resets)
	sessions := 0
	run := func(client *httpeas.Client) (*machine.Result, error) {
		start := time.Now()
		sessionID := "sync-" + start.UTC().Format("20060102T150405.000Z")
		if sessions++; sessions > 1 { // the run after Autodiscover: its own id in the audit log
			sessionID += fmt.Sprintf("-%d", sessions)
		}
		fmt.Fprintf(stdout, "foldersync sync: %s as %s, device %s, state in %s\n", client.URL(), ep.User, ep.DeviceID, *stateDir)
		fmt.Fprintf(stdout, "  %2s  %-8s %-40s %-26s %-11s %s\n", "#", "time", "state -event-> state", "classified as", "wait", "why")
		sess, err := machine.New(machine.Config{
			Transport: client, Store: store, Policy: pol, SessionID: sessionID,
			Audit: machine.NewJSONLines(af), Observer: table{out: stdout, start: start},
			PriorResets: ep.Resets,
		})
		if err != nil {
			return nil, usageError{err}
		}
		res, syncErr := sess.Sync(ctx)
		if res != nil {
			ep.PolicyKey = client.PolicyKey()
			ep.Protocol = client.ProtocolVersion()
			if res.State == states.Synced {
				// The URL the session synced at: after a 451, the new one (MS-ASHTTP
				// 3.1.5.2.2: later requests use it); after Autodiscover, the one it
				// found. A URL is kept only once a session has synced there.
				ep.URL = client.URL()
			}
			// Counters.Resets holds the inherited resets and this session's.
			ep.Resets = recentResets(res.Counters.Resets, pol, time.Now())
		}
		return res, syncErr
	}
	res, syncErr := run(client)
	if res != nil && discover != nil && (errors.Is(syncErr, machine.ErrAuth) || errors.Is(syncErr, machine.ErrDenied)) {
		// MS-ASHTTP 3.1.5.2.1: after a 401 or 403 the client SHOULD send an
		// Autodiscover request: the mailbox may have moved to a server that knows
		// the account. One more session, only if Autodiscover names another server.
		fmt.Fprintf(stdout, "  => %s: %v\n", res.State, syncErr)
		fmt.Fprintln(stdout, "  asking Autodiscover whether the mailbox has moved (MS-ASHTTP 3.1.5.2.1)")
		if found, err := discover(ctx); err != nil {
			fmt.Fprintf(stdout, "  autodiscover after the refusal: %v\n", err)
		} else if sameEndpoint(found.URL, client.URL()) {
			fmt.Fprintln(stdout, "  autodiscover names the same server: the refusal stands")
		} else if next, err := newClient(found.URL); err != nil {
			fmt.Fprintf(stdout, "  autodiscover named %s, which cannot be used: %v\n", found.URL, err)
		} else {
			client.Close()
			client = next
			res, syncErr = run(client)
		}
	}
	if err := saveEndpoint(*stateDir, ep); err != nil {
		fmt.Fprintf(stderr, "foldersync sync: warning: %v\n", err)
	}
	if res == nil {
		if errors.As(syncErr, new(usageError)) {
			return fail(2, "%v", syncErr)
		}
		return fail(1, "%v", syncErr)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stdout, "  note:", w)
	}
	for _, u := range res.Redirects {
		fmt.Fprintf(stdout, "  followed a 451 redirect to %s (stored for the next run)\n", u)
	}
	fmt.Fprintf(stdout, "  => %s after %d requests, %d resets, %s waited", res.State, res.Counters.Attempts, max(0, len(res.Counters.Resets)-inherited), res.Counters.Elapsed.Round(time.Millisecond))
	if v := client.ProtocolVersion(); v != "" {
		fmt.Fprintf(stdout, "; protocol %s", v)
	}
	fmt.Fprintln(stdout)
	if res.State != states.Synced {
		return fail(1, "%v", syncErr)
	}
	fmt.Fprintf(stdout, "\nSyncKey %q, %d folders:\n", res.SyncKey, res.Tree.Len())
	printHierarchy(stdout, res.Tree, "0", "  ")
	return 0
}

// merge applies the flags over what the last run stored. A different --url than
// the one the stored endpoint came from starts over at that URL; the device id
// stays unless --device-id changes it.
func (ep endpoint) merge(rawURL, user, deviceID, deviceType, protocol string) endpoint {
	if ep.Given != rawURL || ep.URL == "" {
		ep.URL, ep.Given = rawURL, rawURL
		if strings.HasPrefix(rawURL, "autodiscover:") {
			ep.URL = "" // Autodiscover finds it
		}
	}
	ep.User = user
	if deviceID != "" {
		ep.DeviceID = deviceID
	}
	if deviceType != "" {
		ep.DeviceType = deviceType
	}
	if ep.DeviceType == "" {
		ep.DeviceType = "foldersync"
	}
	if protocol != "" {
		ep.Protocol = protocol
	}
	return ep
}

func loadEndpoint(dir string) (endpoint, error) {
	var ep endpoint
	b, err := os.ReadFile(filepath.Join(dir, endpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return ep, nil
	}
	if err != nil {
		return ep, err
	}
	if err := json.Unmarshal(b, &ep); err != nil {
		return ep, fmt.Errorf("%s: %v (delete it to start over with a new device id)", filepath.Join(dir, endpointFile), err)
	}
	return ep, nil
}

// saveEndpoint writes the file atomically (temp file, rename).
func saveEndpoint(dir string, ep endpoint) error {
	b, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, endpointFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the endpoint: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, endpointFile)); err != nil {
		return fmt.Errorf("saving the endpoint: %w", err)
	}
	return nil
}

// newDeviceID makes a 16-character device id: letters and digits only, as
// MS-ASHTTP 2.2.1.1.1.2.3 allows.
func newDeviceID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "FS" + hex.EncodeToString(b[:])[:14]
}

// recentResets keeps the resets still inside the policy's loop-guard window.
func recentResets(resets []time.Time, pol policy.Policy, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range resets {
		if now.Sub(t) <= pol.ResetGuard.Window {
			out = append(out, t)
		}
	}
	return out
}

// sameEndpoint reports whether two endpoint URLs name the same server and path.
func sameEndpoint(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	return errA == nil && errB == nil && ashttp.SameEndpoint(ua, ub)
}

// usageError is a session that could not be set up from the flags (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// inDomain reports whether rawURL's host is the domain of address, or inside it.
func inDomain(rawURL, address string) bool {
	u, err := url.Parse(rawURL)
	_, domain, ok := strings.Cut(address, "@")
	if err != nil || !ok || domain == "" {
		return false
	}
	host, domain := strings.ToLower(u.Hostname()), strings.ToLower(domain)
	return host == domain || strings.HasSuffix(host, "."+domain)
}
