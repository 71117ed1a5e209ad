package wbxml_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
	"github.com/easkit/foldersync/wbxml/internal/codepagegen"
)

// TestGeneratedCodePagesCurrent fails when codepages_gen.go is not what the
// generator makes of codepages.tsv: run `go generate ./wbxml`.
func TestGeneratedCodePagesCurrent(t *testing.T) {
	tsv, err := os.ReadFile("codepages.tsv")
	require.NoError(t, err)
	want, err := codepagegen.Generate(bytes.NewReader(tsv))
	require.NoError(t, err)
	got, err := os.ReadFile("codepages_gen.go")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "codepages_gen.go is stale: run `go generate ./wbxml`")
}

// TestCodePagesMatchSpec checks the data file against the spec table it was derived
// from (shared/spec), and the generated tables against both.
func TestCodePagesMatchSpec(t *testing.T) {
	spec, err := os.ReadFile(filepath.Join(testutil.SharedDir(t), "spec", "ms-aswbxml-codepages.tsv"))
	require.NoError(t, err)
	ours, err := os.ReadFile("codepages.tsv")
	require.NoError(t, err)
	assert.Equal(t, string(spec), string(ours), "wbxml/codepages.tsv must equal shared/spec/ms-aswbxml-codepages.tsv")

	table, err := codepagegen.Parse(bytes.NewReader(ours))
	require.NoError(t, err)
	assert.Len(t, table.Entries, 608)
	for _, e := range table.Entries {
		tag, ok := wbxml.LookupTag(e.Namespace, e.Name)
		require.True(t, ok, "%s:%s", e.Namespace, e.Name)
		assert.Equal(t, wbxml.Tag{Page: uint8(e.Page), Token: uint8(e.Token)}, tag)
		assert.Equal(t, wbxml.Versions(e.Versions), tag.Versions())
	}
	for p := 0; p < wbxml.NumPages; p++ {
		assert.Equal(t, table.Namespaces[p], wbxml.PageNamespace(uint8(p)))
	}
	assert.Equal(t, "FolderHierarchy", wbxml.PageNamespace(7))
	assert.Equal(t, "Find", wbxml.PageNamespace(25), "page 25 (Find, 16.1) is there")
}

func TestCodePageGeneratorRejectsBadTables(t *testing.T) {
	header := "page\tnamespace\ttoken_hex\ttag_name\tprotocol_versions\tlibwbxml_0.11.8_name\n"
	for name, body := range map[string]string{
		"bad header":      "nope\n",
		"short row":       header + "0\tAirSync\t0x05\n",
		"bad page":        header + "26\tX\t0x05\tA\tAll\tA\n",
		"bad token":       header + "0\tAirSync\t0x04\tA\tAll\tA\n",
		"duplicate token": header + "0\tAirSync\t0x05\tA\tAll\tA\n0\tAirSync\t0x05\tB\tAll\tB\n",
		"duplicate name":  header + "0\tAirSync\t0x05\tA\tAll\tA\n0\tAirSync\t0x06\tA\tAll\tA\n",
		"unknown version": header + "0\tAirSync\t0x05\tA\t13.0\tA\n",
		"two namespaces":  header + "0\tAirSync\t0x05\tA\tAll\tA\n0\tOther\t0x06\tB\tAll\tB\n",
		"missing pages":   header + "0\tAirSync\t0x05\tA\tAll\tA\n",
		"empty tag name":  header + "0\tAirSync\t0x05\t\tAll\tA\n",
	} {
		_, err := codepagegen.Generate(bytes.NewReader([]byte(body)))
		assert.Error(t, err, name)
	}
}
