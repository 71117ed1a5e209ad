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

// A server that requires a device policy answers the first FolderSync with Status
// 142 (protocol 14.0 and later; HTTP 449 before). The session then calls the
// client's Provision, which downloads and acknowledges the policy (MS-ASPROV
// 3.1.5.1), and reruns the FolderSync with the new policy key. Persist
// Client.PolicyKey and pass it as Options.PolicyKey next time.
func ExampleClient_Provision() {
	clock := machine.NewSimClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
	handler := sim.NewHandler(srv, sim.HandlerOptions{Users: map[string]string{"alice": "alice-pass"}, RequirePolicy: true, Now: clock.Now})
	ts := httptest.NewServer(handler)
	defer ts.Close()

	client, err := httpeas.New(httpeas.Options{
		URL: ts.URL + "/Microsoft-Server-ActiveSync", User: "alice", Password: "alice-pass",
		DeviceID: "EXAMPLE0002", ProtocolVersion: "14.1", AllowInsecureHTTP: true, Now: clock.Now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, _ := machine.New(machine.Config{Transport: client, Store: hierarchy.NewMemoryStore(), Clock: clock,
		Observer: observerFunc(func(r machine.Record) {
			if r.Code != "" {
				fmt.Println(r.Code, "->", r.Event)
			}
		})})
	res, err := sess.Sync(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.State, res.Tree.Len(), "folders")
	fmt.Println("policy key kept by the client:", client.PolicyKey() == handler.PolicyKey() && client.PolicyKey() != "")
	// Output:
	// common status 142 DeviceNotProvisioned -> provision
	// FolderSync status 1 -> success
	// synced 16 folders
	// policy key kept by the client: true
}

// observerFunc adapts a function to a machine.Observer.
type observerFunc func(machine.Record)

func (f observerFunc) OnTransition(r machine.Record) { f(r) }
