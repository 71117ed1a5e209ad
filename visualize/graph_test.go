package visualize_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/visualize"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./visualize -update to create it")
	assert.Equal(t, string(want), got, "%s is stale: run go test ./visualize -update and review the diff", path)
}

func TestGolden(t *testing.T) {
	golden(t, "states.mmd", visualize.Mermaid())
	golden(t, "states.dot", visualize.DOT())
}

func TestStableFromRunToRun(t *testing.T) {
	for i := 0; i < 20; i++ {
		assert.Equal(t, visualize.Mermaid(), visualize.Mermaid())
		assert.Equal(t, visualize.DOT(), visualize.DOT())
	}
}

// Long labels wrap: no line of a DOT edge label is much longer than the wrap width
// (a single code list that cannot break may exceed it a little).
func TestDOTLabelsWrap(t *testing.T) {
	d := visualize.DOT()
	assert.Contains(t, d, "lost (1 common, timeout,\\l\u00a0\u00a0connection error, unreadable body)\\l")
	for _, line := range strings.Split(d, "\n") {
		_, label, ok := strings.Cut(line, `[label="`)
		if !ok {
			continue
		}
		for _, part := range strings.Split(label, `\l`) {
			assert.LessOrEqual(t, len([]rune(part)), 44, "%q is too long a label line", part)
		}
	}
}

// Every row of the table is on exactly one edge, and every edge comes from rows.
func TestEdgesCoverTheTable(t *testing.T) {
	rows := transitions.Rows()
	n := 0
	for _, e := range visualize.Edges() {
		n += len(e.Events)
		for _, ev := range e.Events {
			row, err := transitions.Lookup(e.From, ev)
			require.NoError(t, err)
			assert.Equal(t, e.To, row.To)
		}
	}
	assert.Equal(t, len(rows), n)
}

func TestLabels(t *testing.T) {
	m := visualize.Mermaid()
	assert.Contains(t, m, "awaiting --> retrying: ")
	assert.Contains(t, m, "transient (status 6/8/11", "codes in numeric order, 6 before 10")
	assert.Contains(t, m, "lost (1 common, timeout, connection error, unreadable body)")
	assert.Contains(t, m, "key_mismatch (status 9, 4 common, X-MS-RP)")
	assert.Contains(t, m, "[*] --> idle")
	for _, s := range states.All() {
		if s.Terminal() {
			assert.Contains(t, m, s.String()+" --> [*]")
		}
	}
	assert.NotContains(t, strings.SplitN(m, "\n", 2)[1], ": :", "no raw colon inside a label")
	d := visualize.DOT()
	assert.Contains(t, d, "synced [shape=doublecircle")
	assert.Contains(t, d, "idle [shape=circle")
}

// The README shows the graph; it must be what `foldersync graph --format mermaid` prints.
func TestREADMEGraphIsCurrent(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```mermaid\n"+visualize.Mermaid()+"```",
		"README.md's state graph is stale: paste the output of go run ./cmd/foldersync graph --format mermaid")
}
