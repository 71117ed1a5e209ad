package faults_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
	"github.com/easkit/foldersync/wbxml"
)

func kinds(s faults.Schedule, n int) []faults.Kind {
	out := make([]faults.Kind, n)
	for i := range out {
		out[i] = s.Fault(i + 1).Kind
	}
	return out
}

func TestSeededDeterministic(t *testing.T) {
	const n = 10_000
	a := kinds(faults.Seeded(42, 0.2), n)
	assert.Equal(t, a, kinds(faults.Seeded(42, 0.2), n), "same seed, same sequence")

	// Call order does not matter: the fault of call n depends on seed and n only.
	s := faults.Seeded(42, 0.2)
	for i := n; i >= 1; i-- {
		require.Equal(t, a[i-1], s.Fault(i).Kind)
	}

	for _, other := range []int64{43, -42, 0, 1 << 40, int64(-7046029254386353089)} { // the last is 42+golden (splitmix64 constant) as int64
		b := kinds(faults.Seeded(other, 0.2), n)
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		assert.Greater(t, diff, n/10, "seed %d differs from seed 42", other)
		for shift := 1; shift <= 3; shift++ { // nor is it seed 42's sequence shifted
			same := 0
			for i := 0; i+shift < n; i++ {
				if b[i] == a[i+shift] {
					same++
				}
			}
			assert.Less(t, same, n*9/10, "seed %d is seed 42 shifted by %d calls", other, shift)
		}
	}
}

func TestSeededRateAndMenu(t *testing.T) {
	const n = 10_000
	tests := []struct {
		name string
		rate float64
		menu []faults.Fault
		want []faults.Kind // allowed kinds
	}{
		{"default menu", 0.2, nil, []faults.Kind{
			faults.KindRequestLost, faults.KindResponseLost, faults.KindTimeout,
			faults.KindConnectionReset, faults.KindTruncatedBody, faults.KindCorruptBody,
		}},
		{"two kinds", 0.2, []faults.Fault{faults.RequestLost, faults.Status(6)}, []faults.Kind{faults.KindRequestLost, faults.KindStatus}},
		{"http only", 0.2, []faults.Fault{faults.HTTP(503, time.Second, true)}, []faults.Kind{faults.KindHTTP}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, seed := range []int64{1, 2, 3, 1234567} {
				s := faults.Seeded(seed, tc.rate, tc.menu...)
				hits := 0
				per := map[faults.Kind]int{}
				for i := 1; i <= n; i++ {
					f := s.Fault(i)
					if f.Kind == faults.KindNone {
						assert.Equal(t, faults.None, f)
						continue
					}
					hits++
					per[f.Kind]++
					require.Contains(t, tc.want, f.Kind)
					if f.Kind == faults.KindStatus {
						require.Equal(t, 6, f.Status)
					}
				}
				assert.InDelta(t, tc.rate, float64(hits)/n, 0.02, "seed %d", seed)
				assert.Len(t, per, len(tc.want), "every menu entry is used")
				for k, c := range per {
					assert.InDelta(t, float64(hits)/float64(len(tc.want)), c, float64(hits)/float64(len(tc.want))*0.2, "kind %s", k)
				}
			}
		})
	}
}

func TestSeededRateBounds(t *testing.T) {
	count := func(s faults.Schedule) int {
		hits := 0
		for i := 1; i <= 1000; i++ {
			if s.Fault(i).Kind != faults.KindNone {
				hits++
			}
		}
		return hits
	}
	assert.Equal(t, 0, count(faults.Seeded(1, 0)))
	assert.Equal(t, 0, count(faults.Seeded(1, -1)))
	assert.Equal(t, 0, count(faults.Seeded(1, math.NaN())))
	assert.Equal(t, 1000, count(faults.Seeded(1, 1)))
	assert.Equal(t, 1000, count(faults.Seeded(1, 7)))

	menu := []faults.Fault{faults.RequestLost}
	s := faults.Seeded(1, 1, menu...)
	menu[0] = faults.CorruptBody
	assert.Equal(t, faults.RequestLost, s.Fault(1), "the menu is copied")
}

