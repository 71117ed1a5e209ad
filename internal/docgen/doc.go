// Package docgen renders the reference documents under docs/ from the code they
// describe, so that they cannot drift from it:
//
//   - docs/STATUS-CODES.md from package transitions (every classification rule, the
//     events, the table rows and guards) and the default policy;
//   - docs/POLICY.md from package policy (the doc comments of policy/policy.go, read
//     with go/ast, the presets and the JSON Schema), with a worked example that is
//     parsed by policy.Parse while the document is generated;
//   - the summary block of docs/SPEC-TRACE.md from the trace table in the same file,
//     which is written by hand and checked by this package's tests (every cited Go
//     test and scenario file exists, every client-side rule has a test).
//
// Run `go generate ./...` (or `go generate ./internal/docgen`) after changing any of
// them; TestDocsAreCurrent fails when a committed document differs from what
// Generate renders.
package docgen
