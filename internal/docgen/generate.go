package docgen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/easkit/foldersync/policy"
)

//go:generate go run ./cmd/docgen -root ../..

// The documents Generate renders, relative to the module root.
const (
	StatusCodesPath = "docs/STATUS-CODES.md"
	PolicyPath      = "docs/POLICY.md"
	SpecTracePath   = "docs/SPEC-TRACE.md"
)

// Generate renders every generated document of the module rooted at root and
// returns them keyed by their path relative to root (slash-separated). It reads
// policy/policy.go, transitions/table.go and docs/SPEC-TRACE.md from root; it
// writes nothing.
func Generate(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	sc, err := StatusCodes(root, policy.Default())
	if err != nil {
		return nil, err
	}
	out[StatusCodesPath] = sc
	pd, err := PolicyDoc(root)
	if err != nil {
		return nil, err
	}
	out[PolicyPath] = pd
	trace, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(SpecTracePath)))
	if err != nil {
		return nil, fmt.Errorf("docgen: %s is written by hand; it must exist: %w", SpecTracePath, err)
	}
	st, err := RefreshSpecTrace(trace)
	if err != nil {
		return nil, err
	}
	out[SpecTracePath] = st
	return out, nil
}

// Write renders the documents and writes those whose content changed. It returns
// the paths it wrote, sorted.
func Write(root string) ([]string, error) {
	docs, err := Generate(root)
	if err != nil {
		return nil, err
	}
	var wrote []string
	for rel, data := range docs {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		wrote = append(wrote, rel)
	}
	sort.Strings(wrote)
	return wrote, nil
}

// cell makes text safe inside one Markdown table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// oneLine joins the lines of a comment into one paragraph.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
