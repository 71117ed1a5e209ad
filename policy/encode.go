package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// YAML writes the effective policy in the file format, with a comment per
// field saying what it does and why its default is what it is (used by
// `foldersync policy show`). The output parses back to the same Policy.
func (p Policy) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	doc := &yaml.Node{
		Kind: yaml.DocumentNode,
		HeadComment: comment(fmt.Sprintf("FolderSync session policy %q (effective values). "+
			"Durations need a unit: 500ms, 30s, 2m, 1h. Any key may be left out to keep its default; "+
			"`preset: interactive` or `preset: background` changes the defaults.", p.Name), ""),
		Content: []*yaml.Node{p.node(true)},
	}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalYAML makes yaml.v3 write a Policy in the file format, with
// comments, exactly as [Policy.YAML] does.
func (p Policy) MarshalYAML() (any, error) {
	return p.node(true), nil
}

// UnmarshalYAML makes yaml.v3 read a Policy in the file format, with every
// check of [Parse]; a policy embedded in a larger YAML document starts from
// Default() like a file does.
func (p *Policy) UnmarshalYAML(n *yaml.Node) error {
	q, err := decodeNode(n, "")
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// MarshalJSON writes the policy in the file format (lower_snake_case keys,
// durations as strings like "30s"), so the output parses back with [Parse].
func (p Policy) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := nodeJSON(&buf, p.node(false)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a policy in the file format with every check of
// [Parse], starting from Default().
func (p *Policy) UnmarshalJSON(data []byte) error {
	q, err := parse(data, "", true)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// node builds the mapping node of the policy from the schema.
func (p Policy) node(comments bool) *yaml.Node {
	return objectNode(schema, &p, comments)
}

func objectNode(f *field, p *Policy, comments bool) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, c := range f.children {
		if c.noWrite {
			continue
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: c.key}
		if comments {
			k.HeadComment = comment(c.doc, "")
		}
		var v *yaml.Node
		switch c.kind {
		case kindObject:
			v = objectNode(c, p, comments)
		case kindOverrides:
			v = overridesNode(p.Overrides)
		default:
			v = scalarNode(c.ptr(p))
		}
		m.Content = append(m.Content, k, v)
	}
	return m
}

func overridesNode(ovs map[string]Override) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(ovs) == 0 {
		m.Style = yaml.FlowStyle
	}
	keys := make([]string, 0, len(ovs))
	for k := range ovs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o := ovs[k]
		om := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		add := func(key string, v any) {
			om.Content = append(om.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, scalarNode(v))
		}
		if o.Retry != nil {
			add("retry", o.Retry)
		}
		if o.MaxRetries != nil {
			add("max_retries", o.MaxRetries)
		}
		if o.Initial != nil {
			add("initial", o.Initial)
		}
		if o.Fatal != nil {
			add("fatal", o.Fatal)
		}
		m.Content = append(m.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Style: yaml.DoubleQuotedStyle}, om)
	}
	return m
}

// scalarNode writes one value. Numbers and booleans are plain (untagged) so
// the encoder never adds an explicit tag; strings are tagged !!str so that a
// name like "true" is quoted.
func scalarNode(v any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	switch x := v.(type) {
	case *time.Duration:
		n.Tag, n.Value = "!!str", FormatDuration(*x)
	case *int:
		n.Value = strconv.Itoa(*x)
	case *int64:
		n.Value = strconv.FormatInt(*x, 10)
	case *float64:
		switch {
		case math.IsNaN(*x):
			n.Value = ".nan"
		case math.IsInf(*x, 1):
			n.Value = ".inf"
		case math.IsInf(*x, -1):
			n.Value = "-.inf"
		default:
			n.Value = formatFloat(*x)
		}
	case *bool:
		n.Value = strconv.FormatBool(*x)
	case *string:
		n.Tag, n.Value = "!!str", *x
	}
	return n
}

// nodeJSON writes a node tree built by objectNode as JSON.
func nodeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			buf.Write(k)
			buf.WriteByte(':')
			if err := nodeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			s, _ := json.Marshal(n.Value)
			buf.Write(s)
			return nil
		}
		if strings.HasSuffix(n.Value, "inf") || n.Value == ".nan" {
			return fmt.Errorf("policy: cannot write %s as JSON; fix the policy (Validate reports it)", n.Value)
		}
		buf.WriteString(n.Value)
	}
	return nil
}

// comment turns text into "# " lines of at most about 100 characters.
func comment(text, indent string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > 98 {
			lines = append(lines, indent+"# "+line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, indent+"# "+line)
	}
	return strings.Join(lines, "\n")
}
