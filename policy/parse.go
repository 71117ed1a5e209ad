package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest policy file Load and Parse accept. A policy is a
// few dozen lines; anything near this size is a wrong file.
const MaxFileSize = 1 << 20

// Load reads a policy file: .json, .yaml or .yml. The policy starts from
// Default() (or from the preset named by a `preset:` key) and the keys in the
// file override it; the result is validated. A mistake in the file is a
// *ConfigError naming file, line, column and field; a file that cannot be
// read is the underlying *fs.PathError.
func Load(path string) (Policy, error) {
	if _, err := formatOf(path); err != nil {
		return Policy{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Policy{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Policy{}, err
	}
	return Parse(data, path)
}

// MustLoad is Load for examples and main functions: it panics on any error.
func MustLoad(path string) Policy {
	p, err := Load(path)
	if err != nil {
		panic(err)
	}
	return p
}

// Parse decodes a policy from data. The filename selects the format by its
// extension (.json is strict JSON; .yaml, .yml or no name is YAML, of which
// JSON is a subset) and appears in error messages. Both formats are read into
// one node tree and checked against one schema, so they accept the same keys
// and report the same errors. Every error is a *ConfigError: syntax errors,
// unknown keys (with a "did you mean" suggestion), wrong types, bare numbers
// for durations, empty values, duplicate keys, unknown presets and every rule
// of [Policy.Validate]. Type errors point at the value, the others at the key.
//
// Without a `name:` key, the policy's Name is the filename, or the preset
// name when filename is empty.
func Parse(data []byte, filename string) (Policy, error) {
	isJSON, err := formatOf(filename)
	if err != nil {
		return Policy{}, err
	}
	return parse(data, filename, isJSON)
}

func formatOf(filename string) (isJSON bool, err error) {
	switch ext := strings.ToLower(filepath.Ext(filename)); ext {
	case ".json":
		return true, nil
	case ".yaml", ".yml", "":
		return false, nil
	default:
		return false, &ConfigError{File: filename, Msg: fmt.Sprintf("unsupported file extension %q; name the file .json, .yaml or .yml", ext)}
	}
}

func parse(data []byte, file string, isJSON bool) (Policy, error) {
	if len(data) > MaxFileSize {
		return Policy{}, &ConfigError{File: file, Msg: fmt.Sprintf("file is larger than %d bytes; a policy is a few dozen lines, is this the right file?", MaxFileSize)}
	}
	if isJSON {
		if err := checkJSON(data, file); err != nil {
			return Policy{}, err
		}
		data = yamlEscapes(data)
	}
	root, err := parseNode(data, file)
	if err != nil {
		return Policy{}, err
	}
	return decodeNode(root, file)
}

// checkJSON rejects anything that is not strict JSON, with the position of
// the first offending byte.
func checkJSON(data []byte, file string) *ConfigError {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	if err == nil {
		return nil
	}
	e := &ConfigError{File: file, Msg: "invalid JSON: " + err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		e.Line, e.Column = lineCol(data, int(se.Offset)-1)
	}
	return e
}

// lineCol returns the 1-based line and column (in characters) of byte off.
func lineCol(data []byte, off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(data) {
		off = len(data)
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, 1 + utf8.RuneCount(before[start:])
}

// yamlEscapes rewrites the JSON string escapes that YAML's double-quoted
// style lacks: "\/" becomes "\u002F" and a UTF-16 surrogate pair becomes one
// "\UXXXXXXXX" escape (a lone surrogate becomes U+FFFD, as encoding/json
// decodes it). The input is valid JSON. Columns after a rewritten escape on
// the same line shift by a few characters.
func yamlEscapes(data []byte) []byte {
	if !bytes.Contains(data, []byte(`\/`)) && !bytes.Contains(bytes.ToLower(data), []byte(`\ud`)) {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			inString = c == '"'
			out = append(out, c)
		case c == '"':
			inString = false
			out = append(out, c)
		case c == '\\' && i+1 < len(data):
			switch data[i+1] {
			case '/':
				out = append(out, `\u002F`...)
				i++
			case 'u':
				r, n := surrogate(data[i:])
				if n == 0 {
					out = append(out, data[i], data[i+1])
					i++
					continue
				}
				out = fmt.Appendf(out, `\U%08X`, r)
				i += n - 1
			default:
				out = append(out, data[i], data[i+1])
				i++
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// surrogate decodes a \uXXXX escape at the start of b when it is a UTF-16
// surrogate, with its partner if there is one; n is 0 for any other escape.
func surrogate(b []byte) (r rune, n int) {
	hex := func(b []byte) (rune, bool) {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(b[2:6]), 16, 32)
		return rune(v), err == nil
	}
	hi, ok := hex(b)
	if !ok || hi < 0xD800 || hi > 0xDFFF {
		return 0, 0
	}
	if lo, ok := hex(b[6:]); ok && hi < 0xDC00 && lo >= 0xDC00 && lo <= 0xDFFF {
		return 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00), 12
	}
	return utf8.RuneError, 6
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseNode parses one YAML document into a node tree; it returns nil for an
// empty document.
func parseNode(data []byte, file string) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // yaml.v3 has panicked on hostile input before
			root, err = nil, &ConfigError{File: file, Msg: fmt.Sprintf("cannot parse: %v", r)}
		}
	}()
	syntax := func(err error) *ConfigError {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		e := &ConfigError{File: file, Msg: "syntax error: " + msg}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = "syntax error: " + m[2]
		}
		return e
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, syntax(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == io.EOF:
	case err != nil:
		return nil, syntax(err)
	default:
		e := &ConfigError{File: file, Line: extra.Line, Column: extra.Column,
			Msg: "a policy file holds one document; remove the second document (after ---) or move it to its own file"}
		return nil, e
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// pos is the position of a key in the file.
type pos struct{ line, col int }

type decoder struct {
	file    string
	pos     map[string]pos // dotted field path -> key position
	nameSet bool
}

func (d *decoder) at(n *yaml.Node, field, msg string) *ConfigError {
	return &ConfigError{File: d.file, Line: n.Line, Column: n.Column, Field: field, Msg: msg}
}

// decodeNode turns the root node of a policy document into a validated
// Policy.
func decodeNode(root *yaml.Node, file string) (Policy, error) {
	d := &decoder{file: file, pos: map[string]pos{}}
	p, err := d.policy(deref(root))
	if err != nil {
		return Policy{}, err
	}
	if !d.nameSet && file != "" {
		p.Name = file
	}
	if err := p.Validate(); err != nil {
		return Policy{}, d.locate(err.(*ConfigError))
	}
	return p, nil
}

// locate gives a Validate error the position of its field in the file: the
// field itself, else the other field the message names, else the nearest
// enclosing key.
func (d *decoder) locate(e *ConfigError) *ConfigError {
	e.File = d.file
	if _, ok := d.pos[e.Field]; !ok && e.alt != "" {
		if _, ok := d.pos[e.alt]; ok {
			e.Field, e.Msg = e.alt, e.altMsg
		}
	}
	for path := e.Field; path != ""; {
		if ps, ok := d.pos[path]; ok {
			e.Line, e.Column = ps.line, ps.col
			break
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return e
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func (d *decoder) policy(root *yaml.Node) (Policy, *ConfigError) {
	p := Default()
	if isNull(root) {
		return p, nil
	}
	if root.Kind != yaml.MappingNode {
		return Policy{}, d.at(root, "", "expected a mapping of keys to values, like `max_attempts: 10`, found "+describe(root))
	}
	// The preset is the base every other key overrides, so it comes first
	// wherever it is written.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := deref(root.Content[i]); k.Kind == yaml.ScalarNode && k.Value == "preset" {
			v := deref(root.Content[i+1])
			var name string
			if msg := scalarInto(schema.child("preset"), v, &name); msg != "" {
				return Policy{}, d.at(v, "preset", msg)
			}
			base, err := Preset(name)
			if err != nil {
				return Policy{}, d.at(v, "preset", fmt.Sprintf("unknown preset %q; use one of %s", name, strings.Join(Presets(), ", ")))
			}
			p = base
			break
		}
	}
	if err := d.object(schema, root, "", &p); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// key returns the text of a mapping key, or an error for keys that are not
// plain names.
func (d *decoder) key(k *yaml.Node, prefix string) (string, *ConfigError) {
	k = deref(k)
	if k.Kind != yaml.ScalarNode {
		return "", d.at(k, prefix, "keys must be plain names like max_attempts, found "+describe(k))
	}
	if k.ShortTag() == "!!merge" {
		return "", d.at(k, prefix, "merge keys (<<) are not supported; write the keys out")
	}
	return k.Value, nil
}

// pairs walks a mapping's key/value pairs, rejecting duplicate keys.
func (d *decoder) pairs(n *yaml.Node, prefix string, fn func(key string, k, v *yaml.Node) *ConfigError) *ConfigError {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key, err := d.key(k, prefix)
		if err != nil {
			return err
		}
		path := join(prefix, key)
		if line, dup := seen[key]; dup {
			return d.at(k, path, fmt.Sprintf("duplicate key %q (first at line %d); keep one of them", key, line))
		}
		seen[key] = k.Line
		if err := fn(key, k, v); err != nil {
			return err
		}
	}
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (d *decoder) object(f *field, n *yaml.Node, prefix string, p *Policy) *ConfigError {
	return d.pairs(n, prefix, func(key string, k, v *yaml.Node) *ConfigError {
		path := join(prefix, key)
		c := f.child(key)
		if c == nil {
			return d.at(k, path, unknownKey(key, f.children))
		}
		d.pos[path] = pos{k.Line, k.Column}
		if isNull(v) {
			return d.at(k, path, "has no value; give it one, or remove the key to keep the default")
		}
		switch c.kind {
		case kindObject:
			if v.Kind != yaml.MappingNode {
				return d.at(v, path, "expected a mapping of keys to values, like `"+c.children[0].key+": ...` on the next line, indented; found "+describe(v))
			}
			return d.object(c, v, path, p)
		case kindOverrides:
			return d.overrides(c, v, path, p)
		}
		if c.ptr == nil { // preset: applied before the walk
			return nil
		}
		if msg := scalarInto(c, v, c.ptr(p)); msg != "" {
			return d.at(v, path, msg)
		}
		if key == "name" && prefix == "" {
			d.nameSet = true
		}
		return nil
	})
}

func (d *decoder) overrides(c *field, n *yaml.Node, path string, p *Policy) *ConfigError {
	if n.Kind != yaml.MappingNode {
		return d.at(n, path, `expected a mapping of "kind:code" to settings, like "http:503": {max_retries: 5}; found `+describe(n))
	}
	m := make(map[string]Override, len(p.Overrides)+len(n.Content)/2)
	for k, o := range p.Overrides {
		m[k] = o
	}
	err := d.pairs(n, path, func(key string, k, v *yaml.Node) *ConfigError {
		if _, _, err := ParseOverrideKey(key); err != nil {
			return d.at(k, path, "key "+err.Error())
		}
		opath := join(path, key)
		d.pos[opath] = pos{k.Line, k.Column}
		if isNull(v) {
			return d.at(k, opath, "has no value; set retry, max_retries, initial or fatal, or remove it")
		}
		if v.Kind != yaml.MappingNode {
			return d.at(v, opath, "expected a mapping like {max_retries: 5}; found "+describe(v))
		}
		var o Override
		err := d.pairs(v, opath, func(fkey string, fk, fv *yaml.Node) *ConfigError {
			fpath := join(opath, fkey)
			var fd *field
			for _, x := range c.children {
				if x.key == fkey {
					fd = x
				}
			}
			if fd == nil {
				return d.at(fk, fpath, unknownKey(fkey, c.children))
			}
			d.pos[fpath] = pos{fk.Line, fk.Column}
			if isNull(fv) {
				return d.at(fk, fpath, "has no value; give it one or remove the key")
			}
			var dst any
			switch fkey {
			case "retry":
				o.Retry = new(bool)
				dst = o.Retry
			case "max_retries":
				o.MaxRetries = new(int)
				dst = o.MaxRetries
			case "initial":
				o.Initial = new(time.Duration)
				dst = o.Initial
			case "fatal":
				o.Fatal = new(bool)
				dst = o.Fatal
			}
			if msg := scalarInto(fd, fv, dst); msg != "" {
				return d.at(fv, fpath, msg)
			}
			return nil
		})
		if err != nil {
			return err
		}
		m[key] = o
		return nil
	})
	if err != nil {
		return err
	}
	if len(m) > 0 {
		p.Overrides = m
	}
	return nil
}

// scalarInto decodes a scalar node into dst according to the field's kind;
// it returns "" on success or what is wrong and what to write instead.
func scalarInto(f *field, v *yaml.Node, dst any) string {
	want := map[kind]string{
		kindDuration: "a duration like 30s, 1.5s or 2m",
		kindInt:      "a whole number like 3",
		kindInt64:    "a whole number like 42",
		kindFloat:    "a number like 2 or 0.5",
		kindBool:     "true or false",
		kindString:   "text like \"" + f.example + "\"",
	}[f.kind]
	if f.kind == kindString && f.example == "" {
		want = "text"
	}
	if v.Kind != yaml.ScalarNode {
		return "expected " + want + ", found " + describe(v)
	}
	tag := v.ShortTag()
	wrong := "expected " + want + ", found " + describe(v)
	switch dst := dst.(type) {
	case *time.Duration:
		if tag == "!!int" || tag == "!!float" {
			return fmt.Sprintf("%s is a bare number; add a unit, like %ss or %sms", v.Value, v.Value, v.Value)
		}
		if tag != "!!str" {
			return wrong
		}
		x, err := time.ParseDuration(v.Value)
		if err != nil {
			return fmt.Sprintf("%q is not a duration; expected %s (units ns, us, ms, s, m, h)", v.Value, want)
		}
		*dst = x
	case *int, *int64:
		if tag != "!!int" {
			return wrong
		}
		if err := v.Decode(dst); err != nil {
			return fmt.Sprintf("%s is out of range; expected %s", v.Value, want)
		}
	case *float64:
		if tag != "!!int" && tag != "!!float" {
			return wrong
		}
		if err := v.Decode(dst); err != nil {
			return fmt.Sprintf("%s is out of range; expected %s", v.Value, want)
		}
	case *bool:
		if tag != "!!bool" {
			return wrong
		}
		if err := v.Decode(dst); err != nil {
			return wrong
		}
	case *string:
		if tag != "!!str" {
			return wrong
		}
		*dst = v.Value
	}
	return ""
}

// describe names what a node holds, for "found ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if utf8.RuneCountInString(v) > 40 {
			v = string([]rune(v)[:40]) + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(v)
		}
		return v
	}
	return "nothing"
}

// unknownKey says a key is unknown and suggests the nearest known key.
func unknownKey(key string, known []*field) string {
	best, bestDist := "", 3
	names := make([]string, 0, len(known))
	for _, f := range known {
		names = append(names, f.key)
		dist := levenshtein(key, f.key)
		if normKey(key) == normKey(f.key) {
			dist = 0
		}
		if dist < bestDist {
			best, bestDist = f.key, dist
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key %q; did you mean %q?", key, best)
	}
	return fmt.Sprintf("unknown key %q; known keys here: %s", key, strings.Join(names, ", "))
}

func normKey(s string) string {
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
}

// levenshtein is the edit distance between a and b, in characters; long
// inputs are cut short since only distances up to 2 matter.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return 64
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