func TestScriptAndSequence(t *testing.T) {
	script := map[int]faults.Fault{2: faults.ResponseLost, 5: faults.Status(9)}
	sc := faults.Script(script)
	script[3] = faults.CorruptBody
	want := []faults.Kind{faults.KindNone, faults.KindResponseLost, faults.KindNone, faults.KindNone, faults.KindStatus, faults.KindNone}
	assert.Equal(t, want, kinds(sc, 6), "the map is copied")
	assert.Equal(t, 9, sc.Fault(5).Status)

	fs := []faults.Fault{faults.None, faults.Timeout, faults.ConnectionReset}
	seq := faults.Sequence(fs...)
	fs[0] = faults.RequestLost
	assert.Equal(t, []faults.Kind{faults.KindNone, faults.KindTimeout, faults.KindConnectionReset, faults.KindNone, faults.KindNone}, kinds(seq, 5))
	assert.Equal(t, faults.None, seq.Fault(0))
	assert.Equal(t, faults.None, seq.Fault(-1))
	assert.Equal(t, faults.None, faults.Sequence().Fault(1))

	fn := faults.ScheduleFunc(func(call int) faults.Fault {
		if call%2 == 0 {
			return faults.RequestLost
		}
		return faults.None
	})
	assert.Equal(t, []faults.Kind{faults.KindNone, faults.KindRequestLost, faults.KindNone}, kinds(fn, 3))
}

func TestFaultStrings(t *testing.T) {
	for f, want := range map[faults.Fault]string{
		faults.None:                                   "none",
		faults.RequestLost:                            "request-lost",
		faults.ResponseLost:                           "response-lost",
		faults.Timeout:                                "timeout",
		faults.ConnectionReset:                        "connection-reset",
		faults.TruncatedBody:                          "truncated-body",
		faults.CorruptBody:                            "corrupt-body",
		faults.ResetRequested:                         "reset-requested",
		faults.Status(9):                              "status 9",
		faults.HTTP(401, 0, false):                    "http 401",
		faults.HTTP(503, 2*time.Second, true):         "http 503 retry-after 2s throttle CommandFrequency",
		faults.HTTP(451, 0, false).WithLocation("x"):  "http 451 location x",
		faults.HTTP(500, 0, false).WithThrottle("RC"): "http 500 throttle RC",
		{Kind: 99}:                                    "Kind(99)",
	} {
		assert.Equal(t, want, f.String())
	}
}

// env is a sim server behind a fault wrapper, after a first successful sync.
type env struct {
	srv *sim.Server
	tr  *faults.Transport
	key string
}

