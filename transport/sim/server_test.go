package sim_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

func TestProfileAndKeyCaseNames(t *testing.T) {
	for p, want := range map[sim.Profile]string{
		sim.Replay: "replay", sim.Reexecute: "reexecute", sim.Lenient: "lenient",
		sim.SilentReset: "silent-reset", 0: "Profile(0)", 9: "Profile(9)",
	} {
		assert.Equal(t, want, p.String())
	}
	for c, want := range map[sim.KeyCase]string{
		sim.KeyZero: "zero", sim.KeyCurrent: "current", sim.KeyPrevious: "previous",
		sim.KeyUnknown: "unknown", 0: "KeyCase(0)", 7: "KeyCase(7)",
	} {
		assert.Equal(t, want, c.String())
	}
}

func TestNewPanics(t *testing.T) {
	assert.Panics(t, func() { sim.New(0) })
	assert.Panics(t, func() { sim.New(sim.SilentReset + 1) })
	assert.Panics(t, func() { sim.New(sim.Replay, sim.WithFolders(folder("a", "missing", "A"))) })
	assert.Panics(t, func() { sim.New(sim.Replay, sim.WithKeyPrefix(strings.Repeat("k", sim.MaxKeyPrefixLength+1))) })
	assert.NotPanics(t, func() { sim.New(sim.Replay, sim.WithKeyPrefix(strings.Repeat("k", sim.MaxKeyPrefixLength))) })
	for _, p := range allProfiles {
		assert.Equal(t, p, sim.New(p).Profile())
	}
}

func TestDefaultFolders(t *testing.T) {
	fs := sim.DefaultFolders()
	tree, err := hierarchy.BuildTree(fs)
	require.NoError(t, err)
	assert.Empty(t, tree.Orphans())
	assert.Equal(t, tree.Folders(), fs, "sorted by ServerID")

	types := map[transport.FolderType]int{}
	nested := 0
	for _, f := range fs {
		types[f.Type]++
		if f.ParentID != hierarchy.RootID {
			nested++
			if p, _ := tree.Get(f.ParentID); p.ParentID != hierarchy.RootID {
				assert.Contains(t, []transport.FolderType{transport.FolderUserMail}, f.Type, "a second-level folder is a user folder")
			}
		}
	}
	for ty := transport.FolderInbox; ty <= transport.FolderJournal; ty++ {
		assert.Equal(t, 1, types[ty], "one default folder of type %d", ty)
	}
	assert.GreaterOrEqual(t, nested, 3, "some user folders are nested")
	deep := false
	for _, f := range fs {
		if p, ok := tree.Get(f.ParentID); ok && p.ParentID != hierarchy.RootID {
			deep = true
		}
	}
	assert.True(t, deep, "at least one folder two levels down")

	fs[0].DisplayName = "changed"
	assert.NotEqual(t, "changed", sim.DefaultFolders()[0].DisplayName, "a fresh slice every call")
}

