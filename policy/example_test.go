package policy_test

import (
	"fmt"

	"github.com/cenkalti/backoff/v4"
	"github.com/easkit/foldersync/policy"
)

func ExampleLoad() {
	p, err := policy.Load("testdata/custom.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.MaxAttempts, p.Backoff.Initial, p.RequestTimeout(0), p.RequestTimeout(5))
	if o, ok := p.Override(policy.KindHTTP, 503); ok {
		fmt.Println("http:503 retries", *o.MaxRetries)
	}

	_, err = policy.Load("testdata/invalid/multiplier.yaml")
	fmt.Println(err)
	// Output:
	// lab 8 750ms 20s 30s
	// http:503 retries 5
	// testdata/invalid/multiplier.yaml:7:3: backoff.multiplier: 0.5 is less than 1: a multiplier below 1 would shrink the delay; use 1 for a constant delay or more to grow it
}

func ExamplePolicy_NewBackOff() {
	p, _ := policy.Preset("interactive")
	p.Backoff.Jitter = 0 // exact numbers for the example; jitter is seeded, so they would repeat anyway
	var b backoff.BackOff = p.NewBackOff()
	for {
		d := b.NextBackOff()
		if d == backoff.Stop {
			fmt.Println("stop: the 1m budget is spent")
			break
		}
		fmt.Println(d)
	}
	// Output:
	// 500ms
	// 1s
	// 2s
	// 4s
	// 8s
	// 10s
	// 10s
	// 10s
	// 10s
	// stop: the 1m budget is spent
}
