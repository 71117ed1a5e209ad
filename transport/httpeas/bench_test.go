package httpeas_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
	"github.com/easkit/foldersync/transport/httpeas"
	"github.com/easkit/foldersync/transport/sim"
)

// Issue 4: an initial FolderSync of a large hierarchy from transport/sim, over
// loopback HTTP (httptest, real TCP), through httpeas and a machine.Session, into a
// hierarchy.FileStore. docs/BENCHMARKS.md records the figures and how to rerun them.

// benchSizes are the hierarchy sizes, default folders included.
var benchSizes = []int{1000, 10000, 100000}

const (
	benchUser = "bench"
	benchPass = "bench-pa55-w0rd"
)

// benchNames are display-name stems: what real mailboxes hold, in several scripts,
// with the characters XML and JSON must escape. With the suffixes below a name is
// 6 to 28 bytes, 16 on average.
var benchNames = []string{
	"Clients", "Invoices", "Receipts", "Newsletters", "Travel", "Project Apollo",
	"Quarterly reports", "Recruiting", "Legal & Compliance", "Kundenkorrespondenz",
	"Réunions d'équipe", "Проекты", "会議メモ", "客户", "Αρχείο", "العملاء", "לקוחות",
	"📦 Orders", "R&D <2026>", "Board \"minutes\"", "Support tickets", "Family",
	"Vendors", "Conferences",
}

var benchSuffixes = []string{"", "", "", " 2019", " 2024", " 2025", " Q3", " (shared)", " – old", " archive"}

// benchFolders returns a deterministic hierarchy of n folders (n ≥ 16): the
// default hierarchy of sim.DefaultFolders, then user folders at one to four levels
// below the root or a default folder (10%, 30%, 35% and 25% of them), each of the
// type that fits where it is (mail, calendar, contacts, tasks, notes, journal).
// The depth does not grow with n, so neither does the work a depth costs: the
// benchmark compares sizes, not shapes. ServerIds are SOGo-shaped, like those of
// internal/testutil.FolderSyncTree: "mail%2F" and 32 hex digits.
func benchFolders(n int) []hierarchy.Folder {
	out := sim.DefaultFolders()
	if n < len(out) {
		panic(fmt.Sprintf("benchFolders: %d folders is fewer than the %d defaults", n, len(out)))
	}
	// Where a top user folder goes, weighted by repetition: mostly mail.
	type anchor struct {
		parent string
		typ    transport.FolderType
	}
	anchors := []anchor{
		{hierarchy.RootID, transport.FolderUserMail}, {hierarchy.RootID, transport.FolderUserMail},
		{"inbox", transport.FolderUserMail}, {"inbox", transport.FolderUserMail}, {"inbox", transport.FolderUserMail},
		{"archive", transport.FolderUserMail}, {"sent", transport.FolderUserMail},
		{"calendar", transport.FolderUserCalendar}, {"contacts", transport.FolderUserContacts},
		{"tasks", transport.FolderUserTasks}, {"notes", transport.FolderUserNotes}, {"journal", transport.FolderUserJournal},
	}
	rng := rand.New(rand.NewSource(42))
	var levels [5][]hierarchy.Folder // user folders by level, 1 to 4
	for i := len(out); i < n; i++ {
		f := hierarchy.Folder{
			ServerID:    fmt.Sprintf("mail%%2F%08x%08x%016x", i, rng.Uint32(), rng.Uint64()),
			DisplayName: benchNames[rng.Intn(len(benchNames))] + benchSuffixes[rng.Intn(len(benchSuffixes))],
		}
		level := 1
		switch r := rng.Intn(20); {
		case r >= 15:
			level = 4
		case r >= 8:
			level = 3
		case r >= 2:
			level = 2
		}
		for level > 1 && len(levels[level-1]) == 0 {
			level--
		}
		if level == 1 {
			a := anchors[rng.Intn(len(anchors))]
			f.ParentID, f.Type = a.parent, a.typ
		} else {
			p := levels[level-1][rng.Intn(len(levels[level-1]))]
			f.ParentID, f.Type = p.ServerID, p.Type
		}
		levels[level] = append(levels[level], f)
		out = append(out, f)
	}
	return out
}