func TestMutators(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(s *sim.Server) error
		wantErr error
		want    []hierarchy.Folder // nil: unchanged
	}{
		{"add at top", func(s *sim.Server) error { return s.AddFolder(folder("x", "0", "X")) }, nil,
			[]hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "B"), folder("c", "b", "C"), folder("x", "0", "X")}},
		{"add nested", func(s *sim.Server) error { return s.AddFolder(folder("x", "c", "X")) }, nil,
			[]hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "B"), folder("c", "b", "C"), folder("x", "c", "X")}},
		{"add existing", func(s *sim.Server) error { return s.AddFolder(folder("b", "0", "B2")) }, hierarchy.ErrExists, nil},
		{"add under unknown parent", func(s *sim.Server) error { return s.AddFolder(folder("x", "nope", "X")) }, hierarchy.ErrUnknownParent, nil},
		{"add root id", func(s *sim.Server) error { return s.AddFolder(folder("0", "0", "X")) }, hierarchy.ErrRootID, nil},
		{"add invalid type", func(s *sim.Server) error {
			return s.AddFolder(hierarchy.Folder{ServerID: "x", ParentID: "0", Type: 99})
		}, hierarchy.ErrInvalidType, nil},
		{"rename", func(s *sim.Server) error { return s.RenameFolder("b", "Bee") }, nil,
			[]hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "Bee"), folder("c", "b", "C")}},
		{"rename unknown", func(s *sim.Server) error { return s.RenameFolder("nope", "X") }, sim.ErrNotFound, nil},
		{"move to top", func(s *sim.Server) error { return s.MoveFolder("c", "0") }, nil,
			[]hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "B"), folder("c", "0", "C")}},
		{"move unknown", func(s *sim.Server) error { return s.MoveFolder("nope", "0") }, sim.ErrNotFound, nil},
		{"move below itself", func(s *sim.Server) error { return s.MoveFolder("a", "c") }, hierarchy.ErrCycle, nil},
		{"move under itself", func(s *sim.Server) error { return s.MoveFolder("a", "a") }, hierarchy.ErrCycle, nil},
		{"move under unknown", func(s *sim.Server) error { return s.MoveFolder("a", "nope") }, hierarchy.ErrUnknownParent, nil},
		{"delete leaf", func(s *sim.Server) error { return s.DeleteFolder("c") }, nil,
			[]hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "B")}},
		{"delete subtree", func(s *sim.Server) error { return s.DeleteFolder("a") }, nil, []hierarchy.Folder{}},
		{"delete unknown", func(s *sim.Server) error { return s.DeleteFolder("nope") }, sim.ErrNotFound, nil},
		{"seed duplicate", func(s *sim.Server) error { return s.Seed(folder("x", "0", "X"), folder("x", "0", "Y")) }, hierarchy.ErrDuplicate, nil},
		{"seed orphan", func(s *sim.Server) error { return s.Seed(folder("x", "y", "X")) }, hierarchy.ErrUnknownParent, nil},
		{"seed cycle", func(s *sim.Server) error { return s.Seed(folder("x", "y", "X"), folder("y", "x", "Y")) }, hierarchy.ErrCycle, nil},
		{"seed replaces", func(s *sim.Server) error { return s.Seed(folder("z", "0", "Z")) }, nil, []hierarchy.Folder{folder("z", "0", "Z")}},
		{"seed empty", func(s *sim.Server) error { return s.Seed() }, nil, []hierarchy.Folder{}},
	}
	initial := []hierarchy.Folder{folder("a", "0", "A"), folder("b", "a", "B"), folder("c", "b", "C")}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Replay, sim.WithFolders(initial...))
			err := tc.mutate(s)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Equal(t, initial, s.Folders(), "a refused mutation changes nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, append([]hierarchy.Folder{}, s.Folders()...))
		})
	}
}

// TestInitialSync: key "0" gets the whole hierarchy as Adds, parents first, and a key.
func TestInitialSync(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.String(), func(t *testing.T) {
			s := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
			resp := send(t, s, "0")
			assert.Equal(t, 1, resp.Status)
			assert.Equal(t, "1", resp.SyncKey)
			assert.Equal(t, len(resp.Changes), resp.Count)
			requireAllAddsParentsFirst(t, resp.Changes, sim.DefaultFolders())
			assert.Equal(t, "1", s.CurrentKey())

			empty := sim.New(p)
			resp = send(t, empty, "0")
			assert.Equal(t, 1, resp.Status)
			assert.Empty(t, resp.Changes)
			assert.Equal(t, "1", resp.SyncKey)
		})
	}
}

