package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
)

const replayUsage = `Usage: foldersync replay [--policy FILE] AUDIT.jsonl

Re-derives every transition of every session in a JSON Lines audit log from the
recorded stimuli, under the policy (default: the default preset), and reports the
first divergence. Exit status 0 when every session replays identically, 1 on a
divergence or an unreadable log.

Example:
  go run ./cmd/foldersync demo --audit audit.jsonl && go run ./cmd/foldersync replay audit.jsonl
`

func runReplay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, replayUsage) }
	policyFile := fs.String("policy", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "foldersync replay: give one audit log\n\n"+replayUsage)
		return 2
	}
	p := policy.Default()
	if *policyFile != "" {
		var err error
		if p, err = policy.Load(*policyFile); err != nil {
			fmt.Fprintln(stderr, "foldersync replay:", err)
			return 1
		}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "foldersync replay:", err)
		return 1
	}
	defer f.Close()
	recs, err := machine.ReadRecords(f)
	if err != nil {
		fmt.Fprintf(stderr, "foldersync replay: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	sessions := machine.SplitSessions(recs)
	line := 0 // the line of the session's first record
	for _, sess := range sessions {
		if d := machine.Replay(sess, p); d != nil {
			fmt.Fprintf(stdout, "session %q (records %d-%d): %v\n", sess[0].Session, line+1, line+len(sess), d)
			fmt.Fprintf(stderr, "foldersync replay: divergence at line %d of %s\n", line+d.Index+1, fs.Arg(0))
			return 1
		}
		line += len(sess)
	}
	fmt.Fprintf(stdout, "%d sessions, %d transitions: every one replays identically\n", len(sessions), len(recs))
	return 0
}

const policyUsage = `Usage:
  foldersync policy check FILE          validate a policy file (YAML or JSON)
  foldersync policy show [--preset NAME] print the effective policy as commented YAML

Presets: default, interactive, background.

Example:
  go run ./cmd/foldersync policy show --preset interactive > policy.yaml
  go run ./cmd/foldersync policy check policy.yaml
`

func runPolicy(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return 2
	}
	switch args[0] {
	case "check":
		if len(args) != 2 {
			fmt.Fprint(stderr, "foldersync policy check: give one file\n\n"+policyUsage)
			return 2
		}
		p, err := policy.Load(args[1])
		if err != nil {
			fmt.Fprintln(stderr, err) // a *policy.ConfigError already reads file:line:column: field: what to do
			return 1
		}
		fmt.Fprintf(stdout, "%s: valid (%s)\n", args[1], p.Name)
		return 0
	case "show":
		fs := flag.NewFlagSet("policy show", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprint(stderr, policyUsage) }
		preset := fs.String("preset", "default", "")
		if err := fs.Parse(args[1:]); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		p, err := policy.Preset(*preset)
		if err != nil {
			fmt.Fprintln(stderr, "foldersync policy show:", err)
			return 2
		}
		y, err := p.YAML()
		if err != nil {
			fmt.Fprintln(stderr, "foldersync policy show:", err)
			return 1
		}
		stdout.Write(y)
		return 0
	}
	fmt.Fprintf(stderr, "foldersync policy: unknown subcommand %q\n\n%s", args[0], policyUsage)
	return 2
}

const explainUsage = `Usage: foldersync explain CODE

CODE is a FolderSync or common status (1-999, as the server's Status element) or an
HTTP status prefixed with http- (http-503). Prints what the code means, where the
specification says so, and what the recovery machine does with it.

Example:
  go run ./cmd/foldersync explain 9
  go run ./cmd/foldersync explain http-451
`

func runExplain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, explainUsage)
		return 2
	}
	arg := strings.ToLower(args[0])
	var o transitions.Outcome
	if code, ok := strings.CutPrefix(arg, "http-"); ok {
		n, err := strconv.Atoi(code)
		if err != nil || n < 100 || n > 599 {
			fmt.Fprintf(stderr, "foldersync explain: %q is not an HTTP status (http-100 to http-599)\n", args[0])
			return 2
		}
		o.HTTPStatus = n
	} else {
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 999 {
			fmt.Fprintf(stderr, "foldersync explain: %q is not a status code (1-999) or http-CODE\n\n%s", args[0], explainUsage)
			return 2
		}
		o.HTTPStatus, o.Status = 200, n
	}
	r := transitions.Classify(o)
	row, err := transitions.Lookup(states.Awaiting, r.Event)
	if err != nil {
		fmt.Fprintln(stderr, "foldersync explain:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %d", r.Source, r.Code)
	if r.Name != "" {
		fmt.Fprintf(stdout, " %s", r.Name)
	}
	fmt.Fprintf(stdout, "\n  meaning:    %s\n", r.Meaning)
	if r.Resolution != "" {
		fmt.Fprintf(stdout, "  resolution: %s\n", r.Resolution)
	}
	fmt.Fprintf(stdout, "  spec:       %s\n", r.Spec)
	fmt.Fprintf(stdout, "  foldersync: event %s: awaiting -> %s", r.Event, row.To)
	if row.Guard != "" {
		fmt.Fprintf(stdout, " while %s holds, else %s", row.Guard, row.Else)
	}
	fmt.Fprintf(stdout, "\n              %s\n", row.Why)
	return 0
}
