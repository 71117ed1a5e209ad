package httpeas_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/easkit/foldersync/hierarchy"
	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/transport/httpeas"
	"github.com/easkit/foldersync/transport/sim"
)

// A Client speaks MS-ASHTTP to an Exchange ActiveSync endpoint; here the simulated
// server of transport/sim, served over real HTTP by httptest. The first request
// negotiates the protocol version with OPTIONS (MS-ASHTTP 3.1.5.1); a 503 with
// Retry-After is reported in the Reply, and the session waits as the server asks.
func ExampleNew() {
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	handler := sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{"alice": "alice-pass"}, Now: clock.Now})
	ts := httptest.NewServer(handler)
	defer ts.Close()

	client, err := httpeas.New(httpeas.Options{
		URL:               ts.URL + "/Microsoft-Server-ActiveSync",
		User:              "alice",
		Password:          "alice-pass",
		DeviceID:          "EXAMPLE0001", // keep it stable: the server keeps FolderSync state per device
		AllowInsecureHTTP: true,          // httptest speaks plain HTTP on loopback
		Now:               clock.Now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, _ := machine.New(machine.Config{Transport: client, Store: hierarchy.NewMemoryStore(), Clock: clock})

	res, err := sess.Sync(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s over protocol %s: %d folders\n", res.State, client.ProtocolVersion(), res.Tree.Len())

	// The server is busy for a moment.
	handler.Inject(sim.HTTPStep{Status: 503, RetryAfter: "30"})
	res, err = sess.Sync(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s after %d requests, waited %s\n", res.State, res.Counters.Attempts, res.Counters.Elapsed)
	// What the server saw: one OPTIONS, then the FolderSync POSTs.
	for _, ex := range handler.Exchanges() {
		fmt.Println(ex.Method, ex.HTTPStatus)
	}
	// Output:
	// synced over protocol 16.1: 16 folders
	// synced after 2 requests, waited 30s
	// OPTIONS 200
	// POST 200
	// POST 503
	// POST 200
}