// TestIncremental: a sync with the current key gets exactly the changes made since.
func TestIncremental(t *testing.T) {
	initial := []hierarchy.Folder{
		folder("a", "0", "A"), folder("b", "a", "B"), folder("c", "b", "C"),
		folder("d", "0", "D"), folder("e", "d", "E"),
	}
	tests := []struct {
		name   string
		mutate func(s *sim.Server) error
		want   []string
	}{
		{"nothing", func(*sim.Server) error { return nil }, []string{}},
		{"add", func(s *sim.Server) error { return s.AddFolder(folder("x", "0", "X")) }, []string{"Add:x"}},
		{"add chain", func(s *sim.Server) error {
			return errors.Join(s.AddFolder(folder("z", "0", "Z")), s.AddFolder(folder("y", "z", "Y")), s.AddFolder(folder("x", "y", "X")))
		}, []string{"Add:z", "Add:y", "Add:x"}},
		{"rename", func(s *sim.Server) error { return s.RenameFolder("c", "Cee") }, []string{"Update:c"}},
		{"rename back", func(s *sim.Server) error {
			return errors.Join(s.RenameFolder("c", "Cee"), s.RenameFolder("c", "C"))
		}, []string{}},
		{"move", func(s *sim.Server) error { return s.MoveFolder("b", "d") }, []string{"Update:b"}},
		{"move under new", func(s *sim.Server) error {
			return errors.Join(s.AddFolder(folder("n", "0", "N")), s.MoveFolder("a", "n"))
		}, []string{"Add:n", "Update:a"}},
		{"swap parent and child", func(s *sim.Server) error {
			return errors.Join(s.MoveFolder("e", "0"), s.MoveFolder("d", "e"))
		}, []string{"Update:e", "Update:d"}},
		{"delete leaf", func(s *sim.Server) error { return s.DeleteFolder("e") }, []string{"Delete:e"}},
		{"delete subtree", func(s *sim.Server) error { return s.DeleteFolder("a") }, []string{"Delete:a", "Delete:b", "Delete:c"}},
		{"move out, then delete the old parent", func(s *sim.Server) error {
			return errors.Join(s.MoveFolder("c", "d"), s.DeleteFolder("a"))
		}, []string{"Update:c", "Delete:a", "Delete:b"}},
		{"add then delete", func(s *sim.Server) error {
			return errors.Join(s.AddFolder(folder("x", "a", "X")), s.DeleteFolder("x"))
		}, []string{}},
		{"delete then re-add the id", func(s *sim.Server) error {
			return errors.Join(s.DeleteFolder("b"), s.AddFolder(folder("b", "d", "B")))
		}, []string{"Update:b", "Delete:c"}},
	}
	for _, p := range allProfiles {
		for _, tc := range tests {
			t.Run(p.String()+"/"+tc.name, func(t *testing.T) {
				s := sim.New(p, sim.WithFolders(initial...))
				c := newClient()
				c.sync(t, s)
				require.NoError(t, tc.mutate(s))
				before := c.key
				resp := c.sync(t, s)
				assert.Equal(t, tc.want, ops(resp.Changes))
				assert.Equal(t, len(resp.Changes), resp.Count)
				if p == sim.Lenient && len(tc.want) == 0 {
					assert.Equal(t, before, resp.SyncKey, "SOGo issues a new key only with changes")
				} else {
					assert.NotEqual(t, before, resp.SyncKey)
				}
				requireInSync(t, c, s)
			})
		}
	}
}

