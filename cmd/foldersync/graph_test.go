package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/visualize"
)

// The audit log fixture the visualize goldens are rendered from.
var demoAudit = filepath.Join("..", "..", "visualize", "testdata", "demo-audit.jsonl")

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "visualize", "testdata", name))
	require.NoError(t, err)
	return string(b)
}

// The demo runs on simulated time, so its audit log is stable: the fixtures the
// visualize goldens come from are what it writes today.
func TestGraphFixturesAreTheDemosAudit(t *testing.T) {
	for _, c := range []struct {
		fixture string
		args    []string
	}{
		{"demo-audit.jsonl", nil},
		{"demo-lenient-audit.jsonl", []string{"--profile", "lenient", "--faults", "1:response-lost,2:http-503-retry-30s"}},
	} {
		audit := filepath.Join(t.TempDir(), "audit.jsonl")
		code, _, errOut := runCLI(t, nil, append(append([]string{"demo"}, c.args...), "--audit", audit)...)
		require.Equal(t, 0, code, errOut)
		got, err := os.ReadFile(audit)
		require.NoError(t, err)
		assert.Equal(t, golden(t, c.fixture), string(got),
			"the demo's audit log changed: regenerate visualize/testdata/%s with go run ./cmd/foldersync demo %s --audit visualize/testdata/%s, then go test ./visualize -update and review the diff",
			c.fixture, strings.Join(c.args, " "), c.fixture)
	}
}

func TestGraphFormats(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"graph"}, visualize.Mermaid()},
		{[]string{"graph", "--format", "mermaid"}, visualize.Mermaid()},
		{[]string{"graph", "--format", "dot"}, visualize.DOT()},
		{[]string{"graph", "--trace", demoAudit}, golden(t, "demo-trace.mmd")},
		{[]string{"graph", "--trace", demoAudit, "--format", "mermaid"}, golden(t, "demo-trace.mmd")},
		{[]string{"graph", "--trace", demoAudit, "--format", "dot"}, golden(t, "demo-trace.dot")},
		{[]string{"graph", "--trace", demoAudit, "--sequence"}, golden(t, "demo-sequence.mmd")},
		{[]string{"graph", "--sequence", "--trace", demoAudit, "--format", "mermaid"}, golden(t, "demo-sequence.mmd")},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, c.args...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, errOut)
			assert.Equal(t, c.want, out)
		})
	}
}

func TestGraphTraceFromStdin(t *testing.T) {
	log, err := os.ReadFile(demoAudit)
	require.NoError(t, err)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trace", "-"}, golden(t, "demo-trace.mmd")},
		{[]string{"--trace", "-", "--format", "dot"}, golden(t, "demo-trace.dot")},
		{[]string{"--trace", "-", "--sequence"}, golden(t, "demo-sequence.mmd")},
	} {
		var out, errOut bytes.Buffer
		code := runGraphIO(c.args, bytes.NewReader(log), &out, &errOut)
		require.Equal(t, 0, code, errOut.String())
		assert.Equal(t, c.want, out.String(), "%q", c.args)
	}
}

func TestGraphSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not on PATH: apt-get install graphviz to run the SVG tests")
	}
	code, out, errOut := runCLI(t, nil, "graph", "--format", "svg")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "<?xml"), out)
	assert.Contains(t, out, "<title>awaiting&#45;&gt;retrying</title>")

	code, out, errOut = runCLI(t, nil, "graph", "--format", "svg", "--trace", demoAudit)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "<svg")
	assert.Contains(t, out, "transient ×2 (status 6), waits 1.166s,")
}

func TestGraphSVGWithoutGraphviz(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, args := range [][]string{{"graph", "--format", "svg"}, {"graph", "--format", "svg", "--trace", demoAudit}} {
		code, out, errOut := runCLI(t, nil, args...)
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, `foldersync graph: visualize: Graphviz's "dot" is not on PATH`)
		assert.Contains(t, errOut, "apt-get install graphviz")
		assert.Contains(t, errOut, "--format dot")
	}
}

func TestGraphErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	log, err := os.ReadFile(demoAudit)
	require.NoError(t, err)
	lines := strings.SplitAfter(string(log), "\n")
	corrupt := write("corrupt.jsonl", lines[0]+lines[1]+"{\"seq\": 3, \"from\": \n"+strings.Join(lines[2:], ""))
	unknown := write("unknown.jsonl", lines[0]+strings.Replace(lines[1], `"to":"synced"`, `"to":"nowhere"`, 1))
	edited := write("edited.jsonl", strings.Join(lines[:7], "")+strings.Replace(lines[7], `"to":"retrying"`, `"to":"resetting"`, 1)+strings.Join(lines[8:], ""))
	broken := write("broken.jsonl", strings.Join(lines[:4], "")+strings.Join(lines[5:], ""))
	empty := write("empty.jsonl", "\n")

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown format", []string{"--format", "png"}, 2, []string{`unknown --format "png": want dot or mermaid (text), or svg (drawn by Graphviz)`}},
		{"extra argument", []string{demoAudit}, 2, []string{"unexpected argument", "an audit log goes with --trace", "Usage:"}},
		{"sequence without trace", []string{"--sequence"}, 2, []string{"--sequence draws an audit log: give one with --trace LOG (- for standard input)"}},
		{"sequence as dot", []string{"--sequence", "--trace", demoAudit, "--format", "dot"}, 2, []string{"--sequence draws a Mermaid sequenceDiagram: use --format mermaid (the default), not dot"}},
		{"sequence as svg", []string{"--sequence", "--trace", demoAudit, "--format", "svg"}, 2, []string{"use --format mermaid"}},
		{"missing log", []string{"--trace", filepath.Join(dir, "nope.jsonl")}, 1, []string{"--trace: open ", "nope.jsonl: no such file or directory"}},
		{"corrupt line", []string{"--trace", corrupt}, 1, []string{"corrupt.jsonl: audit log line 3: not an audit record", "each line must be one JSON audit record"}},
		{"unknown state", []string{"--trace", unknown}, 1, []string{"unknown.jsonl: audit log line 2: not an audit record", `"nowhere" is not a state`}},
		{"hand-edited record", []string{"--trace", edited, "--format", "dot"}, 1, []string{
			`edited.jsonl: visualize: audit record seq 6 (session "incremental", record 8 of the log): awaiting -transient-> resetting is not a row of the transitions table: transient in awaiting goes to retrying`,
			"was it edited, or written by another version?"}},
		{"hand-edited record, sequence", []string{"--trace", edited, "--sequence"}, 1, []string{"audit record seq 6 "}},
		{"record missing", []string{"--trace", broken, "--sequence"}, 1, []string{`audit record seq 4 (session "incremental", record 5 of the log): it starts in awaiting, but the session's previous record (seq 2) left it in retrying`}},
		{"empty log", []string{"--trace", empty}, 1, []string{"empty.jsonl: visualize: the audit log holds no records: nothing to trace (write one with foldersync demo --audit FILE)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, append([]string{"graph"}, c.args...)...)
			assert.Equal(t, c.code, code)
			assert.Empty(t, out, "nothing on stdout on an error")
			assert.True(t, strings.HasPrefix(errOut, "foldersync graph: "), errOut)
			for _, w := range c.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
	// A bad line on standard input is named too.
	var out, errOut bytes.Buffer
	code := runGraphIO([]string{"--trace", "-"}, strings.NewReader("not json\n"), &out, &errOut)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "foldersync graph: standard input: audit log line 1: not an audit record")
}

func TestGraphHelp(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "graph", "--help")
	assert.Equal(t, 0, code)
	assert.Empty(t, out)
	for _, want := range []string{
		"Usage: foldersync graph [--format mermaid|dot|svg] [--trace LOG [--sequence]]",
		"graph --format mermaid\n",
		"graph --format dot | dot -Tpng > states.png\n",
		"graph --format svg > docs/states.svg\n",
		"graph --trace audit.jsonl --format dot\n",
		"graph --trace audit.jsonl --format svg > trace.svg\n",
		"graph --trace - --sequence < audit.jsonl\n",
		"apt-get install graphviz",
	} {
		assert.Contains(t, errOut, want)
	}
}
