package httpeas_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/sim"
)

// hostileBodies are answers a server (or a box in between) might send: every body
// under ../shared/captures (responses, requests, error pages), every prefix of a
// captured FolderSync answer, seeded mutations of it, and hand-made traps (a 4 GiB
// OPAQUE claim, deep nesting, a huge string table).
func hostileBodies(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	shared := testutil.SharedDir(t)
	err := filepath.WalkDir(filepath.Join(shared, "captures"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".wbxml") || strings.HasSuffix(p, ".body") || strings.HasSuffix(p, ".bin")) {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil {
			out[strings.TrimPrefix(p, shared)] = b
		}
		return err
	})
	require.NoError(t, err)
	answer, err := os.ReadFile(filepath.Join(shared, "captures", "sogo", "foldersync-initial.resp.wbxml"))
	require.NoError(t, err)
	for i := range answer {
		out["prefix/"+itoa(i)] = answer[:i]
	}
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 500; i++ {
		b := append([]byte(nil), answer...)
		for n := 1 + rng.Intn(4); n > 0; n-- {
			switch rng.Intn(3) {
			case 0:
				b[rng.Intn(len(b))] = byte(rng.Intn(256))
			case 1:
				at := rng.Intn(len(b))
				b = append(b[:at], append([]byte{byte(rng.Intn(256))}, b[at:]...)...)
			default:
				at := rng.Intn(len(b))
				b = append(b[:at], b[at+1:]...)
			}
		}
		out["mutation/"+itoa(i)] = b
	}
	out["trap/opaque-4GiB"] = []byte{0x03, 0x01, 0x6a, 0x00, 0x07, 0x56, 0x52, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 'x'}
	out["trap/string-table-4GiB"] = []byte{0x03, 0x01, 0x6a, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}
	deep := []byte{0x03, 0x01, 0x6a, 0x00, 0x07}
	for i := 0; i < 100000; i++ {
		deep = append(deep, 0x56+0x40)
	}
	out["trap/deep-nesting"] = deep
	return out
}

func itoa(i int) string { return fmt.Sprintf("%04d", i) }

// Every hostile body, served over real HTTP, is either a FolderSync answer that
// validates or a typed ErrUnreadable; nothing panics or hangs, and what one body
// allocates is bounded by the caps, not by what the body claims.
func TestHostileBodies(t *testing.T) {
	e := newE2E(t)
	e.mustSync()
	decoded, unreadable := 0, 0
	var ms runtime.MemStats
	for name, body := range hostileBodies(t) {
		e.handler.Inject(sim.HTTPStep{Body: body})
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		reply, err := e.client.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "1"})
		runtime.ReadMemStats(&ms)
		allocated := ms.TotalAlloc - before
		assert.Less(t, allocated, uint64(8<<20+64*len(body)), "%s: %d bytes allocated for a %d-byte body", name, allocated, len(body))
		if err != nil {
			var te *transport.Error
			require.True(t, errors.As(err, &te), "%s: %T %v", name, err, err)
			assert.ErrorIs(t, err, transport.ErrUnreadable, name)
			unreadable++
			continue
		}
		require.NotNil(t, reply.Response, name)
		assert.NoError(t, reply.Response.Validate(), "%s decoded into an invalid response", name)
		decoded++
	}
	t.Logf("%d hostile bodies: %d decoded into valid responses, %d unreadable", decoded+unreadable, decoded, unreadable)
	require.NotEmpty(t, e.srv.History(), "the server is still answering")
	assert.Greater(t, unreadable, 500)
}

// A session that meets a malformed answer resends and converges. (A mutation that
// still decodes into a valid answer is indistinguishable from a real one, which is
// what TLS is for; those are left out.)
func TestHostileBodyInASession(t *testing.T) {
	bodies := hostileBodies(t)
	names := make([]string, 0, len(bodies))
	for n, b := range bodies {
		if _, err := transport.UnmarshalFolderSyncResponse(b); err != nil && (strings.HasPrefix(n, "mutation/") || strings.HasPrefix(n, "trap/")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	e := newE2E(t)
	e.mustSync()
	for i, name := range names {
		if i%5 == 0 {
			require.NoError(t, e.srv.AddFolder(hierarchy.Folder{ServerID: "h" + itoa(i), ParentID: "0", DisplayName: name, Type: 12}))
		}
		e.handler.Inject(sim.HTTPStep{Body: bodies[name]})
		res, err := e.sync()
		require.NoError(t, err, name)
		require.Equal(t, states.Synced, res.State, name)
		require.True(t, res.Tree.Equal(hierarchy.NewTree(e.srv.Folders()...)), "%s: client and server differ", name)
	}
}
