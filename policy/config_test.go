package policy

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite schema.json and testdata/invalid.golden")

func TestLoadValidFiles(t *testing.T) {
	tests := []struct {
		file   string
		preset string
	}{
		{"testdata/default.yaml", "default"},
		{"testdata/interactive.json", "interactive"},
		{"testdata/background.yaml", "background"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := Load(tt.file)
			require.NoError(t, err)
			want, err := Preset(tt.preset)
			require.NoError(t, err)
			want.Name = tt.file
			assert.Equal(t, want, p)
		})
	}
}

func TestJSONAndYAMLEquivalent(t *testing.T) {
	y, err := Load("testdata/custom.yaml")
	require.NoError(t, err)
	j, err := Load("testdata/custom.json")
	require.NoError(t, err)
	assert.Equal(t, y, j)

	want, _ := Preset("interactive")
	want.Name = "lab"
	want.Backoff.Initial = 750 * time.Millisecond
	want.Backoff.Jitter = 0
	want.MaxAttempts = 8
	want.Resend.RequestTimeout = 20 * time.Second
	want.Seed = -42
	want.Overrides = map[string]Override{
		"http:503":      {MaxRetries: ptr(5), Initial: ptr(2 * time.Second)},
		"foldersync:12": {Fatal: ptr(true)},
		"common:111":    {Retry: ptr(false)},
	}
	assert.Equal(t, want, y)

	// Inline pairs: the same content written both ways.
	pairs := []struct{ yaml, json string }{
		{"", "{}"},
		{"seed: 9", `{"seed": 9}`},
		{"backoff: {max_elapsed: 0s}\nverify_after_lost_response: false", `{"backoff": {"max_elapsed": "0s"}, "verify_after_lost_response": false}`},
		{"preset: background\nreset_guard:\n  window: 90m", `{"preset": "background", "reset_guard": {"window": "1h30m"}}`},
		{"name: \"x/y\"", `{"name": "x\/y"}`},
		{"name: \"\U0001F600\"", `{"name": "\ud83d\ude00"}`},
	}
	for _, pr := range pairs {
		py, err := Parse([]byte(pr.yaml), "")
		require.NoError(t, err, pr.yaml)
		pj, err := Parse([]byte(pr.json), "p.json")
		require.NoError(t, err, pr.json)
		pj.Name = py.Name
		if strings.Contains(pr.json, "name") {
			pj, _ = Parse([]byte(pr.json), "p.json")
		}
		assert.Equal(t, py, pj, pr.json)
	}
}

func TestParseNames(t *testing.T) {
	p, err := Parse([]byte("preset: interactive"), "")
	require.NoError(t, err)
	assert.Equal(t, "interactive", p.Name)
	p, err = Parse(nil, "")
	require.NoError(t, err)
	assert.Equal(t, Default(), p)
	p, err = Parse([]byte("# nothing but a comment\n"), "site.yml")
	require.NoError(t, err)
	assert.Equal(t, "site.yml", p.Name)
	p, err = Parse([]byte("name: lab\n"), "site.yml")
	require.NoError(t, err)
	assert.Equal(t, "lab", p.Name)
	// The preset is applied first wherever it is written.
	p, err = Parse([]byte("max_attempts: 4\npreset: background\n"), "")
	require.NoError(t, err)
	assert.Equal(t, 4, p.MaxAttempts)
	assert.Equal(t, time.Hour, p.Backoff.MaxElapsed)
	// Aliases resolve.
	p, err = Parse([]byte("backoff: {initial: &d 3s, max_interval: *d}\n"), "")
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, p.Backoff.MaxInterval)
}

func TestRoundTrip(t *testing.T) {
	custom, err := Load("testdata/custom.yaml")
	require.NoError(t, err)
	odd := Default()
	odd.Name = "true" // must be quoted to stay a string
	odd.Backoff.Multiplier = 1.0000001
	odd.Backoff.Jitter = 1e-7
	odd.Backoff.Initial = 1500*time.Millisecond + 3
	odd.Backoff.MaxInterval = 90 * time.Minute
	odd.Seed = -9223372036854775808
	policies := []Policy{custom, odd}
	for _, name := range Presets() {
		p, _ := Preset(name)
		policies = append(policies, p)
	}
	for _, p := range policies {
		t.Run(p.Name, func(t *testing.T) {
			out, err := p.YAML()
			require.NoError(t, err)
			back, err := Parse(out, "")
			require.NoError(t, err, string(out))
			assert.Equal(t, p, back)

			viaMarshal, err := yaml.Marshal(p)
			require.NoError(t, err)
			var back2 Policy
			require.NoError(t, yaml.Unmarshal(viaMarshal, &back2))
			assert.Equal(t, p, back2)

			js, err := json.Marshal(p)
			require.NoError(t, err)
			var back3 Policy
			require.NoError(t, json.Unmarshal(js, &back3), string(js))
			assert.Equal(t, p, back3)
		})
	}
}

