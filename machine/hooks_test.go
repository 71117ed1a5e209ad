package machine_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

// hooked is a sim server that can also follow redirects and provision, with
// scripted outcomes, to test what the session asks of a transport and when.
type hooked struct {
	*sim.Server
	url        string
	follows    []string
	followOut  []func() (*transport.Reply, error)
	provisions int
	provOut    []func() (*transport.ProvisionResult, error)
}

func (h *hooked) URL() string { return h.url }

func (h *hooked) FollowRedirect(_ context.Context, loc string) (*transport.Reply, error) {
	h.follows = append(h.follows, loc)
	if len(h.followOut) > 0 {
		f := h.followOut[0]
		h.followOut = h.followOut[1:]
		if r, err := f(); r != nil || err != nil {
			return r, err
		}
	}
	h.url = loc
	return nil, nil
}

func (h *hooked) Provision(context.Context) (*transport.ProvisionResult, error) {
	h.provisions++
	if len(h.provOut) > 0 {
		f := h.provOut[0]
		h.provOut = h.provOut[1:]
		return f()
	}
	return &transport.ProvisionResult{HTTPStatus: 200, Status: 1, PolicyStatus: 1, PolicyKey: "42"}, nil
}

func newHooked(t *testing.T) (*hooked, *hierarchy.MemoryStore) {
	t.Helper()
	h := &hooked{Server: sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...)), url: "https://a.example/eas"}
	store := hierarchy.NewMemoryStore()
	s, err := machine.New(machine.Config{Transport: h, Store: store, Clock: machine.NewSimClock(t0)})
	require.NoError(t, err)
	_, err = s.Sync(context.Background())
	require.NoError(t, err)
	return h, store
}

func syncThrough(t *testing.T, tr transport.Transport, store hierarchy.Store) (*machine.Result, []string, error) {
	t.Helper()
	var log strings.Builder
	s, err := machine.New(machine.Config{Transport: tr, Store: store, Clock: machine.NewSimClock(t0), Audit: machine.NewJSONLines(&log)})
	require.NoError(t, err)
	res, err := s.Sync(context.Background())
	recs, rerr := machine.ReadRecords(strings.NewReader(log.String()))
	require.NoError(t, rerr)
	var evs []string
	for _, r := range recs {
		evs = append(evs, r.Event.String())
	}
	return res, evs, err
}

func TestRedirectFollowedOnlyWhenTheTableSaysSo(t *testing.T) {
	h, store := newHooked(t)
	// Through a fault wrapper: the session finds the Redirector behind it.
	tr := faults.Wrap(h, faults.Sequence(faults.HTTP(451, 0, false).WithLocation("https://b.example/eas")))
	res, evs, err := syncThrough(t, tr, store)
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "redirect", "backoff_elapsed", "success"}, evs)
	assert.Equal(t, []string{"https://b.example/eas"}, h.follows)
	assert.Equal(t, "https://b.example/eas", res.URL)

	// Refused by the rule (plain HTTP): never contacted.
	h.follows = nil
	tr = faults.Wrap(h, faults.Sequence(faults.HTTP(451, 0, false).WithLocation("http://c.example/eas")))
	_, _, err = syncThrough(t, tr, store)
	assert.ErrorIs(t, err, machine.ErrRedirect)
	assert.Empty(t, h.follows)

	// No answer from the target: the redirect stays pending and is tried again.
	h.follows = nil
	h.followOut = []func() (*transport.Reply, error){
		func() (*transport.Reply, error) { return nil, &transport.Error{Err: transport.ErrTimeout} },
	}
	tr = faults.Wrap(h, faults.Sequence(faults.HTTP(451, 0, false).WithLocation("https://d.example/eas")))
	res, evs, err = syncThrough(t, tr, store)
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "redirect", "backoff_elapsed", "lost", "backoff_elapsed", "success"}, evs)
	assert.Equal(t, []string{"https://d.example/eas", "https://d.example/eas"}, h.follows)
	assert.Equal(t, "https://d.example/eas", res.URL)
	assert.False(t, res.Counters.LostSinceReset, "a lost probe hides no folder changes")

	// A permanent failure of the target ends the session with its text.
	h.followOut = []func() (*transport.Reply, error){
		func() (*transport.Reply, error) { return nil, errors.New("no common protocol version at the target") },
	}
	tr = faults.Wrap(h, faults.Sequence(faults.HTTP(451, 0, false).WithLocation("https://e.example/eas")))
	_, _, err = syncThrough(t, tr, store)
	assert.ErrorIs(t, err, machine.ErrRequest)
	assert.Contains(t, err.Error(), "no common protocol version at the target")
}