func newEnv(t *testing.T, profile sim.Profile, f faults.Fault) *env {
	t.Helper()
	srv := sim.New(profile, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(srv, faults.Sequence(faults.None, f))
	reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
	require.NoError(t, err)
	require.NoError(t, srv.AddFolder(hierarchy.Folder{ServerID: "x", ParentID: "0", DisplayName: "X", Type: transport.FolderUserMail}))
	return &env{srv: srv, tr: tr, key: reply.Response.SyncKey}
}

func TestEachKind(t *testing.T) {
	type check func(t *testing.T, reply *transport.Reply, err error)
	noAnswer := func(kind error) check {
		return func(t *testing.T, reply *transport.Reply, err error) {
			assert.Nil(t, reply)
			require.ErrorIs(t, err, kind)
			require.ErrorIs(t, err, faults.ErrInjected)
			var te *transport.Error
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 0, te.HTTPStatus)
		}
	}
	unreadable := func(t *testing.T, reply *transport.Reply, err error) {
		assert.Nil(t, reply)
		require.ErrorIs(t, err, transport.ErrUnreadable)
		assert.NotErrorIs(t, err, faults.ErrInjected, "the cause is the real decoder error")
		var te *transport.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 200, te.HTTPStatus)
		var se *wbxml.SyntaxError
		var fe *transport.FieldError
		assert.True(t, errors.As(err, &se) || errors.As(err, &fe), "cause %T: %v", te.Cause, te.Cause)
	}
	tests := []struct {
		name       string
		fault      faults.Fault
		callsInner bool
		check      check
	}{
		{"request lost", faults.RequestLost, false, noAnswer(transport.ErrTimeout)},
		{"connection reset", faults.ConnectionReset, false, noAnswer(transport.ErrConnection)},
		{"response lost", faults.ResponseLost, true, noAnswer(transport.ErrTimeout)},
		{"timeout", faults.Timeout, true, noAnswer(transport.ErrTimeout)},
		{"truncated body", faults.TruncatedBody, true, unreadable},
		{"corrupt body", faults.CorruptBody, true, unreadable},
		{"status 9", faults.Status(9), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, 200, reply.HTTPStatus)
			assert.Equal(t, transport.NewStatusResponse(9), reply.Response)
			assert.Equal(t, "faults-2", reply.RequestID)
		}},
		{"status 110", faults.Status(110), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, 110, reply.Response.Status)
		}},
		{"http 503", faults.HTTP(503, 3*time.Second, true), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, &transport.Reply{HTTPStatus: 503, RetryAfter: 3 * time.Second, HasRetryAfter: true,
				Throttle: faults.DefaultThrottle, RequestID: "faults-2"}, reply)
		}},
		{"http 503 own throttle", faults.HTTP(503, 0, false).WithThrottle("RecentCommands"), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, "RecentCommands", reply.Throttle)
			assert.False(t, reply.HasRetryAfter)
		}},
		{"http 451", faults.HTTP(451, 0, false), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, &transport.Reply{HTTPStatus: 451, Location: faults.DefaultRedirect, RedirectOK: true, RequestID: "faults-2"}, reply)
		}},
		{"http 451 own location", faults.HTTP(451, 0, false).WithLocation("https://other.example/eas"), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, "https://other.example/eas", reply.Location)
			assert.True(t, reply.RedirectOK)
		}},
		{"http 451 to plain http", faults.HTTP(451, 0, false).WithLocation("http://other.example/eas"), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.False(t, reply.RedirectOK)
			assert.Contains(t, reply.RedirectRefusal, "plain HTTP")
		}},
		{"reset requested", faults.ResetRequested, true, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.True(t, reply.ResetRequested)
			require.NotNil(t, reply.Response, "the server answered; only the header is added")
			assert.Equal(t, 1, reply.Response.Status)
		}},
		{"http 401", faults.HTTP(401, 0, false), false, func(t *testing.T, reply *transport.Reply, err error) {
			require.NoError(t, err)
			assert.Equal(t, &transport.Reply{HTTPStatus: 401, RequestID: "faults-2"}, reply)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sim.Replay, tc.fault)
			reply, err := e.tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: e.key})
			tc.check(t, reply, err)
			if tc.callsInner {
				assert.Equal(t, 2, e.srv.Requests(), "the server saw the request")
				assert.NotEqual(t, e.key, e.srv.CurrentKey(), "and advanced its key")
			} else {
				assert.Equal(t, 1, e.srv.Requests(), "the server never saw the request")
				assert.Equal(t, e.key, e.srv.CurrentKey())
			}
			inj := e.tr.Injected()
			require.Len(t, inj, 1)
			assert.Equal(t, 2, inj[0].Call)
			assert.Equal(t, tc.fault, inj[0].Fault)
			assert.NotEmpty(t, inj[0].Detail)
			assert.Equal(t, 2, e.tr.Calls())

			// The call after the fault goes through; after a lost answer the Replay
			// server gives the lost response again, so the client catches up.
			reply, err = e.tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: e.key})
			require.NoError(t, err)
			assert.Equal(t, 1, reply.Response.Status)
			assert.Equal(t, []transport.FolderChange{{Op: transport.OpAdd, ServerID: "x", ParentID: "0", DisplayName: "X", Type: transport.FolderUserMail}}, reply.Response.Changes)
		})
	}
}

// TestResponseLostPerProfile: what a resend of the same key gets after each profile
// applied the lost request (DESIGN rule 3).
func TestResponseLostPerProfile(t *testing.T) {
	for _, tc := range []struct {
		profile     sim.Profile
		wantChanges int
		sameKey     bool
	}{
		{sim.Replay, 1, false},
		{sim.Reexecute, 1, false},
		{sim.Lenient, 0, true},                                  // SOGo: the lost change never comes back
		{sim.SilentReset, len(sim.DefaultFolders()) + 1, false}, // the full hierarchy
	} {
		t.Run(tc.profile.String(), func(t *testing.T) {
			e := newEnv(t, tc.profile, faults.ResponseLost)
			_, err := e.tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: e.key})
			require.ErrorIs(t, err, transport.ErrTimeout)
			reply, err := e.tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: e.key})
			require.NoError(t, err)
			assert.Equal(t, 1, reply.Response.Status)
			assert.Len(t, reply.Response.Changes, tc.wantChanges)
			assert.Equal(t, tc.sameKey, reply.Response.SyncKey == e.key)
		})
	}
}

