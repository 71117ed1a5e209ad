// Command customtransport plugs two home-made transport.Transport implementations
// into a session:
//
//   - a Recorder, which wraps another transport, logs every round trip with log/slog,
//     counts the WBXML bytes each way and keeps the conversation;
//   - a Tape, which answers from such a recorded conversation with no server at all:
//     enough to reproduce a user's session on a developer's machine.
//
// transport.Transport is one method, in the manner of net/http's RoundTripper: send
// one FolderSync (MS-ASCMD 2.2.1.5) and report what came back, a *transport.Reply
// whenever the server answered (whatever the status) and a *transport.Error when
// nothing usable came back. It never decides what an answer means: the session
// does, through the transitions table.
//
//	go run ./examples/customtransport
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/sim"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "customtransport:", err)
		os.Exit(1)
	}
}

// Exchange is one recorded round trip: the request body, and either the answer
// (the Reply's status and recovery headers, and the response body) or the error
// that stood for it.
type Exchange struct {
	Request  []byte
	Reply    transport.Reply // without its decoded Response
	Response []byte          // WBXML; nil when the answer had no body
	Err      error           // a *transport.Error when there was no usable answer
}

// Recorder logs, counts and records the round trips it passes to Inner.
//
// It implements transport.Wrapper (Unwrap), so a session looks through it for the
// optional interfaces of what it wraps: transport.Redirector (HTTP 451, MS-ASHTTP
// 3.1.5.2.2) and transport.Provisioner (HTTP 449 or Status 141-144, MS-ASPROV
// 3.1.5.1). Without Unwrap, wrapping an httpeas.Client would turn a redirect or a
// provisioning request into a plain retry.
//
// Like every Transport, it serves one session at a time.
type Recorder struct {
	Inner transport.Transport
	Log   *slog.Logger

	Sent, Received int // WBXML body bytes
	Tape           []Exchange
}

// Unwrap returns the wrapped transport (transport.Wrapper).
func (r *Recorder) Unwrap() transport.Transport { return r.Inner }

// FolderSync implements transport.Transport.
func (r *Recorder) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	body, err := req.MarshalWBXML()
	if err != nil {
		return nil, err
	}
	n := len(r.Tape) + 1
	r.Sent += len(body)
	reply, err := r.Inner.FolderSync(ctx, req)
	ex := Exchange{Request: body, Err: err}
	if err != nil {
		r.Log.Warn("no answer", "n", n, "sync_key", req.SyncKey, "sent_bytes", len(body), "err", err)
		r.Tape = append(r.Tape, ex)
		return nil, err
	}
	ex.Reply = *reply
	ex.Reply.Response = nil
	attrs := []any{"n", n, "sync_key", req.SyncKey, "http", reply.HTTPStatus, "sent_bytes", len(body)}
	if reply.HasRetryAfter {
		attrs = append(attrs, "retry_after", reply.RetryAfter)
	}
	if resp := reply.Response; resp != nil {
		// Transports hand the session decoded bodies; encoding it again gives the
		// bytes the server sent (the codec is byte-exact for canonical documents).
		if ex.Response, err = resp.MarshalWBXML(); err != nil {
			return nil, err
		}
		r.Received += len(ex.Response)
		attrs = append(attrs, "status", resp.Status, "new_key", resp.SyncKey, "changes", len(resp.Changes), "received_bytes", len(ex.Response))
	}
	r.Log.Info("round trip", attrs...)
	r.Tape = append(r.Tape, ex)
	return reply, nil
}

// Tape is a transport backed by a recorded conversation: the n-th request gets the
// n-th recorded answer, provided it is the request that was recorded.
type Tape struct {
	Exchanges []Exchange
	next      int
}

// ErrOffTape: the session asked something the recording does not hold. It is a
// connection error to the session (no usable answer), so a divergence shows up in
// the audit log rather than as a made-up answer.
var ErrOffTape = errors.New("tape: request not on the tape")

