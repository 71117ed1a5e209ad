package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse as YAML and as JSON: it must not
// panic or hang, and must return either a policy that passes Validate and
// survives a YAML round trip, or a *ConfigError.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	more, _ := filepath.Glob("testdata/invalid/*")
	for _, file := range append(files, more...) {
		// Short seeds only: the fuzzer minimizes every new input it finds,
		// which takes long for inputs of a kilobyte.
		if data, err := os.ReadFile(file); err == nil && len(data) < 200 {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"name": "a\/b\ud83d\ude00\udc00", "backoff": {"jitter": 1e-300}}`))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("preset: background\nbackoff: {initial: 2s, multiplier: 1.5}\noverrides: {\"http:503\": {max_retries: 5}}\n"))
	f.Add([]byte(`{"resend": {"request_timeout": "20s", "timeout_growth": 2}, "seed": -1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"fuzz.yaml", "fuzz.json"} {
			p, err := Parse(data, name)
			if err != nil {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: error %T is not a *ConfigError: %v", name, err, err)
				}
				continue
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("%s: Parse returned a policy that fails Validate: %v", name, err)
			}
			out, err := p.YAML()
			if err != nil {
				t.Fatalf("%s: YAML: %v", name, err)
			}
			back, err := Parse(out, "")
			if err != nil {
				t.Fatalf("%s: YAML output does not parse: %v\n%s", name, err, out)
			}
			back.Name = p.Name
			if !equalPolicy(p, back) {
				t.Fatalf("%s: round trip changed the policy:\n%+v\n%+v", name, p, back)
			}
		}
	})
}

func equalPolicy(a, b Policy) bool {
	x, err1 := a.MarshalJSON()
	y, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && string(x) == string(y)
}