// stub is an inner transport that counts calls and answers as told.
type stub struct {
	calls atomic.Int32
	reply *transport.Reply
	err   error
}

func (s *stub) FolderSync(context.Context, *transport.FolderSyncRequest) (*transport.Reply, error) {
	s.calls.Add(1)
	return s.reply, s.err
}

func TestInnerFailuresAndBodiless(t *testing.T) {
	boom := &transport.Error{Err: transport.ErrConnection, Cause: errors.New("boom")}
	for _, f := range []faults.Fault{faults.ResponseLost, faults.Timeout, faults.TruncatedBody, faults.CorruptBody} {
		t.Run("inner error/"+f.String(), func(t *testing.T) {
			in := &stub{err: boom}
			tr := faults.Wrap(in, faults.Sequence(f))
			_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
			assert.Same(t, boom, err, "the inner error is returned as is")
			assert.EqualValues(t, 1, in.calls.Load())
			require.Len(t, tr.Injected(), 1)
			assert.Contains(t, tr.Injected()[0].Detail, "no effect")
		})
	}
	for _, f := range []faults.Fault{faults.TruncatedBody, faults.CorruptBody} {
		t.Run("no body/"+f.String(), func(t *testing.T) {
			bodiless := &transport.Reply{HTTPStatus: 500, RequestID: "x"}
			tr := faults.Wrap(&stub{reply: bodiless}, faults.Sequence(f))
			reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
			require.NoError(t, err)
			assert.Same(t, bodiless, reply, "nothing to damage")
		})
	}
	t.Run("undefined kind", func(t *testing.T) {
		in := &stub{reply: &transport.Reply{HTTPStatus: 200}}
		tr := faults.Wrap(in, faults.Sequence(faults.Fault{Kind: 99}))
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
		assert.ErrorContains(t, err, "undefined fault kind")
		assert.EqualValues(t, 0, in.calls.Load())
	})
	t.Run("invalid status", func(t *testing.T) {
		in := &stub{}
		tr := faults.Wrap(in, faults.Sequence(faults.Status(-1)))
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
		assert.Error(t, err)
		assert.EqualValues(t, 0, in.calls.Load())
	})
}

// TestDamagedBodies checks truncation and corruption of many response shapes: the
// cause is always a decoder error, never a made-up one.
func TestDamagedBodies(t *testing.T) {
	responses := []*transport.FolderSyncResponse{
		transport.NewStatusResponse(9),
		transport.NewSuccessResponse("1", nil),
		transport.NewSuccessResponse(strings.Repeat("k", 64), nil),
	}
	var changes []transport.FolderChange
	for _, f := range sim.DefaultFolders() {
		changes = append(changes, transport.FolderChange{Op: transport.OpAdd, ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: f.Type})
		responses = append(responses, transport.NewSuccessResponse("42", append([]transport.FolderChange(nil), changes...)))
	}
	responses = append(responses, transport.NewSuccessResponse("7", []transport.FolderChange{{Op: transport.OpDelete, ServerID: "a"}}))
	for _, f := range []faults.Fault{faults.TruncatedBody, faults.CorruptBody} {
		for i, r := range responses {
			tr := faults.Wrap(&stub{reply: &transport.Reply{HTTPStatus: 200, Response: r}}, faults.Sequence(f))
			_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
			require.ErrorIs(t, err, transport.ErrUnreadable, "%s response %d", f, i)
			var se *wbxml.SyntaxError
			var fe *transport.FieldError
			require.True(t, errors.As(err, &se) || errors.As(err, &fe), "%s response %d: %v", f, i, err)
			assert.NotContains(t, err.Error(), "decoded", "%s response %d", f, i)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	in := &stub{}
	tr := faults.Wrap(in, faults.Seeded(1, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tr.FolderSync(ctx, &transport.FolderSyncRequest{SyncKey: "0"})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, tr.Calls(), "a call on a done context is not counted")
	assert.Empty(t, tr.Injected())
	assert.EqualValues(t, 0, in.calls.Load())
}

func TestNilScheduleAndPassThrough(t *testing.T) {
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(srv, nil)
	var _ transport.Transport = tr
	key := "0"
	for range 5 {
		reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: key})
		require.NoError(t, err)
		key = reply.Response.SyncKey
		assert.True(t, strings.HasPrefix(reply.RequestID, "sim-"), "a clean call returns the inner reply")
	}
	assert.Equal(t, 5, tr.Calls())
	assert.Empty(t, tr.Injected())
}

func TestInjectedLog(t *testing.T) {
	srv := sim.New(sim.Reexecute, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(srv, faults.Script(map[int]faults.Fault{1: faults.RequestLost, 3: faults.ResponseLost, 4: faults.Status(6)}))
	key := "0"
	for range 5 {
		reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: key})
		if err == nil && reply.Response.Status == 1 {
			key = reply.Response.SyncKey
		}
	}
	inj := tr.Injected()
	require.Len(t, inj, 3)
	assert.Equal(t, []int{1, 3, 4}, []int{inj[0].Call, inj[1].Call, inj[2].Call})
	assert.Equal(t, []faults.Fault{faults.RequestLost, faults.ResponseLost, faults.Status(6)}, []faults.Fault{inj[0].Fault, inj[1].Fault, inj[2].Fault})
	assert.Contains(t, inj[0].Detail, "request lost")
	assert.Contains(t, inj[1].Detail, "status 1")
	assert.Contains(t, inj[1].Detail, "response lost")
	assert.Contains(t, inj[2].Detail, "status 6")
	inj[0].Call = 100
	assert.Equal(t, 1, tr.Injected()[0].Call, "Injected returns a copy")
	assert.Equal(t, 3, srv.Requests(), "calls 2, 3 and 5 reached the server")
}

