// Command foldersync is the shell face of the foldersync library.
//
//	foldersync demo                  a recovery story against the simulated server
//	foldersync sync --url URL ...    one FolderSync session against a real server
//	foldersync captures              decode and explain captured FolderSync exchanges
//	foldersync graph                 the state graph (Mermaid or DOT) from the transitions table
//	foldersync wbxml decode [FILE]   WBXML (file or stdin) -> XML on stdout
//	foldersync wbxml encode [FILE]   XML (file or stdin) -> WBXML on stdout
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `foldersync: an auditable recovery engine for Exchange ActiveSync FolderSync

Usage:
  foldersync demo [flags]                  run sessions against the simulated server through faults
                                           and show every transition (--help for the flags)
  foldersync sync --url URL --user USER    one FolderSync session against a real server; the state is
  foldersync sync --email ADDRESS          kept under --state; with --email, Autodiscover finds the
                                           server (--help for the flags)
  foldersync soak [flags]                  a seeded fault campaign against the simulated server, checking
                                           every session (--help for the flags)
  foldersync captures                      decode and explain real captured FolderSync exchanges
  foldersync graph [--format dot|mermaid|svg] [--trace LOG [--sequence]]
                                           the state graph, rendered from the transitions table;
                                           with --trace, the path an audit log took (or, with
                                           --sequence, its client/server exchange)
  foldersync replay [--policy FILE] LOG    re-derive every transition of an audit log; exit 1 on divergence
  foldersync policy check FILE             validate a policy file (errors name file:line:column and field)
  foldersync policy show [--preset NAME]   the effective policy as commented YAML
  foldersync explain CODE                  what a status (9, 142) or HTTP code (http-503) means and does
  foldersync wbxml decode [--allow-unknown] [FILE]
                                           WBXML from FILE (or stdin) -> XML on stdout
  foldersync wbxml encode [FILE]           XML from FILE (or stdin) -> WBXML on stdout

Exit status: 0 on success, 1 on bad input (one line on stderr says where and what),
2 on a usage error.
`

// run is main without the process: it returns the exit status, so tests drive it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "captures":
		return runCaptures(args[1:], stdout, stderr)
	case "sync":
		return runSync(args[1:], stdout, stderr)
	case "soak":
		return runSoak(args[1:], stdout, stderr)
	case "graph":
		return runGraphIO(args[1:], stdin, stdout, stderr)
	case "replay":
		return runReplay(args[1:], stdout, stderr)
	case "policy":
		return runPolicy(args[1:], stdout, stderr)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "wbxml":
		return runWBXML(args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "foldersync: unknown command %q\n\n%s", args[0], usage)
	return 2
}