// TestKeyCases is each profile's answer to each kind of key, after the response to
// the client's second sync (which carried changes) was lost.
func TestKeyCases(t *testing.T) {
	type want struct {
		status  int
		key     string // the expected key; "new" for a key not issued before; "" for none
		changes []string
		full    bool // the whole hierarchy as Adds (changes is then ignored)
	}
	const lostKey = "2" // key 1 from the initial sync, key 2 in the lost response
	tests := []struct {
		key  string
		kase sim.KeyCase
		want map[sim.Profile]want
	}{
		{"2", sim.KeyCurrent, map[sim.Profile]want{
			sim.Replay:      {status: 1, key: "new", changes: []string{}},
			sim.Reexecute:   {status: 1, key: "new", changes: []string{}},
			sim.Lenient:     {status: 1, key: "2", changes: []string{}},
			sim.SilentReset: {status: 1, key: "new", changes: []string{}},
		}},
		{"1", sim.KeyPrevious, map[sim.Profile]want{
			sim.Replay:      {status: 1, key: lostKey, changes: []string{"Add:x", "Update:a"}},
			sim.Reexecute:   {status: 1, key: "new", changes: []string{"Add:x", "Update:a"}},
			sim.Lenient:     {status: 1, key: "1", changes: []string{}},
			sim.SilentReset: {status: 1, key: "new", full: true},
		}},
		{"bogus", sim.KeyUnknown, map[sim.Profile]want{
			sim.Replay:      {status: 9},
			sim.Reexecute:   {status: 9},
			sim.Lenient:     {status: 1, key: "bogus", changes: []string{}},
			sim.SilentReset: {status: 1, key: "new", full: true},
		}},
		{"0", sim.KeyZero, map[sim.Profile]want{
			sim.Replay:      {status: 1, key: "new", full: true},
			sim.Reexecute:   {status: 1, key: "new", full: true},
			sim.Lenient:     {status: 1, key: "new", full: true},
			sim.SilentReset: {status: 1, key: "new", full: true},
		}},
	}
	for _, p := range allProfiles {
		for _, tc := range tests {
			t.Run(p.String()+"/"+tc.kase.String(), func(t *testing.T) {
				s := sim.New(p, sim.WithFolders(folder("a", "0", "A"), folder("b", "0", "B")))
				require.Equal(t, "1", send(t, s, "0").SyncKey)
				require.NoError(t, s.AddFolder(folder("x", "0", "X")))
				require.NoError(t, s.RenameFolder("a", "Ay"))
				require.Equal(t, lostKey, send(t, s, "1").SyncKey) // the client never sees this

				resp := send(t, s, tc.key)
				w := tc.want[p]
				assert.Equal(t, w.status, resp.Status)
				switch w.key {
				case "new":
					assert.NotContains(t, []string{"0", "1", "2", tc.key}, resp.SyncKey)
					assert.Equal(t, resp.SyncKey, s.CurrentKey())
				case "":
					assert.Empty(t, resp.SyncKey)
					assert.False(t, resp.Present.SyncKey)
					assert.False(t, resp.Present.Changes, "Status 9 carries only a Status")
				default:
					assert.Equal(t, w.key, resp.SyncKey)
				}
				if w.full {
					requireAllAddsParentsFirst(t, resp.Changes, s.Folders())
				} else if w.status == 1 {
					assert.Equal(t, w.changes, ops(resp.Changes))
				}
				h := s.History()
				require.Len(t, h, 3)
				assert.Equal(t, tc.kase, h[2].Case)
				assert.Equal(t, tc.key, h[2].RequestKey)
				assert.Equal(t, w.status, h[2].Status)
				assert.Equal(t, resp.SyncKey, h[2].ResponseKey)
				assert.Equal(t, len(resp.Changes), h[2].Changes)
				assert.Equal(t, p == sim.Replay && tc.kase == sim.KeyPrevious, h[2].Replayed)
			})
		}
	}
}

// TestBeforeFirstSync: a non-zero key from a device that never synced.
func TestBeforeFirstSync(t *testing.T) {
	for _, p := range allProfiles {
		t.Run(p.String(), func(t *testing.T) {
			s := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
			resp := send(t, s, "5")
			assert.Equal(t, sim.KeyUnknown, s.History()[0].Case)
			if p == sim.SilentReset {
				assert.Equal(t, 1, resp.Status)
				requireAllAddsParentsFirst(t, resp.Changes, sim.DefaultFolders())
				return
			}
			assert.Equal(t, 9, resp.Status, "SOGo too: Status 9 only for a device with no state")
			assert.Empty(t, s.CurrentKey())
		})
	}
}