// wireCounter wraps the sim's handler to record the body bytes of the last POST
// answer as sent on the wire (compressed when gzip is on) and its Content-Encoding.
type wireCounter struct {
	h http.Handler

	mu       sync.Mutex
	bytes    int64
	encoding string
}

func (c *wireCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w}
	c.h.ServeHTTP(cw, r)
	if r.Method == http.MethodPost {
		// net/http sends the end of the body only after ServeHTTP returns, so the
		// client cannot have the whole answer before this is recorded.
		c.mu.Lock()
		c.bytes, c.encoding = cw.n, w.Header().Get("Content-Encoding")
		c.mu.Unlock()
	}
}

func (c *wireCounter) last() (int64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.encoding
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (Flush, Hijack).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// loopback is the sim serving folders over httptest, and an httpeas client for it
// that has already negotiated its protocol version (OPTIONS is not part of a sync
// measured here: a client probes once a day).
type loopback struct {
	wire   *wireCounter
	client *httpeas.Client
}

func newLoopback(b *testing.B, folders []hierarchy.Folder, gz bool) *loopback {
	b.Helper()
	h := sim.NewHandler(sim.New(sim.Replay, sim.WithFolders(folders...)), sim.HandlerOptions{Users: map[string]string{benchUser: benchPass}, Gzip: gz})
	l := &loopback{wire: &wireCounter{h: h}}
	ts := httptest.NewServer(l.wire)
	b.Cleanup(ts.Close)
	var err error
	l.client, err = httpeas.New(httpeas.Options{URL: ts.URL + "/Microsoft-Server-ActiveSync", User: benchUser, Password: benchPass, DeviceID: "BENCH1", AllowInsecureHTTP: true})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.client.Probe(context.Background()); err != nil {
		b.Fatal(err)
	}
	return l
}

// freshStores opens k FileStores, each in a new empty directory under b.TempDir(),
// so that every timed sync is an initial one into an empty store. Opening creates
// the directory and reads nothing, so doing it before the timer starts hides no
// work a sync does.
func freshStores(b *testing.B, k int) []*hierarchy.FileStore {
	b.Helper()
	root := b.TempDir()
	stores := make([]*hierarchy.FileStore, k)
	for i := range stores {
		s, err := hierarchy.OpenFileStore(filepath.Join(root, strconv.Itoa(i)))
		if err != nil {
			b.Fatal(err)
		}
		stores[i] = s
	}
	return stores
}

// reportPerFolder reports ns, bytes and allocations per folder for the b.N
// iterations measured since before (read just before the timer started).
func reportPerFolder(b *testing.B, before *runtime.MemStats, n int) {
	b.Helper()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	per := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/per, "ns/folder")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/per, "B/folder")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/per, "allocs/folder")
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

// BenchmarkInitialSyncLoopback is one whole initial FolderSync per iteration: a
// machine.Session with an empty FileStore sends SyncKey 0 through httpeas to the
// sim over loopback TCP, applies the n Adds of the answer to its tree, and commits
// it (write, fsync, rename, fsync the directory). Everything runs in this process,
// so the figures include the server's side (diff, WBXML encode, gzip) as well as
// the client's. Each iteration checks that the session synced and that the tree it
// committed holds n folders; the last store is loaded again after the timer stops.
func BenchmarkInitialSyncLoopback(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("folders=%d", n), func(b *testing.B) {
			folders := benchFolders(n)
			for _, gz := range []bool{false, true} {
				b.Run("gzip="+onOff(gz), func(b *testing.B) { benchInitialSync(b, folders, gz) })
			}
		})
	}
}

