package policy_test

import (
	"errors"
	"fmt"

	"github.com/easkit/foldersync/policy"
)

// Parse reads a policy from bytes (an embedded file, a configuration service). Keys
// left out keep the values of the preset the document names, or of Default().
func ExampleParse() {
	doc := []byte(`
preset: background
backoff:
  initial: 5s
max_attempts: 12
overrides:
  "foldersync:6": {max_retries: 5}
`)
	p, err := policy.Parse(doc, "sync.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.Backoff.Initial, p.MaxAttempts)
	if o, ok := p.Override(policy.KindFolderSync, 6); ok {
		fmt.Println("Status 6 retries:", *o.MaxRetries)
	}

	// A mistake is a *ConfigError locating it: file, line, column, field.
	_, err = policy.Parse([]byte("backoff:\n  initial: 5s\n  jiter: 0.1\n"), "sync.yaml")
	var ce *policy.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Line, ce.Column, ce.Field)
		fmt.Println(err)
	}
	// Output:
	// sync.yaml 5s 12
	// Status 6 retries: 5
	// 3 3 backoff.jiter
	// sync.yaml:3:3: backoff.jiter: unknown key "jiter"; did you mean "jitter"?
}
