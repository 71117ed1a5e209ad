// Package policy will hold the retry, backoff, reset and timeout budgets of a
// session, loaded from JSON or YAML files, with seeded deterministic jitter behind
// the github.com/cenkalti/backoff/v4 BackOff interface.
//
// The recovery-core issue builds it; until then the package holds only this
// description (see ../shared/DESIGN.md, "Rooms").
package policy
