package soak

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/faults"
	"github.com/easkit/foldersync/transport/httpeas"
	"github.com/easkit/foldersync/transport/sim"
)

// loopback serves one account's sim.Server over HTTP on 127.0.0.1 and holds the
// httpeas client that talks to it.
type loopback struct {
	handler *sim.Handler
	srv     *http.Server
	done    chan struct{}
	tr      *http.Transport
	client  *httpeas.Client
	// serveErr is Serve's error other than ErrServerClosed, read once done is closed.
	serveErr error
}

const (
	loopUser     = "soak"
	loopPassword = "soak-password"
)

// startLoopback starts the account's server on a loopback port chosen by the
// system. The handler and the client read the account's simulated clock (Date and
// Retry-After dates, version re-probing).
func startLoopback(server *sim.Server, clock *machine.SimClock, seed int64) (*loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("soak: loopback listener: %w", err)
	}
	h := sim.NewHandler(server, sim.HandlerOptions{Users: map[string]string{loopUser: loopPassword}, Gzip: true, Now: clock.Now})
	l := &loopback{
		handler: h,
		srv:     &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)},
		done:    make(chan struct{}),
		// No proxy: the requests go to 127.0.0.1 only.
		tr: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second, DisableCompression: true},
	}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			l.serveErr = err
		}
	}()
	l.client, err = httpeas.New(httpeas.Options{
		URL:  "http://" + ln.Addr().String() + "/Microsoft-Server-ActiveSync",
		User: loopUser, Password: loopPassword, DeviceID: fmt.Sprintf("SOAK%d", seed), AllowInsecureHTTP: true,
		HTTPClient: &http.Client{Transport: l.tr}, Now: clock.Now,
	})
	if err != nil {
		_ = l.close()
		return nil, fmt.Errorf("soak: loopback client: %w", err)
	}
	return l, nil
}

// idle closes the client's idle connections, so that their goroutines (and the
// server's) end.
func (l *loopback) idle() { l.tr.CloseIdleConnections() }

// close shuts the server and its connections, waits for Serve to return, and
// returns the error that ended Serve early, if one did.
func (l *loopback) close() error {
	l.tr.CloseIdleConnections()
	_ = l.srv.Close()
	<-l.done
	if l.serveErr != nil {
		return fmt.Errorf("soak: loopback server: %w", l.serveErr)
	}
	return nil
}

// settleTimeout is how long settle waits for goroutines to end.
const settleTimeout = 5 * time.Second

// settle waits, up to settleTimeout, for runtime.NumGoroutine to come down to at
// most baseline, and returns the last count and whether it did. Goroutines that
// are ending (a closed connection's reader and writer, the server's side of it)
// need a moment: the loop sleeps (spinning would keep them from running), a little
// longer each round.
func settle(baseline int) (int, bool) {
	deadline := time.Now().Add(settleTimeout)
	wait := 50 * time.Microsecond
	for {
		n := runtime.NumGoroutine()
		if n <= baseline {
			return n, true
		}
		if time.Now().After(deadline) {
			return n, false
		}
		time.Sleep(wait)
		wait = min(wait*3/2, 2*time.Millisecond)
	}
}

// Arm implements faults.Wire: the loopback server performs the fault on the next
// FolderSync it receives (an OPTIONS probe before it passes), so the session's
// HTTP client meets it as it would from a real server.
func (l *loopback) Arm(f faults.Fault) bool {
	step, ok := wireStep(f)
	if ok {
		step.Cmd = "FolderSync"
		l.handler.Inject(step)
	}
	return ok
}

// Disarm implements faults.Wire.
func (l *loopback) Disarm() bool { return l.handler.Uninject() > 0 }

// wireStep is the sim.HTTPStep that performs f on the wire, and whether there is
// one. There is none for RequestLost and Timeout, which need the client's timer to
// run out in real time (the campaign's clock is simulated), nor for a 451, whose
// X-MS-Location names a host that loopback cannot reach; nor for a Retry-After
// that is not whole seconds, which the header cannot carry (MS-ASHTTP 2.2.2.1.2.8
// sends delta-seconds). The wrapper makes those up above the client.
func wireStep(f faults.Fault) (sim.HTTPStep, bool) {
	switch f.Kind {
	case faults.KindConnectionReset:
		return sim.HTTPStep{Reset: true}, true
	case faults.KindResponseLost:
		return sim.HTTPStep{Drop: true}, true
	case faults.KindTruncatedBody:
		return sim.HTTPStep{Truncate: true}, true
	case faults.KindCorruptBody:
		return sim.HTTPStep{Mangle: corrupt}, true
	case faults.KindResetRequested:
		return sim.HTTPStep{ResetRequested: true}, true
	case faults.KindStatus:
		body, err := transport.NewStatusResponse(f.Status).MarshalWBXML()
		if err != nil {
			return sim.HTTPStep{}, false
		}
		return sim.HTTPStep{Body: body}, true
	case faults.KindHTTP:
		// A 1xx is no final answer: net/http would follow it with a 200.
		if f.HTTPStatus < 200 || f.HTTPStatus == 451 || f.RetryAfter < 0 || f.RetryAfter%time.Second != 0 {
			return sim.HTTPStep{}, false
		}
		step := sim.HTTPStep{Status: f.HTTPStatus, Throttle: f.Throttle}
		if f.HasRetryAfter {
			step.RetryAfter = strconv.FormatInt(int64(f.RetryAfter/time.Second), 10)
		}
		return step, true
	}
	return sim.HTTPStep{}, false
}

// corrupt damages an answer as faults.CorruptBody does: one byte that makes it
// undecodable.
func corrupt(body []byte) []byte {
	damaged, _, _ := faults.Damage(body, true)
	return damaged
}
