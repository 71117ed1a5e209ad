package soak

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport/httpeas"
	"github.com/easkit/foldersync/transport/sim"
)

// loopback serves one account's sim.Server over HTTP on 127.0.0.1 and holds the
// httpeas client that talks to it.
type loopback struct {
	srv    *http.Server
	done   chan struct{}
	tr     *http.Transport
	client *httpeas.Client
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
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)},
		done: make(chan struct{}),
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
