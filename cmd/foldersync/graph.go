package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/visualize"
)

const graphUsage = `Usage: foldersync graph [--format mermaid|dot|svg] [--trace LOG [--sequence]]

Prints the state graph of the recovery machine, rendered from the transitions table:
edges are labelled with the events that take them and the codes that classify to
those events; synced and failed are terminal.

With --trace, the path an audit log took is drawn over the graph: the states it
visited and the edges it took are highlighted, each taken event annotated with how
often it was taken, the codes behind it and the waits chosen. With --sequence too,
the log is drawn instead as a Mermaid sequence diagram of each session's exchange
with the server: requests and SyncKeys, answers, waits, resets and commits.

Flags:
  --format F    mermaid (the default), dot, or svg (runs Graphviz's dot, which must
                be on PATH: apt-get install graphviz)
  --trace LOG   an audit log, JSON Lines as foldersync demo --audit and
                machine.NewJSONLines write it; - reads it from standard input
  --sequence    with --trace: a Mermaid sequenceDiagram (--format mermaid only)

Examples:
  go run ./cmd/foldersync graph --format mermaid
  go run ./cmd/foldersync graph --format dot | dot -Tpng > states.png
  go run ./cmd/foldersync graph --format svg > docs/states.svg
  go run ./cmd/foldersync demo --audit audit.jsonl
  go run ./cmd/foldersync graph --trace audit.jsonl                  # Mermaid overlay
  go run ./cmd/foldersync graph --trace audit.jsonl --format dot
  go run ./cmd/foldersync graph --trace audit.jsonl --format svg > trace.svg
  go run ./cmd/foldersync graph --trace - --sequence < audit.jsonl
`

// runGraphIO is the graph command with its standard input given.
func runGraphIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, graphUsage) }
	format := fs.String("format", "mermaid", "")
	trace := fs.String("trace", "", "")
	sequence := fs.Bool("sequence", false, "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	usageErr := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "foldersync graph: "+format+"\n", args...)
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected argument %q (an audit log goes with --trace)\n\n%s", fs.Arg(0), graphUsage)
	case *format != "mermaid" && *format != "dot" && *format != "svg":
		return usageErr("unknown --format %q: want dot or mermaid (text), or svg (drawn by Graphviz)", *format)
	case *sequence && *trace == "":
		return usageErr("--sequence draws an audit log: give one with --trace LOG (- for standard input)")
	case *sequence && *format != "mermaid":
		return usageErr("--sequence draws a Mermaid sequenceDiagram: use --format mermaid (the default), not %s", *format)
	}

	var records []machine.Record
	if *trace != "" {
		var err error
		if records, err = readTrace(*trace, stdin); err != nil {
			fmt.Fprintln(stderr, "foldersync graph:", err)
			return 1
		}
	}
	out, err := renderGraph(*format, *trace != "", *sequence, records)
	if err != nil {
		var te *visualize.TraceError
		switch {
		case errors.As(err, &te):
			fmt.Fprintf(stderr, "foldersync graph: %s: %v: the log does not match the transitions table; was it edited, or written by another version?\n", traceName(*trace), err)
		case errors.Is(err, visualize.ErrNoRecords):
			fmt.Fprintf(stderr, "foldersync graph: %s: %v (write one with foldersync demo --audit FILE)\n", traceName(*trace), err)
		default:
			fmt.Fprintln(stderr, "foldersync graph:", err)
		}
		return 1
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintln(stderr, "foldersync graph:", err)
		return 1
	}
	return 0
}

// renderGraph renders what the flags ask for.
func renderGraph(format string, traced, sequence bool, records []machine.Record) ([]byte, error) {
	if sequence {
		s, err := visualize.SequenceMermaid(records)
		return []byte(s), err
	}
	var text string
	var err error
	switch {
	case format == "mermaid" && traced:
		text, err = visualize.TraceMermaid(records)
	case format == "mermaid":
		text = visualize.Mermaid()
	case traced:
		text, err = visualize.TraceDOT(records)
	default:
		text = visualize.DOT()
	}
	if err != nil {
		return nil, err
	}
	if format == "svg" {
		return visualize.SVG(text)
	}
	return []byte(text), nil
}

// readTrace reads the audit log at path, or stdin for "-". A line that is not a
// record is an error naming the file and the line.
func readTrace(path string, stdin io.Reader) ([]machine.Record, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--trace: %w", err)
		}
		defer f.Close()
		r = f
	}
	records, err := machine.ReadRecords(r)
	if err != nil {
		var ae *machine.AuditError
		if errors.As(err, &ae) {
			return nil, fmt.Errorf("%s: %w: each line must be one JSON audit record, as foldersync demo --audit writes them", traceName(path), err)
		}
		return nil, fmt.Errorf("%s: %w", traceName(path), err)
	}
	return records, nil
}

func traceName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}
