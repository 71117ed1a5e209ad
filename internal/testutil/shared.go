// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the module root (the folder holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SharedDir returns ../shared beside the module root: the spec facts and real captures
// the project's tests use. Outside CI a checkout without it skips the test with a note;
// in CI (CI=true) its absence fails the test, because CI always has it.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("../shared is missing beside the checkout (%v): CI must provide it", err)
		}
		t.Skipf("../shared (real captures and spec data) is not beside this checkout: %v", err)
	}
	return dir
}