// FolderSync implements transport.Transport.
func (t *Tape) FolderSync(ctx context.Context, req *transport.FolderSyncRequest) (*transport.Reply, error) {
	// Every Transport honours ctx: when it has ended, return at once.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := req.MarshalWBXML()
	if err != nil {
		return nil, err
	}
	if t.next >= len(t.Exchanges) || !bytes.Equal(t.Exchanges[t.next].Request, body) {
		return nil, &transport.Error{Err: transport.ErrConnection, Cause: fmt.Errorf("%w: request %d, SyncKey %q", ErrOffTape, t.next+1, req.SyncKey)}
	}
	ex := t.Exchanges[t.next]
	t.next++
	if ex.Err != nil {
		return nil, ex.Err
	}
	reply := ex.Reply // a copy: Retry-After, X-MS-ASThrottle, ... as recorded
	reply.RequestID = fmt.Sprintf("tape-%d", t.next)
	if ex.Response != nil {
		// Decode as a real transport would; a damaged recording is an unreadable body.
		if reply.Response, err = transport.UnmarshalFolderSyncResponse(ex.Response); err != nil {
			return nil, &transport.Error{Err: transport.ErrUnreadable, HTTPStatus: ex.Reply.HTTPStatus, Cause: err}
		}
	}
	return &reply, nil
}

func run(w io.Writer) error {
	// Log lines without the time, so the story reads the same on every run.
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))

	// 1. Live: a Horde-like simulated server, whose answer to the second request is
	// lost on the way (faults.ResponseLost: the server applied it, the client timed
	// out) and which then asks the client to come back in 30s (HTTP 503 with
	// Retry-After), under the Recorder. The answer after the lost one is verified
	// with a full SyncKey 0 FolderSync (policy verify_after_lost_response).
	server := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	rec := &Recorder{Inner: faults.Wrap(server, faults.Sequence(faults.None, faults.ResponseLost, faults.HTTP(503, 30*time.Second, true))), Log: logger}
	fmt.Fprintln(w, "live, through the Recorder:")
	live, waited, err := sessions(rec, func() error {
		return server.AddFolder(hierarchy.Folder{ServerID: "receipts", ParentID: "inbox", DisplayName: "Receipts", Type: transport.FolderUserMail})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "recorded %d round trips: %d bytes sent, %d bytes received; the client holds %d folders, waited %s\n",
		len(rec.Tape), rec.Sent, rec.Received, live.Len(), waited)

	// 2. Offline: the same sessions against the Tape, with a fresh store. No server
	// exists here, and the client ends with the same hierarchy.
	tape := &Tape{Exchanges: rec.Tape}
	replayed, rewaited, err := sessions(tape, func() error { return nil })
	if err != nil {
		return err
	}
	if !replayed.Equal(live) {
		return fmt.Errorf("the tape gave another hierarchy: %v", live.Diff(replayed))
	}
	fmt.Fprintf(w, "\nfrom the Tape: %d of %d answers used, the same %d folders, waited %s\n", tape.next, len(tape.Exchanges), replayed.Len(), rewaited)

	// 3. A session that strays from the recording gets no answer, not a wrong one.
	_, err = tape.FolderSync(context.Background(), &transport.FolderSyncRequest{SyncKey: "7"})
	fmt.Fprintln(w, "off the tape:", err)
	return nil
}

// sessions runs the story both transports go through: an initial sync, a change
// on the server (change), and an incremental sync. It returns the stored tree and
// the simulated time the sessions waited.
func sessions(tr transport.Transport, change func() error) (*hierarchy.Tree, time.Duration, error) {
	store := hierarchy.NewMemoryStore()
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	var res *machine.Result
	var waited time.Duration
	for i, id := range []string{"initial", "incremental"} {
		if i == 1 {
			if err := change(); err != nil {
				return nil, 0, err
			}
		}
		s, err := machine.New(machine.Config{Transport: tr, Store: store, Clock: clock, SessionID: id})
		if err != nil {
			return nil, 0, err
		}
		if res, err = s.Sync(context.Background()); err != nil {
			return nil, 0, err
		}
		waited += res.Counters.Elapsed
	}
	return res.Tree, waited, nil
}
