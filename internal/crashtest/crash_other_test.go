//go:build !unix

package crashtest

import "testing"

func TestCrashConsistency(t *testing.T) {
	t.Skip("the crash-consistency test kills a child process with SIGKILL: Unix only")
}
