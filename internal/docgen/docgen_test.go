package docgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/policy"
	"github.com/easkit/foldersync/transitions"
)

// root is the module root, seen from this package's directory.
const root = "../.."

// The committed documents are what the generator renders from the code today.
func TestDocsAreCurrent(t *testing.T) {
	docs, err := Generate(root)
	require.NoError(t, err)
	for _, rel := range []string{StatusCodesPath, PolicyPath, SpecTracePath} {
		want, ok := docs[rel]
		require.True(t, ok, "Generate renders %s", rel)
		have, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v; run `go generate ./...`", rel, err)
			continue
		}
		if string(have) != string(want) {
			t.Errorf("%s is stale: run `go generate ./...` and commit the result (%s)", rel, firstDifference(string(want), string(have)))
		}
	}
}

func firstDifference(want, have string) string {
	w, h := strings.Split(want, "\n"), strings.Split(have, "\n")
	for i := 0; i < len(w) || i < len(h); i++ {
		var wl, hl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(h) {
			hl = h[i]
		}
		if wl != hl {
			return fmt.Sprintf("first difference at line %d: generated %q, committed %q", i+1, clip(wl), clip(hl))
		}
	}
	return "they differ"
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// Every rule cited by docs/SPEC-TRACE.md is proven by tests and scenario files that
// exist, and every client-side rule has one.
func TestSpecTrace(t *testing.T) {
	rows, err := CheckSpecTrace(root)
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	sections := map[string]bool{}
	for _, r := range rows {
		sections[r.Section()] = true
	}
	for _, want := range []string{"MS-ASCMD 2.2.1.5", "MS-ASCMD 2.2.3.177.5", "MS-ASCMD 2.2.3.181.2", "MS-ASCMD 3.1.5.9",
		"MS-ASHTTP 3.1.5.1", "MS-ASHTTP 3.1.5.2.1", "MS-ASHTTP 3.1.5.2.2", "MS-ASHTTP 3.1.5.2.3", "MS-ASHTTP 3.1.5.2.4"} {
		assert.True(t, sections[want], "the trace covers %s", want)
	}
	// The FolderSync statuses whose resolution asks something of the client are traced.
	ids := map[string]bool{}
	for _, r := range rows {
		ids[r.ID] = true
	}
	for _, code := range []int{6, 9, 10, 11} {
		assert.True(t, ids["ASCMD-2.2.3.177.5-S"+strconv.Itoa(code)], "Status %d is traced", code)
	}
}

// The checker catches each kind of mistake, with the line and the rule named.
func TestSpecTraceCatchesMistakes(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("pkg/a_test.go", "package pkg\n\nimport \"testing\"\n\nfunc TestReal(t *testing.T) {}\n\nfunc helper() {}\n")
	write("testdata/scenarios/ok.txt", "# fine\n")
	write("testdata/scenarios/bug.txt", "# BUG: the engine retries\n")
	row := func(id, level, side, rule, status, tests string) string {
		return fmt.Sprintf("| %s | %s | %s | %s | %s | because | %s |\n", id, level, side, rule, status, tests)
	}
	good := row("ASCMD-3.1.5.9-R1", "MUST", "client", "“The client MUST do it.”", "honoured", "`pkg.TestReal` `testdata/scenarios/ok.txt`")
	cases := []struct {
		name, row, want string
	}{
		{"fine", good, ""},
		{"subtest", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`pkg.TestReal/with a sub.test`"), ""},
		{"server without tests", row("ASCMD-3.1.5.9-R1", "SHOULD", "server", "“It SHOULD.”", "server", ""), ""},
		{"missing function", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`pkg.TestGone`"), "test pkg.TestGone does not exist"},
		{"a helper is not a test", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`pkg.helper`"), "neither a scenario file"},
		{"missing package", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`nopkg.TestReal`"), "package nopkg"},
		{"missing scenario", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`testdata/scenarios/gone.txt`"), "gone.txt does not exist"},
		{"known bug as proof", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", "`testdata/scenarios/bug.txt`"), "keeps a known bug"},
		{"known bug pins a deviation", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "not honoured", "`testdata/scenarios/bug.txt`"), ""},
		{"client rule without test", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "honoured", ""), "needs at least one test"},
		{"unknown status", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "mostly", "`pkg.TestReal`"), `status "mostly"`},
		{"server status on a client rule", row("ASCMD-3.1.5.9-R1", "MUST", "client", "“MUST”", "server", "`pkg.TestReal`"), "status server, and only it"},
		{"keyword not quoted", row("ASCMD-3.1.5.9-R1", "SHOULD", "client", "“The client does it.”", "honoured", "`pkg.TestReal`"), "must quote the spec's SHOULD"},
		{"not a quote", row("ASCMD-3.1.5.9-R1", "MUST", "client", "the client MUST", "honoured", "`pkg.TestReal`"), "quoted from the spec"},
		{"bad id", row("MS-ASCMD 3.1.5.9", "MUST", "client", "“MUST”", "honoured", "`pkg.TestReal`"), "is not like"},
		{"duplicate id", good + good, "already used on line 5"},
		{"wrong shape", "| ASCMD-3.1.5.9-R1 | MUST | client |\n", "needs 7 cells"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			write(SpecTracePath, "# x\n\n"+TraceHeader+"\n|---|---|---|---|---|---|---|\n"+c.row+"\nafter the table\n")
			_, err := CheckSpecTrace(dir)
			if c.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), SpecTracePath+":")
		})
	}
	t.Run("no table", func(t *testing.T) {
		_, err := ParseSpecTrace([]byte("# nothing here\n"))
		assert.ErrorContains(t, err, "no trace table")
	})
	t.Run("no summary markers", func(t *testing.T) {
		_, err := RefreshSpecTrace([]byte(TraceHeader + "\n|---|\n" + good))
		assert.ErrorContains(t, err, "around its summary")
	})
}

func TestSplitRow(t *testing.T) {
	assert.Equal(t, []string{"a"}, splitRow("| a |"))
	assert.Equal(t, []string{"a", "b | c", ""}, splitRow(`| a | b \| c | |`))
}

func TestSplitTestRef(t *testing.T) {
	for ref, want := range map[string][2]string{
		"machine.TestScenario":                    {"machine", "TestScenario"},
		"transport/httpeas.TestE2ERedirects":      {"transport/httpeas", "TestE2ERedirects"},
		"machine.TestScenario/x-ms-rp-reset.v2":   {"machine", "TestScenario"},
		"wbxml.FuzzDecode":                        {"wbxml", "FuzzDecode"},
		"cmd/foldersync.ExampleMain/with.a.dot.x": {"cmd/foldersync", "ExampleMain"},
	} {
		pkg, fn, ok := splitTestRef(ref)
		assert.True(t, ok, ref)
		assert.Equal(t, want, [2]string{pkg, fn}, ref)
	}
	for _, ref := range []string{"machine", "machine.helper", ".TestX", "TestX"} {
		_, _, ok := splitTestRef(ref)
		assert.False(t, ok, ref)
	}
}

// STATUS-CODES.md lists every classification rule and every row of the table.
func TestStatusCodesCoverTheTable(t *testing.T) {
	doc, err := StatusCodes(root, policy.Default())
	require.NoError(t, err)
	s := string(doc)
	for _, r := range transitions.Rules() {
		code := strconv.Itoa(r.Code)
		if r.Source == transitions.TransportCondition {
			code = r.Name
		}
		assert.Contains(t, s, "\n| "+code+" | ", "%v is listed", r)
	}
	for _, e := range transitions.Events() {
		assert.Contains(t, s, "\n### "+e.String()+"\n", "event %v has a section", e)
	}
	for _, g := range guardsInTable() {
		assert.Contains(t, s, "| `"+string(g)+"` |", "guard %s is listed", g)
	}
	rows := strings.Count(s[strings.Index(s, "## The table"):], "\n| ")
	assert.Equal(t, len(transitions.Rows())+1, rows, "every row of the table, and the header")
	// The numbers come from the policy: another policy, other numbers.
	p := policy.Default()
	p.TransientBeforeReset = 5
	other, err := StatusCodes(root, p)
	require.NoError(t, err)
	assert.Contains(t, string(other), "At the 5th consecutive transient failure")
	assert.Contains(t, s, "At the 3rd consecutive transient failure")
}

// POLICY.md documents every key of the file format, with every preset's value.
func TestPolicyDocCoversEveryKey(t *testing.T) {
	doc, err := PolicyDoc(root)
	require.NoError(t, err)
	s := string(doc)
	_, f, err := parseFile(root, "policy/policy.go")
	require.NoError(t, err)
	fields, err := policyFields(f)
	require.NoError(t, err)
	require.NotEmpty(t, fields)
	for _, fl := range fields {
		assert.Regexp(t, `(?m)^#{3,4} `+fl.key+`$`, s, "%s has a section", fl.key)
		if !fl.group {
			assert.Contains(t, s, "[`"+fl.key+"`](#"+anchor(fl.key)+")", "%s is in the table", fl.key)
		}
	}
	for _, name := range policy.Presets() {
		assert.Contains(t, s, "| `"+name+"` |", "preset %s is described", name)
	}
	assert.Contains(t, s, "### preset\n")
}

func TestRewriteDoc(t *testing.T) {
	names := map[string]string{"MaxAttempts": "max_attempts", "Backoff.Initial": "backoff.initial", "RequestTimeout": "resend.request_timeout"}
	assert.Equal(t, "Set it to `max_attempts` or more; see `Policy.RequestTimeout` and `Default`.",
		rewriteDoc("Set it to MaxAttempts or more; see [Policy.RequestTimeout] and [Default].", names))
	assert.Equal(t, "`backoff.initial` and FolderSync", rewriteDoc("Backoff.Initial and FolderSync", names))
	assert.Equal(t, "`max_attempts` is", subject("MaxAttempts is", "MaxAttempts", "max_attempts"))
	assert.Equal(t, "Maximum", subject("Maximum", "Max", "max"))
}

func TestHelpers(t *testing.T) {
	assert.Equal(t, "101-109, 111, 114, Timeout", compactCodes([]string{"Timeout", "114", "111", "101", "102", "103", "104", "105", "106", "107", "108", "109"}))
	assert.Equal(t, "6, 8", compactCodes([]string{"8", "6"}))
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd"} {
		assert.Equal(t, want, ordinal(n))
	}
	assert.Equal(t, "[A](https://x/y); B; [MS-ASCMD 3.1.5.9 Handling Status Errors]("+knownLinks["MS-ASCMD 3.1.5.9 Handling Status Errors"]+")",
		specLinks("A https://x/y ; B ; MS-ASCMD 3.1.5.9 Handling Status Errors"))
	assert.Equal(t, `a \| b c`, cell("a | b\n c"))
	assert.Equal(t, "foldersync-statuses", anchor("FolderSync statuses"))
	assert.Equal(t, "backoffmax_interval", anchor("backoff.max_interval"))
}