func TestProvisioningOutcomes(t *testing.T) {
	cases := []struct {
		name   string
		out    []func() (*transport.ProvisionResult, error)
		events []string
		kind   error
		calls  int
	}{
		{"provisioned", nil, []string{"start", "provision", "backoff_elapsed", "success"}, nil, 1},
		{"no policy", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) {
				return &transport.ProvisionResult{HTTPStatus: 200, Status: 1, PolicyStatus: 2}, nil
			}}, []string{"start", "provision", "backoff_elapsed", "success"}, nil, 1},
		{"lost, then provisioned", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) { return nil, &transport.Error{Err: transport.ErrConnection} },
		}, []string{"start", "provision", "backoff_elapsed", "lost", "backoff_elapsed", "success"}, nil, 2},
		{"throttled, then provisioned", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) {
				return &transport.ProvisionResult{HTTPStatus: 503, RetryAfter: 5e9, HasRetryAfter: true}, nil
			},
		}, []string{"start", "provision", "backoff_elapsed", "throttled", "backoff_elapsed", "success"}, nil, 2},
		{"remote wipe", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) {
				return &transport.ProvisionResult{HTTPStatus: 200, Status: 1, RemoteWipe: true}, nil
			}}, []string{"start", "provision", "backoff_elapsed", "remote_wipe"}, machine.ErrRemoteWipe, 1},
		{"account-only wipe", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) {
				return &transport.ProvisionResult{HTTPStatus: 200, Status: 1, AccountOnlyRemoteWipe: true}, nil
			}}, []string{"start", "provision", "backoff_elapsed", "remote_wipe"}, machine.ErrRemoteWipe, 1},
		{"refused", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) { return &transport.ProvisionResult{HTTPStatus: 403}, nil },
		}, []string{"start", "provision", "backoff_elapsed", "denied"}, machine.ErrDenied, 1},
		{"token source fails", []func() (*transport.ProvisionResult, error){
			func() (*transport.ProvisionResult, error) { return nil, errors.New("refresh token expired") },
		}, []string{"start", "provision", "backoff_elapsed", "failure"}, machine.ErrRequest, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, store := newHooked(t)
			h.provOut = tc.out
			tr := faults.Wrap(h, faults.Sequence(faults.HTTP(449, 0, false)))
			res, evs, err := syncThrough(t, tr, store)
			assert.Equal(t, tc.events, evs)
			assert.Equal(t, tc.calls, h.provisions)
			if tc.kind == nil {
				require.NoError(t, err)
				assert.Equal(t, states.Synced, res.State)
				assert.False(t, res.Counters.LostSinceReset, "a lost provisioning answer hides no folder changes")
				return
			}
			assert.ErrorIs(t, err, tc.kind)
		})
	}
}

// A transport that can neither follow nor provision just reruns, and says so.
func TestNoHooksJustRerun(t *testing.T) {
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	store := hierarchy.NewMemoryStore()
	tr := faults.Wrap(srv, faults.Sequence(faults.None, faults.HTTP(449, 0, false)))
	_, evs, err := syncThrough(t, tr, store)
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "success"}, evs)
	res, evs, err := syncThrough(t, tr, store)
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "provision", "backoff_elapsed", "success"}, evs)
	assert.Contains(t, strings.Join(res.Warnings, "\n"), "cannot provision")
}

type fixedReply struct{ reply *transport.Reply }

func (f fixedReply) FolderSync(context.Context, *transport.FolderSyncRequest) (*transport.Reply, error) {
	r := *f.reply
	return &r, nil
}

func TestPasswordExpiredSaysWhere(t *testing.T) {
	_, _, err := syncThrough(t, fixedReply{&transport.Reply{HTTPStatus: 457, CredentialServiceURL: "https://password.example.com/"}}, hierarchy.NewMemoryStore())
	assert.ErrorIs(t, err, machine.ErrPasswordExpired)
	assert.Contains(t, err.Error(), "the password can be changed at https://password.example.com/")
}

// dies runs the inner transport (the server applies the request), then ends the
// calling goroutine as a killed process would: nothing after the round trip runs.
type dies struct{ inner transport.Transport }

func (d dies) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	_, _ = d.inner.FolderSync(ctx, req)
	runtime.Goexit()
	return nil, nil
}

// A process killed after the server answered but before the commit lost that
// answer; against a server that never compares keys (SOGo, the Lenient profile)
// the next session must still find the changes: the state was marked unverified
// before the request, so the no-change echo is verified with SyncKey 0.
func TestKilledBeforeCommitIsVerifiedNextTime(t *testing.T) {
	dir := t.TempDir()
	store, err := hierarchy.OpenFileStore(dir)
	require.NoError(t, err)
	srv := sim.New(sim.Lenient, sim.WithFolders(sim.DefaultFolders()...))
	_, _, err = syncThrough(t, srv, store)
	require.NoError(t, err)
	require.NoError(t, srv.AddFolder(hierarchy.Folder{ServerID: "late", ParentID: "0", DisplayName: "Late", Type: 12}))

	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := machine.New(machine.Config{Transport: dies{srv}, Store: store, Clock: machine.NewSimClock(t0)})
		if err == nil {
			_, _ = s.Sync(context.Background())
		}
	}()
	<-done

	reopened, err := hierarchy.OpenFileStore(dir)
	require.NoError(t, err)
	st, err := reopened.Load(context.Background())
	require.NoError(t, err)
	assert.True(t, st.Unverified, "marked before the request")
	res, evs, err := syncThrough(t, srv, reopened)
	require.NoError(t, err)
	assert.Equal(t, []string{"start", "verify", "reset_sent", "success"}, evs)
	_, found := res.Tree.Get("late")
	assert.True(t, found, "the change of the lost answer is found")
	st, err = reopened.Load(context.Background())
	require.NoError(t, err)
	assert.False(t, st.Unverified, "the commit clears the mark")

	// A session that fails with every request answered leaves no mark behind.
	_, _, err = syncThrough(t, fixedReply{&transport.Reply{HTTPStatus: 401}}, reopened)
	assert.ErrorIs(t, err, machine.ErrAuth)
	st, err = reopened.Load(context.Background())
	require.NoError(t, err)
	assert.False(t, st.Unverified)
}
