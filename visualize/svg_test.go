package visualize_test

import (
	"context"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/visualize"
)

// needDot skips a test that renders with Graphviz when dot is not installed.
func needDot(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not on PATH: apt-get install graphviz to run the SVG rendering tests")
	}
}

func TestSVG(t *testing.T) {
	needDot(t)
	svg, err := visualize.SVG(visualize.DOT())
	require.NoError(t, err)
	text := html.UnescapeString(string(svg))
	assert.Contains(t, text, "<svg")
	assert.Contains(t, text, "<title>foldersync</title>")
	assert.Contains(t, text, ">awaiting</text>")
	assert.Contains(t, text, "key_mismatch (status 9, 4 common,")

	trace, err := visualize.TraceDOT(readAudit(t, "demo"))
	require.NoError(t, err)
	svg, err = visualize.SVG(trace)
	require.NoError(t, err)
	text = html.UnescapeString(string(svg))
	assert.Contains(t, text, "transient ×2 (status 6), waits 1.166s,")
	assert.Contains(t, text, `stroke="#1d4ed8"`)
}

func TestSVGBadDOT(t *testing.T) {
	needDot(t)
	_, err := visualize.SVG("digraph { a -> ")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-Tsvg failed")
	assert.Contains(t, err.Error(), "syntax error")
}

func TestSVGWithoutGraphviz(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := visualize.SVG(visualize.DOT())
	require.ErrorIs(t, err, visualize.ErrNoGraphviz)
	assert.Contains(t, err.Error(), `Graphviz's "dot" is not on PATH`)
	assert.Contains(t, err.Error(), "apt-get install graphviz")
	assert.Contains(t, err.Error(), "--format dot")
}

// fakeDot puts a shell script named dot first on PATH.
func fakeDot(t *testing.T, script string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake dot is a shell script")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dot"), []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestSVGDotFails(t *testing.T) {
	fakeDot(t, "echo 'Error: something went wrong' >&2; exit 3")
	_, err := visualize.SVG(visualize.DOT())
	require.Error(t, err)
	assert.Regexp(t, regexp.MustCompile(`-Tsvg failed \(exit status 3\): Error: something went wrong$`), err.Error())
}

func TestSVGTimeout(t *testing.T) {
	fakeDot(t, "[ -x /bin/sleep ] && exec /bin/sleep 10\nexec sleep 10")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := visualize.SVGContext(ctx, visualize.DOT())
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), err)
	assert.Contains(t, err.Error(), "did not finish")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// docs/states.svg is `foldersync graph --format svg`: every state, edge and event
// label of the current table is in it. (Layout coordinates vary with the Graphviz
// version, so the file is checked for content, not byte for byte.)
func TestDocsSVGIsCurrent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "states.svg"))
	require.NoError(t, err)
	svg := string(raw)
	stale := "docs/states.svg is stale: regenerate it with go run ./cmd/foldersync graph --format svg > docs/states.svg"
	// The text of the drawing, element after element: a wrapped label's lines join up.
	var texts []string
	for _, m := range svgText.FindAllStringSubmatch(svg, -1) {
		texts = append(texts, html.UnescapeString(m[1]))
	}
	all := strings.Join(strings.Fields(strings.Join(texts, " ")), " ")
	assert.Contains(t, all, "the states of one FolderSync session", stale)
	for _, e := range visualize.Edges() {
		assert.Contains(t, html.UnescapeString(svg), "<title>"+e.From.String()+"->"+e.To.String()+"</title>", stale)
		for _, l := range e.Labels {
			assert.Contains(t, all, l, stale)
		}
	}
}

var svgText = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)