// TestReplayIdentical: Horde replays the lost response byte for byte, as often as
// asked, even after the hierarchy changed again; the replayed key then works.
func TestReplayIdentical(t *testing.T) {
	s := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	c := newClient()
	c.sync(t, s)
	require.NoError(t, s.DeleteFolder("projects"))
	require.NoError(t, s.AddFolder(folder("new", "inbox", "New")))
	lost := send(t, s, c.key)
	lostBytes, err := lost.MarshalWBXML()
	require.NoError(t, err)

	require.NoError(t, s.RenameFolder("archive", "Old stuff")) // after the lost response
	for range 3 {
		again := send(t, s, c.key)
		assert.Equal(t, lost, again)
		b, err := again.MarshalWBXML()
		require.NoError(t, err)
		assert.Equal(t, lostBytes, b)
	}
	c.sync(t, s) // the replay, applied
	assert.Equal(t, lost.SyncKey, c.key)
	resp := c.sync(t, s) // the replayed key is current: the rename comes now
	assert.Equal(t, []string{"Update:archive"}, ops(resp.Changes))
	requireInSync(t, c, s)
	assert.Equal(t, 4, countReplayed(s.History()), "three resends and the one applied")
}

func countReplayed(h []sim.Exchange) int {
	n := 0
	for _, e := range h {
		if e.Replayed {
			n++
		}
	}
	return n
}

// TestReexecuteReruns: Z-Push re-runs the resent request against the state the key
// named, so later changes come too; the key of the lost response is then unknown.
func TestReexecuteReruns(t *testing.T) {
	s := sim.New(sim.Reexecute, sim.WithFolders(sim.DefaultFolders()...))
	c := newClient()
	c.sync(t, s)
	require.NoError(t, s.AddFolder(folder("new", "inbox", "New")))
	lost := send(t, s, c.key)
	require.Equal(t, []string{"Add:new"}, ops(lost.Changes))

	require.NoError(t, s.RenameFolder("archive", "Old stuff"))
	resp := c.sync(t, s)
	assert.Equal(t, []string{"Add:new", "Update:archive"}, ops(resp.Changes))
	assert.NotEqual(t, lost.SyncKey, resp.SyncKey)
	requireInSync(t, c, s)
	assert.Equal(t, 9, send(t, s, lost.SyncKey).Status, "the lost response's key is forgotten")

	// Re-running twice in a row is allowed: the previous key stays the one sent.
	prev := s.History()[len(s.History())-2].RequestKey
	again := send(t, s, prev)
	assert.Equal(t, 1, again.Status)
	assert.Equal(t, []string{"Add:new", "Update:archive"}, ops(again.Changes))
}

// TestLenientLostResponse: after a lost response SOGo answers the resend with no
// changes and the same key, so the client silently diverges; a SyncKey-0 sync and
// Reconcile (DESIGN rule 3) bring it back.
func TestLenientLostResponse(t *testing.T) {
	s := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
	c := newClient()
	c.sync(t, s)
	require.NoError(t, s.AddFolder(folder("new", "inbox", "New")))
	require.NoError(t, s.DeleteFolder("projects"))
	require.NoError(t, s.MoveFolder("family", hierarchy.RootID))
	lost := send(t, s, c.key)
	require.Len(t, lost.Changes, 5)

	resend := c.sync(t, s)
	assert.Equal(t, 1, resend.Status)
	assert.Empty(t, resend.Changes)
	assert.Equal(t, 0, resend.Count)
	assert.Equal(t, "1", resend.SyncKey, "the key sent is echoed")
	want := serverTree(t, s)
	assert.False(t, want.Equal(c.tree), "the lost changes never come back")
	assert.Len(t, c.tree.Diff(want), 5)
	assert.Empty(t, c.sync(t, s).Changes, "nor on later syncs")

	full := send(t, s, "0")
	rep, err := c.tree.Reconcile(full.Changes)
	require.NoError(t, err)
	c.key = full.SyncKey
	assert.Equal(t, 1, rep.Added)
	assert.Equal(t, 1, rep.Updated)
	assert.Equal(t, 3, rep.Removed)
	requireInSync(t, c, s)
	require.NoError(t, s.RenameFolder("new", "Newer"))
	assert.Equal(t, []string{"Update:new"}, ops(c.sync(t, s).Changes))
	requireInSync(t, c, s)
}