// TestConcurrent runs many calls at once through one wrapper (for -race): every call
// is numbered once, the log is in call order and matches the schedule, and the
// server saw exactly the calls whose fault lets the request through.
func TestConcurrent(t *testing.T) {
	sched := faults.Seeded(7, 0.3, faults.RequestLost, faults.ResponseLost, faults.Timeout,
		faults.ConnectionReset, faults.Status(11), faults.HTTP(503, time.Second, true), faults.TruncatedBody, faults.CorruptBody)
	srv := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
	tr := faults.Wrap(srv, sched)
	const workers, per = 8, 100
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				_, _ = tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "0"})
				_ = tr.Injected()
				_ = tr.Calls()
			}
		}()
	}
	wg.Wait()
	const total = workers * per
	assert.Equal(t, total, tr.Calls())
	inj := tr.Injected()
	wantInner := 0
	j := 0
	for call := 1; call <= total; call++ {
		f := sched.Fault(call)
		switch f.Kind {
		case faults.KindNone, faults.KindResponseLost, faults.KindTimeout, faults.KindTruncatedBody, faults.KindCorruptBody:
			wantInner++
		}
		if f.Kind == faults.KindNone {
			continue
		}
		require.Less(t, j, len(inj))
		assert.Equal(t, call, inj[j].Call)
		assert.Equal(t, f, inj[j].Fault)
		j++
	}
	assert.Equal(t, j, len(inj))
	assert.Equal(t, wantInner, srv.Requests())
}

func TestParse(t *testing.T) {
	for spec, want := range map[string]faults.Fault{
		"request-lost": faults.RequestLost, "response-lost": faults.ResponseLost, "timeout": faults.Timeout,
		"connection-reset": faults.ConnectionReset, "truncated": faults.TruncatedBody, "corrupt": faults.CorruptBody,
		"reset-requested": faults.ResetRequested, "status-9": faults.Status(9), "http-401": faults.HTTP(401, 0, false),
		"http-503-retry-30s": faults.HTTP(503, 30*time.Second, true),
	} {
		got, err := faults.Parse(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, want, got, spec)
	}
	for _, bad := range []string{"", "lost", "status-0", "status-x", "http-99", "http-600", "http-503-retry-soon", "http-503-retry--1s"} {
		_, err := faults.Parse(bad)
		assert.Error(t, err, bad)
	}
}

// fakeWire performs the kinds in can; a request takes the armed fault unless lost
// is set (the call failed before the server).
type fakeWire struct {
	can   map[faults.Kind]bool
	lost  bool
	armed []faults.Fault
	left  bool
}

func (w *fakeWire) Arm(f faults.Fault) bool {
	if !w.can[f.Kind] {
		return false
	}
	w.armed = append(w.armed, f)
	w.left = w.lost
	return true
}

func (w *fakeWire) Disarm() bool {
	left := w.left
	w.left = false
	return left
}