func benchInitialSync(b *testing.B, folders []hierarchy.Folder, gz bool) {
	n := len(folders)
	l := newLoopback(b, folders, gz)
	stores := freshStores(b, b.N)
	ctx := context.Background()
	var res *machine.Result
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sess, err := machine.New(machine.Config{Transport: l.client, Store: stores[i], SessionID: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		res, err = sess.Sync(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if res.State != states.Synced || res.Tree.Len() != n {
			b.Fatalf("session ended %v with %d folders, want synced with %d", res.State, res.Tree.Len(), n)
		}
	}
	b.StopTimer()
	reportPerFolder(b, &before, n)

	wire, enc := l.wire.last()
	if gz != (enc == "gzip") {
		b.Fatalf("the answer's Content-Encoding is %q with gzip %s", enc, onOff(gz))
	}
	b.ReportMetric(float64(wire), "resp-bytes")
	st, err := stores[b.N-1].Load(ctx)
	if err != nil || st.SyncKey != res.SyncKey || st.Tree.Len() != n {
		b.Fatalf("the committed store holds key %q and %d folders (%v), want %q and %d", st.SyncKey, st.Tree.Len(), err, res.SyncKey, n)
	}
}

// BenchmarkInitialSyncParts splits BenchmarkInitialSyncLoopback into its stages,
// each measured alone on the same data:
//
//   - server/sim: sim.Server.FolderSync for SyncKey 0 (diff against the empty
//     hierarchy, sort, encode, and the sim's decode of its own answer);
//   - server/handler: the whole sim.Handler.ServeHTTP of the POST into a writer that
//     discards (the above, plus checks, the handler's re-encode, and gzip);
//   - http: the loopback round trip alone, a POST answered with the finished body
//     by a handler that only writes it, read as httpeas reads it (the Content-Length
//     preallocated, or gunzipped);
//   - decode: transport.UnmarshalFolderSyncResponse of the body;
//   - apply: hierarchy.Tree.Apply of the n Adds to an empty tree;
//   - commit: hierarchy.FileStore.Commit of the tree into an empty directory.
//
// The session's own work (two decisions, a clone of the empty tree) is what is
// left.
func BenchmarkInitialSyncParts(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("folders=%d", n), func(b *testing.B) { benchParts(b, n) })
	}
}

func benchParts(b *testing.B, n int) {
	ctx := context.Background()
	folders := benchFolders(n)
	srv := sim.New(sim.Replay, sim.WithFolders(folders...))
	reply, err := srv.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey})
	if err != nil || reply.Response == nil || len(reply.Response.Changes) != n {
		b.Fatalf("sim answered %+v, %v", reply, err)
	}
	body, err := reply.Response.MarshalWBXML()
	if err != nil {
		b.Fatal(err)
	}
	changes := reply.Response.Changes
	tree := &hierarchy.Tree{}
	if _, err := tree.Apply(changes); err != nil {
		b.Fatal(err)
	}
	// run measures the loop that setup returns; setup runs first, unmeasured.
	run := func(stage string, setup func(b *testing.B) (loop func(b *testing.B))) {
		b.Run(stage, func(b *testing.B) {
			loop := setup(b)
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			loop(b)
			b.StopTimer()
			reportPerFolder(b, &before, n)
		})
	}
	// just is a setup with nothing to set up.
	just := func(loop func(b *testing.B)) func(*testing.B) func(*testing.B) {
		return func(*testing.B) func(*testing.B) { return loop }
	}

	run("server/sim", just(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, err := srv.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey})
			if err != nil || len(r.Response.Changes) != n {
				b.Fatal(err)
			}
		}
	}))
	for _, gz := range []bool{false, true} {
		run("server/handler/gzip="+onOff(gz), func(b *testing.B) func(*testing.B) { return handlerLoop(b, folders, gz) })
	}
	for _, gz := range []bool{false, true} {
		run("http/gzip="+onOff(gz), func(b *testing.B) func(*testing.B) { return httpLoop(b, body, gz) })
	}
	run("decode", just(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r, err := transport.UnmarshalFolderSyncResponse(body)
			if err != nil || len(r.Changes) != n {
				b.Fatal(err)
			}
		}
	}))
	run("apply", just(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			t := &hierarchy.Tree{}
			if _, err := t.Apply(changes); err != nil || t.Len() != n {
				b.Fatal(err)
			}
		}
	}))
	run("commit", func(b *testing.B) func(*testing.B) {
		stores := freshStores(b, b.N)
		return func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := stores[i].Commit(ctx, "1", tree); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// discardWriter is an http.ResponseWriter that keeps only the header and a count.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// handlerLoop returns a loop that serves the initial FolderSync POST httpeas sends
// straight through sim.Handler.ServeHTTP, without a connection.
func handlerLoop(b *testing.B, folders []hierarchy.Folder, gz bool) func(*testing.B) {
	h := sim.NewHandler(sim.New(sim.Replay, sim.WithFolders(folders...)), sim.HandlerOptions{Users: map[string]string{benchUser: benchPass}, Gzip: gz})
	reqBody, err := (&transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}).MarshalWBXML()
	if err != nil {
		b.Fatal(err)
	}
	q, err := ashttp.EncodePlain(ashttp.Query{Cmd: "FolderSync", User: benchUser, DeviceID: "BENCH1", DeviceType: "foldersync"})
	if err != nil {
		b.Fatal(err)
	}
	return func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync?"+q, bytes.NewReader(reqBody))
			r.Header.Set("Content-Type", ashttp.ContentTypeWBXML)
			r.Header.Set(ashttp.HeaderProtocolVersion, "16.1")
			r.Header.Set("Accept-Encoding", "gzip")
			r.SetBasicAuth(benchUser, benchPass)
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, r)
			if w.status != http.StatusOK || w.n < len(folders) {
				b.Fatalf("handler answered %d with %d bytes", w.status, w.n)
			}
		}
	}
}