// TestLenientQuirks: a made-up key is served like any other and echoed; with changes
// pending it gets them and a new key; an empty key gets Count 0 and is echoed.
func TestLenientQuirks(t *testing.T) {
	s := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...), sim.WithKeyPrefix("vm_7782_"))
	c := newClient()
	c.sync(t, s)
	assert.Equal(t, "vm_7782_1", c.key)

	require.NoError(t, s.AddFolder(folder("x", "0", "X")))
	resp := send(t, s, "")
	assert.Equal(t, 1, resp.Status)
	assert.Empty(t, resp.Changes)
	assert.True(t, resp.Present.SyncKey)
	assert.Empty(t, resp.SyncKey)

	resp = send(t, s, "made-up")
	assert.Equal(t, []string{"Add:x"}, ops(resp.Changes), "the folder cache, not the key, decides")
	assert.Equal(t, "vm_7782_2", resp.SyncKey)
	resp = send(t, s, "made-up")
	assert.Empty(t, resp.Changes)
	assert.Equal(t, "made-up", resp.SyncKey)
}

// TestSilentResetConverges: a stale key gets the full hierarchy as Adds under a new
// key; Apply alone keeps folders deleted meanwhile, Reconcile converges.
func TestSilentResetConverges(t *testing.T) {
	s := sim.New(sim.SilentReset, sim.WithFolders(sim.DefaultFolders()...))
	c := newClient()
	c.sync(t, s)
	require.NoError(t, s.DeleteFolder("projects"))
	require.NoError(t, s.AddFolder(folder("new", "0", "New")))
	lost := send(t, s, c.key)
	require.Len(t, lost.Changes, 4)

	full := send(t, s, c.key)
	assert.Equal(t, 1, full.Status)
	assert.NotEqual(t, lost.SyncKey, full.SyncKey)
	requireAllAddsParentsFirst(t, full.Changes, s.Folders())

	applied := c.tree.Clone()
	_, err := applied.Apply(full.Changes)
	require.NoError(t, err)
	assert.False(t, serverTree(t, s).Equal(applied), "Apply of a silent reset keeps deleted folders")

	_, err = c.tree.Reconcile(full.Changes)
	require.NoError(t, err)
	c.key = full.SyncKey
	requireInSync(t, c, s)
	assert.Empty(t, c.sync(t, s).Changes)
}

// TestNormalFlowConverges: with no faults, Apply keeps every profile's client equal
// to the server over 200 random mutations.
func TestNormalFlowConverges(t *testing.T) {
	for _, p := range allProfiles {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(p.String()+"/seed"+strconv.FormatUint(seed, 10), func(t *testing.T) {
				s := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
				c := newClient()
				c.sync(t, s)
				requireInSync(t, c, s)
				m := newMutator(seed)
				for i := 0; i < 200; {
					for n := m.rng.IntN(4) + 1; n > 0 && i < 200; n-- {
						m.mutate(t, s)
						i++
					}
					c.sync(t, s)
					requireInSync(t, c, s, "after mutation", i)
				}
				assert.Greater(t, len(s.Folders()), 0)
				for kind, n := range m.done {
					assert.Greater(t, n, 10, "mutation kind %s", kind)
				}
			})
		}
	}
}

// mutator makes random, valid server mutations from a seed.
type mutator struct {
	rng  *rand.Rand
	next int
	done map[string]int
}

func newMutator(seed uint64) *mutator {
	return &mutator{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), done: map[string]int{}}
}

var userTypes = []transport.FolderType{
	transport.FolderUserMail, transport.FolderUserCalendar, transport.FolderUserContacts,
	transport.FolderUserTasks, transport.FolderUserJournal, transport.FolderUserNotes, transport.FolderUserGeneric,
}

func (m *mutator) pick(fs []hierarchy.Folder) hierarchy.Folder { return fs[m.rng.IntN(len(fs))] }

func (m *mutator) parent(fs []hierarchy.Folder) string {
	if len(fs) == 0 || m.rng.IntN(4) == 0 {
		return hierarchy.RootID
	}
	return m.pick(fs).ServerID
}

