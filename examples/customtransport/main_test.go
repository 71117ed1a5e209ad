package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/transport"
)

func TestCustomTransport(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	got := out.String()
	for _, line := range []string{
		"level=INFO msg=\"round trip\" n=1 sync_key=0 http=200 sent_bytes=13 status=1 new_key=1 changes=16 received_bytes=613\n",
		// The lost answer is logged as such, and the resend carries the same key.
		"level=WARN msg=\"no answer\" n=2 sync_key=1 sent_bytes=13 err=\"transport: no response before the timeout:",
		"level=INFO msg=\"round trip\" n=3 sync_key=1 http=503 sent_bytes=13 retry_after=30s\n",
		"level=INFO msg=\"round trip\" n=4 sync_key=1 http=200 sent_bytes=13 status=1 new_key=2 changes=1 received_bytes=66\n",
		// The first answer after the lost one is verified with a full SyncKey 0 FolderSync.
		"level=INFO msg=\"round trip\" n=5 sync_key=0 http=200 sent_bytes=13 status=1 new_key=3 changes=17 received_bytes=654\n",
		"recorded 5 round trips: 65 bytes sent, 1333 bytes received; the client holds 17 folders, waited 30s\n",
		// The Tape replays the answers and their headers: the same tree, the same wait.
		"from the Tape: 5 of 5 answers used, the same 17 folders, waited 30s\n",
		"off the tape: transport: connection failed: tape: request not on the tape: request 6, SyncKey \"7\"\n",
	} {
		assert.Contains(t, got, line)
	}
}

func TestTapeHonoursContextAndDamage(t *testing.T) {
	req := &transport.FolderSyncRequest{SyncKey: "0"}
	body, err := req.MarshalWBXML()
	require.NoError(t, err)
	resp, err := transport.NewSuccessResponse("1", nil).MarshalWBXML()
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tape := &Tape{Exchanges: []Exchange{{Request: body, Reply: transport.Reply{HTTPStatus: 200}, Response: resp[:len(resp)-3]}}}
	_, err = tape.FolderSync(ctx, req)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, tape.next, "a cancelled call uses no answer")

	_, err = tape.FolderSync(context.Background(), req)
	require.ErrorIs(t, err, transport.ErrUnreadable, "a damaged recording is an unreadable body")
}