func TestYAMLHasCommentPerField(t *testing.T) {
	out, err := Default().YAML()
	require.NoError(t, err)
	lines := strings.Split(string(out), "\n")
	walkFields(schema, "", func(path string, f *field) {
		if f.noWrite {
			return
		}
		key := f.key + ":"
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), key) {
				require.Greater(t, i, 0)
				assert.True(t, strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#"), "no comment above %s", path)
				return
			}
		}
		t.Errorf("%s not written", path)
	})
}

func TestMarshalJSONRejectsNonFinite(t *testing.T) {
	p := Default()
	p.Backoff.Jitter = 1e400 * 0 // NaN needs a non-constant expression
	p.Backoff.Multiplier = float64(p.MaxAttempts) / 0.0
	_, err := json.Marshal(p)
	require.Error(t, err)
}

// TestConfigErrors checks each kind of mistake: its exact position, field and
// message; the full messages are also in testdata/invalid.golden.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		file         string
		line, column int
		field        string
		contains     string
	}{
		{"multiplier.yaml", 7, 3, "backoff.multiplier", "0.5 is less than 1"},
		{"unknown_key.yaml", 3, 3, "backoff.multiplyer", `did you mean "multiplier"?`},
		{"unknown_key.json", 2, 3, "maxAttempts", `did you mean "max_attempts"?`},
		{"unknown_key_far.yaml", 1, 1, "retries", "known keys here: preset, name, backoff"},
		{"wrong_type_duration.yaml", 2, 20, "resend.request_timeout", "expected a duration like 30s"},
		{"bare_number_duration.json", 1, 21, "retry_after_cap", "600 is a bare number; add a unit"},
		{"wrong_type_int.yaml", 1, 15, "max_attempts", "expected a whole number like 3, found 2.5"},
		{"wrong_type_float.yaml", 2, 11, "backoff.jitter", `expected a number like 2 or 0.5, found "0.2"`},
		{"wrong_type_bool.yaml", 1, 29, "verify_after_lost_response", `expected true or false, found "yes"`},
		{"wrong_type_mapping.yaml", 1, 14, "reset_guard", "expected a mapping"},
		{"wrong_type_list.yaml", 1, 7, "seed", "found a list"},
		{"not_mapping.yaml", 1, 1, "", "expected a mapping of keys to values"},
		{"null_value.yaml", 2, 3, "backoff.initial", "has no value"},
		{"duplicate_key.yaml", 3, 1, "max_attempts", `duplicate key "max_attempts" (first at line 1)`},
		{"duplicate_key.json", 2, 32, "backoff.initial", `duplicate key "initial" (first at line 2)`},
		{"syntax.yaml", 2, 0, "", "syntax error"},
		{"syntax.json", 3, 1, "", "invalid JSON"},
		{"unknown_preset.yaml", 1, 9, "preset", `unknown preset "agressive"; use one of default, interactive, background`},
		{"cross_field.yaml", 3, 3, "backoff.initial", "20s is more than backoff.max_interval (10s)"},
		{"negative_duration.yaml", 2, 3, "reset_guard.window", "-1h is negative"},
		{"jitter_range.json", 1, 14, "backoff.jitter", "1.5 is more than 1"},
		{"override_key.yaml", 3, 3, "overrides", `key "smtp:25" has unknown kind "smtp"`},
		{"override_conflict.yaml", 4, 5, "overrides.foldersync:6.fatal", "true contradicts retry: true"},
		{"override_unknown_field.yaml", 2, 16, "overrides.http:500.max_retires", `did you mean "max_retries"?`},
		{"override_empty.json", 1, 16, "overrides.common:111", "sets nothing"},
		{"two_documents.yaml", 2, 1, "", "one document"},
	}
	files, err := filepath.Glob("testdata/invalid/*")
	require.NoError(t, err)
	assert.Len(t, files, len(tests), "every invalid file has a row here")

	var golden strings.Builder
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := "testdata/invalid/" + tt.file
			_, err := Load(path)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, path, ce.File)
			assert.Equal(t, tt.line, ce.Line, "line")
			assert.Equal(t, tt.column, ce.Column, "column")
			assert.Equal(t, tt.field, ce.Field)
			assert.Contains(t, ce.Msg, tt.contains)
			golden.WriteString(err.Error() + "\n")
		})
	}
	checkGolden(t, "testdata/invalid.golden", []byte(golden.String()))
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./policy -update to create it")
	assert.Equal(t, string(want), string(got), "%s is stale; run go test ./policy -update and review the diff", path)
}