func (m *mutator) mutate(t *testing.T, s *sim.Server) {
	t.Helper()
	fs := s.Folders()
	op := m.rng.IntN(10)
	if len(fs) < 5 {
		op = 0
	}
	switch {
	case op < 4: // add
		m.next++
		f := hierarchy.Folder{
			ServerID: "f" + strconv.Itoa(m.next), ParentID: m.parent(fs),
			DisplayName: "Folder " + strconv.Itoa(m.next), Type: userTypes[m.rng.IntN(len(userTypes))],
		}
		require.NoError(t, s.AddFolder(f))
		m.done["add"]++
	case op < 6:
		require.NoError(t, s.RenameFolder(m.pick(fs).ServerID, "Renamed "+strconv.Itoa(m.rng.IntN(1000))))
		m.done["rename"]++
	case op < 8:
		err := s.MoveFolder(m.pick(fs).ServerID, m.parent(fs))
		if errors.Is(err, hierarchy.ErrCycle) {
			return
		}
		require.NoError(t, err)
		m.done["move"]++
	default:
		require.NoError(t, s.DeleteFolder(m.pick(fs).ServerID))
		m.done["delete"]++
	}
}

func TestWireAndLog(t *testing.T) {
	s := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		key := "0"
		if i > 1 {
			key = s.CurrentKey()
		}
		reply, err := s.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: key})
		require.NoError(t, err)
		assert.Equal(t, "sim-"+strconv.Itoa(i), reply.RequestID)
		assert.Equal(t, i, s.Requests())
	}

	// A key the request decoder refuses is an unreadable body: HTTP 500, no body.
	reply, err := s.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: strings.Repeat("k", 65)})
	require.NoError(t, err)
	assert.Equal(t, 500, reply.HTTPStatus)
	assert.Nil(t, reply.Response)
	assert.Equal(t, "sim-4", reply.RequestID)
	assert.Equal(t, "3", s.CurrentKey(), "an unreadable request changes nothing")

	h := s.History()
	require.Len(t, h, 4)
	assert.Equal(t, sim.Exchange{N: 1, RequestKey: "0", Case: sim.KeyZero, HTTPStatus: 200, Status: 1, ResponseKey: "1", Changes: 16}, h[0])
	assert.Equal(t, sim.Exchange{N: 2, RequestKey: "1", Case: sim.KeyCurrent, HTTPStatus: 200, Status: 1, ResponseKey: "2"}, h[1])
	assert.Equal(t, 500, h[3].HTTPStatus)
	assert.Equal(t, 0, h[3].Status)
	h[0].N = 99
	assert.Equal(t, 1, s.History()[0].N, "History returns a copy")

	_, err = s.FolderSync(ctx, nil)
	assert.Error(t, err)
	assert.Equal(t, 4, s.Requests())
}

func TestContextCancelled(t *testing.T) {
	for _, p := range allProfiles {
		s := sim.New(p, sim.WithFolders(sim.DefaultFolders()...))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		reply, err := s.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: "0"})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, reply)
		assert.Equal(t, 0, s.Requests())
		assert.Empty(t, s.CurrentKey())
	}
}

// TestConcurrentUse runs clients and mutations at once (for -race): the server stays
// consistent, and each request is numbered once.
func TestConcurrentUse(t *testing.T) {
	s := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "0"
			for i := range 50 {
				if g%2 == 0 {
					_ = s.AddFolder(folder("g"+strconv.Itoa(g)+"-"+strconv.Itoa(i), "0", "X"))
					_ = s.RenameFolder("inbox", "Inbox "+strconv.Itoa(i))
					_ = s.Folders()
					continue
				}
				reply, err := s.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: key})
				if !assert.NoError(t, err) || !assert.Equal(t, 1, reply.Response.Status) {
					return
				}
				key = reply.Response.SyncKey
				_ = s.History()
				_ = s.CurrentKey()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 150, s.Requests())
	seen := map[int]bool{}
	for _, e := range s.History() {
		seen[e.N] = true
	}
	assert.Len(t, seen, 150)
	assert.Len(t, s.Folders(), 16+150)
}