// With OnWire, the faults the server can perform are armed there and the inner
// reply or error comes back as it is; the others are made up as without it; one
// that no request took is logged as having no effect.
func TestOnWire(t *testing.T) {
	ok := &transport.Reply{HTTPStatus: 200, Response: transport.NewSuccessResponse("3", nil), ResetRequested: true}
	boom := &transport.Error{Err: transport.ErrConnection, Cause: errors.New("read: connection reset by peer")}
	t.Run("performed, answer read", func(t *testing.T) {
		w := &fakeWire{can: map[faults.Kind]bool{faults.KindResetRequested: true}}
		in := &stub{reply: ok}
		tr := faults.Wrap(in, faults.Sequence(faults.ResetRequested)).OnWire(w)
		reply, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "2"})
		require.NoError(t, err)
		assert.Same(t, ok, reply, "what came over the wire, untouched")
		assert.Equal(t, []faults.Fault{faults.ResetRequested}, w.armed)
		require.Len(t, tr.Injected(), 1)
		inj := tr.Injected()[0]
		assert.True(t, inj.OnWire)
		assert.Equal(t, `performed by the server on the wire; the client read: server answered status 1 key "3" with 0 changes, with X-MS-RP`, inj.Detail)
	})
	t.Run("performed, error", func(t *testing.T) {
		w := &fakeWire{can: map[faults.Kind]bool{faults.KindResponseLost: true}}
		tr := faults.Wrap(&stub{err: boom}, faults.Sequence(faults.ResponseLost)).OnWire(w)
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "2"})
		assert.Same(t, boom, err)
		inj := tr.Injected()[0]
		assert.True(t, inj.OnWire)
		assert.Equal(t, "performed by the server on the wire; the client got: transport: connection failed: read: connection reset by peer", inj.Detail)
	})
	t.Run("not on the wire: made up", func(t *testing.T) {
		w := &fakeWire{can: map[faults.Kind]bool{}}
		in := &stub{reply: ok}
		tr := faults.Wrap(in, faults.Sequence(faults.RequestLost)).OnWire(w)
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "2"})
		assert.ErrorIs(t, err, faults.ErrInjected)
		assert.ErrorIs(t, err, transport.ErrTimeout)
		assert.EqualValues(t, 0, in.calls.Load())
		assert.Empty(t, w.armed)
		assert.False(t, tr.Injected()[0].OnWire)
	})
	t.Run("no request took it", func(t *testing.T) {
		w := &fakeWire{can: map[faults.Kind]bool{faults.KindConnectionReset: true}, lost: true}
		tr := faults.Wrap(&stub{err: boom}, faults.Sequence(faults.ConnectionReset)).OnWire(w)
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "2"})
		assert.Same(t, boom, err)
		inj := tr.Injected()[0]
		assert.False(t, inj.OnWire)
		assert.True(t, strings.HasPrefix(inj.Detail, "no effect: the request did not reach the server"), inj.Detail)
	})
	t.Run("no fault: the wire is not asked", func(t *testing.T) {
		w := &fakeWire{can: map[faults.Kind]bool{faults.KindNone: true}}
		tr := faults.Wrap(&stub{reply: ok}, faults.Sequence(faults.None)).OnWire(w)
		_, err := tr.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "2"})
		require.NoError(t, err)
		assert.Empty(t, w.armed)
		assert.Empty(t, tr.Injected())
	})
}

// Damage returns the damaged bytes it describes.
func TestDamageBytes(t *testing.T) {
	body, err := transport.NewSuccessResponse("42", nil).MarshalWBXML()
	require.NoError(t, err)
	cut, detail, cause := faults.Damage(body, false)
	require.Error(t, cause)
	assert.Equal(t, body[:len(cut)], cut)
	assert.Less(t, len(cut), len(body))
	assert.Contains(t, detail, "body cut from")
	bad, detail, cause := faults.Damage(body, true)
	require.Error(t, cause)
	assert.Len(t, bad, len(body))
	diff := 0
	for i := range body {
		if body[i] != bad[i] {
			diff++
			assert.Equal(t, byte(0xFF), bad[i])
		}
	}
	assert.Equal(t, 1, diff, detail)
	_, err = transport.UnmarshalFolderSyncResponse(bad)
	assert.Error(t, err)
	again, err := transport.NewSuccessResponse("42", nil).MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, again, body, "the input is not changed in place")
}
