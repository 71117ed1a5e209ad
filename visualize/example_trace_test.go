package visualize_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/easkit/foldersync/machine"
	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/transitions"
	"github.com/easkit/foldersync/visualize"
)

// exampleLog is a short session as its audit log has it (machine.ReadRecords reads
// one from a JSON Lines file): a Status 6, a wait, then success.
func exampleLog() []machine.Record {
	outcome := func(status int) machine.Stimulus {
		return machine.Stimulus{Outcome: &transitions.Outcome{HTTPStatus: 200, Status: status}}
	}
	return []machine.Record{
		{Seq: 1, Session: "s", From: states.Idle, Asked: transitions.Start, Event: transitions.Start, To: states.Awaiting,
			Attempt: 1, OldKey: "7", NewKey: "7", RequestID: "r1", Stimulus: machine.Stimulus{Event: transitions.Start}},
		{Seq: 2, Session: "s", From: states.Awaiting, Asked: transitions.Transient, Event: transitions.Transient, To: states.Retrying,
			Attempt: 1, OldKey: "7", NewKey: "7", Code: "FolderSync status 6", Delay: machine.Duration(1500 * time.Millisecond), Stimulus: outcome(6)},
		{Seq: 3, Session: "s", From: states.Retrying, Asked: transitions.BackoffElapsed, Event: transitions.BackoffElapsed, To: states.Awaiting,
			Attempt: 2, OldKey: "7", NewKey: "7", RequestID: "r2", Stimulus: machine.Stimulus{Event: transitions.BackoffElapsed}},
		{Seq: 4, Session: "s", From: states.Awaiting, Asked: transitions.Success, Event: transitions.Success, To: states.Synced,
			Attempt: 2, OldKey: "7", NewKey: "8", Code: "FolderSync status 1", Stimulus: outcome(1)},
	}
}

// TraceMermaid draws the path a log took over the state graph; each taken event
// says how often, on which codes, and the waits chosen.
func ExampleTraceMermaid() {
	m, err := visualize.TraceMermaid(exampleLog())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(m, "\n") {
		if strings.Contains(line, "▶") || strings.HasPrefix(strings.TrimSpace(line), "class ") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// idle --> awaiting: ▶ start ×1
	// awaiting --> retrying: lost (1 common, timeout, connection error, unreadable body)<br/>▶ transient ×1 (status 6), waits 1.5s<br/>throttled (HTTP 503)<br/>unknown_status (status 12)<br/>provision (5 common, HTTP 449)<br/>redirect (HTTP 451)
	// awaiting --> synced: ▶ success ×1 (status 1)
	// retrying --> awaiting: ▶ backoff_elapsed ×1
	// class idle,awaiting,retrying,synced visited
}

// SequenceMermaid draws the log as the exchange between client and server.
func ExampleSequenceMermaid() {
	s, err := visualize.SequenceMermaid(exampleLog())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(s)
	// Output:
	// sequenceDiagram
	//     participant Client as Client (foldersync session)
	//     participant Server as Server (Exchange ActiveSync)
	//     rect rgb(239, 246, 255)
	//     Note over Client,Server: session s: stored SyncKey 7
	//     Client->>Server: FolderSync SyncKey=7 (attempt 1, request r1)
	//     Server-->>Client: Status 6 → transient
	//     Note over Client: retrying: wait 1.5s (backoff)
	//     Client->>Server: resend FolderSync SyncKey=7 (attempt 2, request r2)
	//     Server-->>Client: Status 1, new SyncKey 8 → success
	//     Note over Client: commit SyncKey 8 (was 7) with the folder changes
	//     Note over Client,Server: session s synced with SyncKey 8 after 2 requests
	//     end
}

// A record the table has no row for is named by its seq.
func ExampleTraceError() {
	log := exampleLog()
	log[3].To = states.Failed // success never leads to failed
	_, err := visualize.TraceDOT(log)
	fmt.Println(err)
	// Output:
	// visualize: audit record seq 4 (session "s", record 4 of the log): awaiting -success-> failed is not a row of the transitions table: success in awaiting goes to synced
}
