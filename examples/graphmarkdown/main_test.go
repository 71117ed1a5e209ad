package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/visualize"
)

func TestMarkdown(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	doc := out.String()

	// The mermaid block is exactly what visualize renders, fenced once.
	assert.Equal(t, 2, strings.Count(doc, "```\n")+strings.Count(doc, "```mermaid\n"), "fences")
	_, rest, ok := strings.Cut(doc, "```mermaid\n")
	require.True(t, ok, "no mermaid block")
	block, _, ok := strings.Cut(rest, "```\n")
	require.True(t, ok, "the mermaid block is not closed")
	assert.Equal(t, strings.TrimRight(visualize.Mermaid(), "\n")+"\n", block)
	assert.True(t, strings.HasPrefix(block, "stateDiagram-v2\n"))

	// One row per state, with its description and flags.
	for _, line := range []string{
		"| `idle` | the stored SyncKey is loaded and no request has been sent yet |  |  | `awaiting`, `resetting`, `failed` |\n",
		"| `awaiting` | a FolderSync request is in flight: waiting for the response, a transport error or the timeout | yes |  | `retrying`, `resetting`, `failed`, `synced` |\n",
		"| `synced` | the new SyncKey and the folder changes were committed together |  | yes | (the session is over) |\n",
		"6 states, 11 arrows.\n",
	} {
		assert.Contains(t, doc, line)
	}
	for _, s := range states.All() {
		assert.Contains(t, doc, "| `"+s.String()+"` | "+s.Description()+" |")
	}
}

func TestWritesTheFileTheFlagNames(t *testing.T) {
	var stdout bytes.Buffer
	require.NoError(t, emit("", &stdout))

	path := filepath.Join(t.TempDir(), "STATES.md")
	var none bytes.Buffer
	require.NoError(t, emit(path, &none))
	assert.Empty(t, none.String(), "with -o nothing goes to stdout")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, stdout.String(), string(got))

	require.Error(t, emit(filepath.Join(t.TempDir(), "missing", "STATES.md"), &none))
}