func TestLoadErrors(t *testing.T) {
	_, err := Load("testdata/policy.toml")
	require.EqualError(t, err, `testdata/policy.toml: unsupported file extension ".toml"; name the file .json, .yaml or .yml`)
	_, err = Load("testdata/missing.yaml")
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Panics(t, func() { MustLoad("testdata/invalid/syntax.yaml") })
	assert.NotPanics(t, func() { MustLoad("testdata/default.yaml") })

	big := make([]byte, MaxFileSize+1)
	_, err = Parse(big, "big.yaml")
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Msg, "larger than")

	_, err = Parse([]byte("seed: 99999999999999999999"), "p.yaml")
	require.EqualError(t, err, "p.yaml:1:7: seed: expected a whole number like 42, found 99999999999999999999")
	_, err = Parse([]byte("backoff: {initial: 1x}"), "p.yaml")
	require.EqualError(t, err, `p.yaml:1:20: backoff.initial: "1x" is not a duration; expected a duration like 30s, 1.5s or 2m (units ns, us, ms, s, m, h)`)
	_, err = Parse([]byte("<<: {seed: 1}"), "p.yaml")
	require.EqualError(t, err, "p.yaml:1:1: merge keys (<<) are not supported; write the keys out")
	_, err = Parse([]byte("? [a]\n: 1\n"), "p.yaml")
	require.EqualError(t, err, "p.yaml:1:3: keys must be plain names like max_attempts, found a list")
	_, err = Parse([]byte(""), "p.json")
	require.EqualError(t, err, "p.json:1:1: invalid JSON: unexpected end of JSON input")

	var p Policy
	err = yaml.Unmarshal([]byte("seed: x"), &p)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, `1:7: seed: expected a whole number like 42, found "x"`, err.Error())
	err = json.Unmarshal([]byte(`{"seed": "x"}`), &p)
	require.ErrorAs(t, err, &ce)
}

func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		err  ConfigError
		want string
	}{
		{ConfigError{File: "policy.yaml", Line: 7, Column: 3, Field: "backoff.multiplier", Msg: "m"}, "policy.yaml:7:3: backoff.multiplier: m"},
		{ConfigError{File: "policy.yaml", Line: 7, Msg: "m"}, "policy.yaml:7: m"},
		{ConfigError{File: "policy.yaml", Msg: "m"}, "policy.yaml: m"},
		{ConfigError{Line: 2, Column: 1, Msg: "m"}, "2:1: m"},
		{ConfigError{Field: "seed", Msg: "m"}, "seed: m"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

func TestSchemaJSON(t *testing.T) {
	got, err := JSONSchema()
	require.NoError(t, err)
	checkGolden(t, "schema.json", got)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(got, &doc))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"])
}

// TestStructTagsMatchSchema keeps the yaml/json tags of the structs and the
// keys of the file schema in step.
func TestStructTagsMatchSchema(t *testing.T) {
	var check func(typ reflect.Type, f *field, prefix string)
	check = func(typ reflect.Type, f *field, prefix string) {
		var tags, keys []string
		for i := 0; i < typ.NumField(); i++ {
			sf := typ.Field(i)
			y, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			j, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			assert.Equal(t, y, j, "%s%s: yaml and json tags differ", prefix, sf.Name)
			tags = append(tags, y)
			if c := f.child(y); c != nil && c.kind == kindObject {
				check(sf.Type, c, prefix+y+".")
			}
		}
		for _, c := range f.children {
			if !c.noWrite {
				keys = append(keys, c.key)
			}
		}
		sort.Strings(tags)
		sort.Strings(keys)
		assert.Equal(t, keys, tags, "fields of %s", typ)
	}
	check(reflect.TypeOf(Policy{}), schema, "")
	check(reflect.TypeOf(Override{}), &field{children: overrideFields}, "overrides.")
}

// TestOverrideCodesFromTable reads transitions/statuscodes.tsv (at test time
// only): every status the table knows can be overridden, and every override
// written in testdata names a status the table knows.
func TestOverrideCodesFromTable(t *testing.T) {
	f, err := os.Open("../transitions/statuscodes.tsv")
	require.NoError(t, err)
	defer f.Close()
	known := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "kind" {
			continue
		}
		code, err := strconv.Atoi(cols[1])
		require.NoError(t, err, sc.Text())
		key := OverrideKey(cols[0], code)
		known[key] = true
		p := Default()
		p.Overrides = map[string]Override{key: {MaxRetries: ptr(1)}}
		assert.NoError(t, p.Validate(), key)
	}
	require.NoError(t, sc.Err())
	assert.Len(t, known, 6+1+78+14, "row counts from statuscodes.md")

	files, _ := filepath.Glob("testdata/*.*")
	for _, file := range files {
		p, err := Load(file)
		if err != nil {
			continue // golden files and the like
		}
		for key := range p.Overrides {
			assert.True(t, known[key], "%s: override %s is not in transitions/statuscodes.tsv", file, key)
		}
	}
	// The sample in the package documentation, too.
	for _, key := range []string{"http:503", "foldersync:12", "foldersync:6", "common:111", "http:500"} {
		assert.True(t, known[key], key)
	}
}
