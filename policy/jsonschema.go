package policy

import (
	"bytes"
	"encoding/json"
	"regexp"
	"time"
)

//go:generate go test -run ^TestSchemaJSON$ . -update

// durationPattern matches the durations the file format accepts, as far as a
// regular expression can (time.ParseDuration decides): "0", "1.5s", "1h30m".
const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`

// overrideKeyPattern matches an Overrides key; ParseOverrideKey decides.
const overrideKeyPattern = `^(foldersync|legacy|common|http):[1-9][0-9]{0,2}$`

var _ = regexp.MustCompile(durationPattern) // keep the patterns valid
var _ = regexp.MustCompile(overrideKeyPattern)

// jsonSchema is the subset of JSON Schema (draft 2020-12) the policy needs;
// field order here is the order in schema.json.
type jsonSchema struct {
	Schema               string      `json:"$schema,omitempty"`
	ID                   string      `json:"$id,omitempty"`
	Title                string      `json:"title,omitempty"`
	Description          string      `json:"description,omitempty"`
	Type                 string      `json:"type,omitempty"`
	Enum                 []string    `json:"enum,omitempty"`
	Pattern              string      `json:"pattern,omitempty"`
	Minimum              *float64    `json:"minimum,omitempty"`
	ExclusiveMinimum     *float64    `json:"exclusiveMinimum,omitempty"`
	Maximum              *float64    `json:"maximum,omitempty"`
	Default              any         `json:"default,omitempty"`
	Properties           properties  `json:"properties,omitempty"`
	PropertyNames        *jsonSchema `json:"propertyNames,omitempty"`
	AdditionalProperties any         `json:"additionalProperties,omitempty"`
}

type property struct {
	name   string
	schema *jsonSchema
}

// properties keeps the schema's key order in the output.
type properties []property

func (ps properties) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(p.name)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := json.Marshal(p.schema)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// JSONSchema returns the JSON Schema (draft 2020-12) of the policy file
// format, for editors. It is generated from the same schema description that
// Parse walks; the committed policy/schema.json is its output.
func JSONSchema() ([]byte, error) {
	def := Default()
	root := objectSchema(schema, &def)
	root.Schema = "https://json-schema.org/draft/2020-12/schema"
	root.ID = "https://github.com/easkit/foldersync/policy/schema.json"
	root.Title = "foldersync session policy"
	root.Description = "Retry, backoff, reset and timeout budgets of one Exchange ActiveSync FolderSync session. " +
		"Every key is optional; missing keys keep the values of the preset (default: \"default\")."
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func objectSchema(f *field, def *Policy) *jsonSchema {
	s := &jsonSchema{Type: "object", Description: f.doc, AdditionalProperties: false}
	for _, c := range f.children {
		s.Properties = append(s.Properties, property{c.key, fieldSchema(c, def)})
	}
	return s
}

func fieldSchema(f *field, def *Policy) *jsonSchema {
	var s *jsonSchema
	switch f.kind {
	case kindObject:
		return objectSchema(f, def)
	case kindOverrides:
		item := objectSchema(&field{children: f.children}, def)
		item.Description = "retry tuning of one status; unset keys keep the policy-wide budget"
		item.Properties = nil
		for _, c := range f.children {
			item.Properties = append(item.Properties, property{c.key, fieldSchema(c, nil)})
		}
		return &jsonSchema{
			Type: "object", Description: f.doc, Default: map[string]any{},
			PropertyNames:        &jsonSchema{Pattern: overrideKeyPattern},
			AdditionalProperties: item,
		}
	case kindDuration:
		s = &jsonSchema{Type: "string", Pattern: durationPattern}
	case kindInt, kindInt64:
		s = &jsonSchema{Type: "integer"}
	case kindFloat:
		s = &jsonSchema{Type: "number"}
	case kindBool:
		s = &jsonSchema{Type: "boolean"}
	case kindString:
		s = &jsonSchema{Type: "string"}
		if f.enum != nil {
			s.Enum = f.enum()
		}
	}
	s.Description = f.doc
	if f.kind != kindDuration { // a string pattern cannot state a range
		if f.min != nil && f.exclMin {
			s.ExclusiveMinimum = f.min
		} else {
			s.Minimum = f.min
		}
		s.Maximum = f.max
	}
	if def != nil && f.ptr != nil && f.key != "name" {
		switch v := f.ptr(def).(type) {
		case *time.Duration:
			s.Default = FormatDuration(*v)
		case *int:
			s.Default = *v
		case *int64:
			s.Default = *v
		case *float64:
			s.Default = *v
		case *bool:
			s.Default = *v
		}
	}
	if f.key == "preset" {
		s.Default = "default"
	}
	return s
}