// httpLoop returns a loop that posts to a loopback server answering every POST
// with body (gzipped once, beforehand, when gz) and reads the answer as httpeas
// does.
func httpLoop(b *testing.B, body []byte, gz bool) func(*testing.B) {
	payload := body
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		payload = buf.Bytes()
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ashttp.ContentTypeWBXML)
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		_, _ = w.Write(payload)
	}))
	b.Cleanup(ts.Close)
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}}
	b.Cleanup(hc.CloseIdleConnections)
	reqBody, err := (&transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}).MarshalWBXML()
	if err != nil {
		b.Fatal(err)
	}
	return func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			req, err := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(reqBody))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var r io.Reader = resp.Body
			var buf bytes.Buffer
			if gz {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					b.Fatal(err)
				}
				r = zr
			} else {
				buf.Grow(int(resp.ContentLength))
			}
			if _, err := buf.ReadFrom(io.LimitReader(r, httpeas.DefaultMaxResponseBytes+1)); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if buf.Len() != len(body) {
				b.Fatalf("read %d bytes, want %d", buf.Len(), len(body))
			}
		}
	}
}

// TestBenchFolders keeps the benchmark's hierarchy honest: valid, deterministic,
// of the size asked, with the depth and name lengths the comment promises.
func TestBenchFolders(t *testing.T) {
	a, c := benchFolders(2000), benchFolders(2000)
	if len(a) != 2000 {
		t.Fatalf("%d folders, want 2000", len(a))
	}
	tree, err := hierarchy.BuildTree(a)
	if err != nil {
		t.Fatal(err)
	}
	if o := tree.Orphans(); len(o) > 0 {
		t.Fatalf("orphans: %q", o)
	}
	depth := func(f hierarchy.Folder) int {
		d := 0
		for ; f.ParentID != hierarchy.RootID; d++ {
			f, _ = tree.Get(f.ParentID)
		}
		return d
	}
	maxDepth, nameBytes := 0, 0
	for i, f := range a {
		if f != c[i] {
			t.Fatalf("folder %d differs between two calls: %v, %v", i, f, c[i])
		}
		maxDepth = max(maxDepth, depth(f))
		nameBytes += len(f.DisplayName)
	}
	if maxDepth < 4 || maxDepth > 5 {
		t.Errorf("deepest folder at depth %d, want 4 or 5", maxDepth)
	}
	if avg := nameBytes / len(a); avg < 10 || avg > 30 {
		t.Errorf("display names average %d bytes", avg)
	}
}
