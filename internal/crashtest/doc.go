// Package crashtest holds the crash-consistency test of the FileStore under real
// sessions (DESIGN rule 1: a crash leaves either the old state or the new, never a
// mix). It has no API; everything is in its tests.
//
// The test re-executes its own binary as a child process (TestMain recognises the
// child by an environment variable). The child opens a hierarchy.FileStore in a
// directory, resumes from what it holds, and runs one FolderSync session after
// another against an in-process sim.Server. The server's hierarchy for step k is
// generated from a seed and k, and its SyncKeys are numbered, so the parent can
// recompute the state before and after any step. The child reports on stdout when a
// step begins, after each step of every Commit (through the FileStore's crash hook),
// and when a step is committed.
//
// The parent kills the child with SIGKILL, either after a random (seeded) delay or
// when the child pauses at a chosen step of a chosen Commit. Then it checks the
// directory (each snapshot file whole, the state loaded either the old or the new
// one, key and tree alike, as the commit step reached says), runs one session on a
// copy of the store against the server of that step, checks that it converges, and
// restarts the child on the same directory.
//
// go test ./internal/crashtest runs a short version (40 kill points). The full run:
//
//	FOLDERSYNC_CRASH_POINTS=500 go test ./internal/crashtest -run Crash -v -count=1
//	go test ./internal/crashtest -run Crash -v -count=1 -crash.points=500 -crash.seed=7
//
// FOLDERSYNC_CRASH_SEED (or -crash.seed) chooses the seed: the hierarchies, the
// commits targeted and the delays drawn; the moment a delayed kill lands is real
// time and differs from run to run.
package crashtest
