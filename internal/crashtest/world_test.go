package crashtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

// The world both processes compute alike from a seed: the server's hierarchy at
// each step and the SyncKey that step commits. Step 0 is the store never committed
// (SyncKey "0", no folders); step k >= 1 is the state session k commits: SyncKey
// keyAt(seed, k) and the folders hierarchyAt(seed, k).

// poolSize is the number of user folders a hierarchy draws from, on top of
// sim.DefaultFolders: enough for a snapshot of some 10 KB, so that its writes are
// not instantaneous.
const poolSize = 120

// keyPrefix is the prefix of the server's SyncKeys (sim.WithKeyPrefix).
func keyPrefix(seed uint64) string { return "s" + strconv.FormatUint(seed, 10) + "-" }

// keyAt is the SyncKey committed by step k: the server numbers its keys, and every
// step issues one.
func keyAt(seed uint64, k int) string {
	if k == 0 {
		return transport.InitialSyncKey
	}
	return keyPrefix(seed) + strconv.Itoa(k)
}

// stepOfKey is the step whose committed SyncKey is key, or -1.
func stepOfKey(seed uint64, key string) int {
	if key == transport.InitialSyncKey {
		return 0
	}
	n, ok := strings.CutPrefix(key, keyPrefix(seed))
	if !ok {
		return -1
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 1 || strconv.Itoa(k) != n {
		return -1
	}
	return k
}

// userTypes are the types a generated user folder may have.
var userTypes = []transport.FolderType{
	transport.FolderUserMail, transport.FolderUserMail, transport.FolderUserMail,
	transport.FolderUserCalendar, transport.FolderUserContacts, transport.FolderUserTasks,
	transport.FolderUserNotes, transport.FolderUserJournal, transport.FolderUserGeneric,
}

// hierarchyAt is the server's hierarchy at step k >= 1: the default folders and a
// draw from a pool of user folders. Each is present with probability 3/4, usually
// under its own parent and with its own name, sometimes renamed or moved, so the
// session of each step applies Adds, Updates (renames, moves, moves under folders
// added by the same response) and Deletes (of subtrees too). Parents always have a
// lower pool index than their children, so the tree never has a cycle.
func hierarchyAt(seed uint64, k int) []hierarchy.Folder {
	folders := sim.DefaultFolders()
	parents := make([]string, 0, len(folders)+poolSize)
	parents = append(parents, hierarchy.RootID)
	for _, f := range folders {
		parents = append(parents, f.ServerID)
	}
	nDefault := len(parents)
	step := rand.New(rand.NewPCG(seed, uint64(k)))
	for i := range poolSize {
		// What does not change from step to step: the type and the usual parent (a
		// default folder or a user folder of lower index, which may be absent).
		fixed := rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i)))
		typ := userTypes[fixed.IntN(len(userTypes))]
		var home string
		if h := fixed.IntN(nDefault + i); h < nDefault {
			home = parents[h]
		} else {
			home = fmt.Sprintf("u%03d", h-nDefault)
		}
		present := step.IntN(4) != 0
		renamed := step.IntN(5) == 0
		moved := step.IntN(6) == 0
		other := parents[step.IntN(len(parents))]
		version := step.IntN(1000)
		if !present {
			continue
		}
		id := fmt.Sprintf("u%03d", i)
		name := fmt.Sprintf("Folder %d", i)
		if i%7 == 3 {
			name = fmt.Sprintf("Ordner \"%d\" – Ünïcödé\\", i) // JSON escapes in the snapshot
		}
		if renamed {
			name += fmt.Sprintf(" (v%d)", version)
		}
		parent := home
		if moved {
			parent = other
		}
		if !slices.Contains(parents, parent) { // the usual parent is absent at this step
			parent = parents[1+i%(nDefault-1)]
		}
		folders = append(folders, hierarchy.Folder{ServerID: id, ParentID: parent, DisplayName: name, Type: typ})
		parents = append(parents, id)
	}
	return folders
}

// stateAt is the state step k commits.
func stateAt(seed uint64, k int) hierarchy.State {
	if k == 0 {
		return hierarchy.State{SyncKey: transport.InitialSyncKey, Tree: hierarchy.NewTree()}
	}
	t, err := hierarchy.BuildTree(hierarchyAt(seed, k))
	if err != nil {
		panic(fmt.Sprintf("crashtest: the hierarchy of step %d is not a tree: %v", k, err))
	}
	return hierarchy.State{SyncKey: keyAt(seed, k), Tree: t}
}

// serverAt returns a server with the given profile as it is once step j is
// committed: its last key is keyAt(seed, j), naming hierarchyAt(seed, j) (for j = 0,
// a device that has not synced). The caller seeds the next step's hierarchy.
func serverAt(ctx context.Context, profile sim.Profile, seed uint64, j int) (*sim.Server, error) {
	srv := sim.New(profile, sim.WithKeyPrefix(keyPrefix(seed)))
	if j == 0 {
		return srv, nil
	}
	// Issue keys 1 .. j-1 cheaply, on an empty hierarchy, then key j on step j's.
	for range j - 1 {
		if _, err := srv.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}); err != nil {
			return nil, err
		}
	}
	if err := srv.Seed(hierarchyAt(seed, j)...); err != nil {
		return nil, err
	}
	if _, err := srv.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}); err != nil {
		return nil, err
	}
	if got, want := srv.CurrentKey(), keyAt(seed, j); got != want {
		return nil, fmt.Errorf("crashtest: the server of step %d issued key %q, want %q", j, got, want)
	}
	return srv, nil
}

// serverAnswered returns a server as it is once it has answered step k's request
// (whether or not the client committed the answer): its current key is keyAt(seed,
// k) naming step k's hierarchy, and the previous one keyAt(seed, k-1), so a client
// that lost the answer resends that key.
func serverAnswered(ctx context.Context, profile sim.Profile, seed uint64, k int) (*sim.Server, error) {
	srv, err := serverAt(ctx, profile, seed, k-1)
	if err != nil {
		return nil, err
	}
	if err := srv.Seed(hierarchyAt(seed, k)...); err != nil {
		return nil, err
	}
	if _, err := srv.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: keyAt(seed, k-1)}); err != nil {
		return nil, err
	}
	if got, want := srv.CurrentKey(), keyAt(seed, k); got != want {
		return nil, fmt.Errorf("crashtest: the server answering step %d issued key %q, want %q", k, got, want)
	}
	return srv, nil
}
