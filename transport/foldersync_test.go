package transport_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

// folderSyncCaptures returns every FolderSync body among the real captures, keyed by
// its path under captures/, with the protocol version of the request when known.
func folderSyncCaptures(t *testing.T) (reqs, resps map[string][]byte, versions map[string]string) {
	dir := filepath.Join(testutil.SharedDir(t), "captures")
	reqs, resps, versions = map[string][]byte{}, map[string][]byte{}, map[string]string{}
	f, err := os.Open(filepath.Join(dir, "syncgw", "INDEX.tsv"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) >= 5 && cols[4] != "" {
			versions["syncgw/"+cols[0]] = cols[4]
		}
	}
	for _, pattern := range []string{"syncgw/FolderSync/*.wbxml", "sogo/foldersync-*.wbxml", "horde/foldersync-*.wbxml"} {
		files, err := filepath.Glob(filepath.Join(dir, pattern))
		require.NoError(t, err)
		for _, file := range files {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			rel, _ := filepath.Rel(dir, file)
			rel = filepath.ToSlash(rel)
			if strings.Contains(rel, "req") {
				reqs[rel] = b
			} else {
				resps[rel] = b
			}
		}
	}
	require.GreaterOrEqual(t, len(reqs), 40)
	require.GreaterOrEqual(t, len(resps), 40)
	return reqs, resps, versions
}

func TestCaptureRequestsRoundTrip(t *testing.T) {
	reqs, _, versions := folderSyncCaptures(t)
	seen := map[string]int{}
	for name, body := range reqs {
		req, err := transport.UnmarshalFolderSyncRequest(body)
		require.NoError(t, err, name)
		out, err := req.MarshalWBXML()
		require.NoError(t, err)
		assert.Equal(t, body, out, "%s: request must re-encode byte for byte", name)
		if v := versions[name]; v != "" {
			seen[v]++
		}
	}
	// Both element-set eras: the connectivity tester speaks 12.0, Nine speaks 16.1.
	assert.Positive(t, seen["12.0"], "a 2.5-12.1 era request")
	assert.Positive(t, seen["16.1"], "a 14.0+ era request")
	t.Logf("%d requests round-tripped; by protocol version: %v", len(reqs), seen)
}

func TestCaptureResponsesRoundTrip(t *testing.T) {
	_, resps, _ := folderSyncCaptures(t)
	statuses := map[int]int{}
	changes := 0
	for name, body := range resps {
		resp, err := transport.UnmarshalFolderSyncResponse(body)
		require.NoError(t, err, name)
		statuses[resp.Status]++
		changes += len(resp.Changes)
		out, err := resp.MarshalWBXML()
		require.NoError(t, err)
		assert.Equal(t, body, out, "%s: response must re-encode byte for byte", name)

		// The streaming decoder, fed one byte at a time, gives the same value.
		d := wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(body)))
		streamed, err := transport.DecodeFolderSyncResponse(d)
		require.NoError(t, err, name)
		assert.Equal(t, resp, streamed, name)
	}
	assert.Positive(t, statuses[1])
	assert.Positive(t, statuses[9], "Horde's Status 9 answers are among the captures")
	t.Logf("%d responses (%d changes) round-tripped; statuses %v", len(resps), changes, statuses)
}

func TestSOGoInitialResponse(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(testutil.SharedDir(t), "captures", "sogo", "foldersync-initial.resp.wbxml"))
	require.NoError(t, err)
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Status)
	assert.Equal(t, "vm_2061_30b25ace_0", resp.SyncKey)
	assert.Equal(t, 9, resp.Count)
	require.Len(t, resp.Changes, 9)
	assert.Equal(t, transport.FolderChange{
		Op: transport.OpAdd, ServerID: "mail%2Fe6f991344a23026bf01f000083ecc375", ParentID: "0",
		DisplayName: "INBOX", Type: transport.FolderInbox,
	}, resp.Changes[0])
	assert.Equal(t, transport.FolderContacts, resp.Changes[8].Type)
}

// doc builds a FolderSync response body from a compact description, for the
// table of schema violations below: the WBXML itself is always well formed.
func doc(t *testing.T, children ...*wbxml.Node) []byte {
	t.Helper()
	b, err := wbxml.Marshal(wbxml.NewElement(fh("FolderSync"), children...))
	require.NoError(t, err)
	return b
}

func fh(name string) wbxml.Tag { return wbxml.MustTag("FolderHierarchy", name) }
func el(name string, children ...*wbxml.Node) *wbxml.Node {
	return wbxml.NewElement(fh(name), children...)
}
func tx(name, s string) *wbxml.Node { return wbxml.NewTextElement(fh(name), s) }

func add(id, parent, name, typ string) *wbxml.Node {
	return el("Add", tx("ServerId", id), tx("ParentId", parent), tx("DisplayName", name), tx("Type", typ))
}

func TestResponseFieldErrors(t *testing.T) {
	ok := tx("Status", "1")
	cases := []struct {
		name  string
		body  []byte
		field string
		msg   string
	}{
		{"no status", doc(t, tx("SyncKey", "1")), "FolderSync/Status", "missing"},
		{"status twice", doc(t, ok, tx("Status", "1")), "FolderSync/Status", "appears twice"},
		{"status not a number", doc(t, tx("Status", "one")), "FolderSync/Status", "not an unsigned integer"},
		{"status negative", doc(t, tx("Status", "-1")), "FolderSync/Status", "not an unsigned integer"},
		{"status empty", doc(t, tx("Status", "")), "FolderSync/Status", "not an unsigned integer"},
		{"synckey too long", doc(t, ok, tx("SyncKey", strings.Repeat("k", 65))), "FolderSync/SyncKey", "longer than the 64"},
		{"synckey twice", doc(t, ok, tx("SyncKey", "1"), tx("SyncKey", "2")), "FolderSync/SyncKey", "appears twice"},
		{"changes twice", doc(t, ok, el("Changes"), el("Changes")), "FolderSync/Changes", "appears twice"},
		{"count twice", doc(t, ok, el("Changes", tx("Count", "1"), tx("Count", "1"))), "FolderSync/Changes/Count", "appears twice"},
		{"count not a number", doc(t, ok, el("Changes", tx("Count", "x"))), "FolderSync/Changes/Count", "not an unsigned integer"},
		{"unexpected child", doc(t, ok, tx("DisplayName", "x")), "FolderSync/DisplayName", "unexpected element"},
		{"unexpected in changes", doc(t, ok, el("Changes", tx("SyncKey", "1"))), "FolderSync/Changes/SyncKey", "unexpected element"},
		{"add without type", doc(t, ok, el("Changes", el("Add", tx("ServerId", "1"), tx("ParentId", "0"), tx("DisplayName", "a")))), "FolderSync/Changes/Add[1]/Type", "missing"},
		{"add without parent", doc(t, ok, el("Changes", el("Add", tx("ServerId", "1"), tx("DisplayName", "a"), tx("Type", "1")))), "FolderSync/Changes/Add[1]/ParentId", "missing"},
		{"add without name", doc(t, ok, el("Changes", el("Add", tx("ServerId", "1"), tx("ParentId", "0"), tx("Type", "1")))), "FolderSync/Changes/Add[1]/DisplayName", "missing"},
		{"add without serverid", doc(t, ok, el("Changes", el("Add", tx("ParentId", "0"), tx("DisplayName", "a"), tx("Type", "1")))), "FolderSync/Changes/Add[1]/ServerId", "missing"},
		{"empty serverid", doc(t, ok, el("Changes", add("", "0", "a", "1"))), "FolderSync/Changes/Add[1]/ServerId", "empty"},
		{"serverid too long", doc(t, ok, el("Changes", add(strings.Repeat("s", 65), "0", "a", "1"))), "FolderSync/Changes/Add[1]/ServerId", "longer than the 64"},
		{"empty add", doc(t, ok, el("Changes", el("Add"))), "FolderSync/Changes/Add[1]", "empty"},
		{"type zero", doc(t, ok, el("Changes", add("1", "0", "a", "0"))), "FolderSync/Changes/Add[1]/Type", "defines 1-19"},
		{"type 20", doc(t, ok, el("Changes", add("1", "0", "a", "20"))), "FolderSync/Changes/Add[1]/Type", "defines 1-19"},
		{"type 300", doc(t, ok, el("Changes", add("1", "0", "a", "300"))), "FolderSync/Changes/Add[1]/Type", "defines 1-19"},
		{"type text", doc(t, ok, el("Changes", add("1", "0", "a", "mail"))), "FolderSync/Changes/Add[1]/Type", "defines 1-19"},
		{"second add bad", doc(t, ok, el("Changes", add("1", "0", "a", "1"), add("2", "0", "b", "99"))), "FolderSync/Changes/Add[2]/Type", "defines 1-19"},
		{"update field twice", doc(t, ok, el("Changes", el("Update", tx("ServerId", "1"), tx("ServerId", "2")))), "FolderSync/Changes/Update[1]/ServerId", "appears twice"},
		{"delete with name", doc(t, ok, el("Changes", el("Delete", tx("ServerId", "1"), tx("DisplayName", "x")))), "FolderSync/Changes/Delete[1]/DisplayName", "a Delete holds only ServerId"},
		{"delete without id", doc(t, ok, el("Changes", el("Delete", tx("ParentId", "1")))), "FolderSync/Changes/Delete[1]/ParentId", "a Delete holds only ServerId"},
		{"element in leaf", doc(t, ok, el("SyncKey", tx("Status", "1"))), "FolderSync/SyncKey", "holds text only"},
		{"text in container", doc(t, ok, wbxml.NewElement(fh("Changes"), &wbxml.Node{Kind: wbxml.TextNode, Data: []byte("x")})), "FolderSync/Changes", "holds elements, not text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := transport.UnmarshalFolderSyncResponse(c.body)
			require.Error(t, err)
			var fe *transport.FieldError
			require.True(t, errors.As(err, &fe), "want *FieldError, got %T: %v", err, err)
			assert.Equal(t, c.field, fe.Field)
			assert.Contains(t, fe.Msg, c.msg)
			assert.Greater(t, fe.Offset, int64(3), "the offset points into the body")
			assert.Less(t, fe.Offset, int64(len(c.body)))
			assert.Contains(t, err.Error(), "offset ")
		})
	}
}

func TestResponseNotFolderSync(t *testing.T) {
	ping, err := wbxml.Marshal(wbxml.NewTextElement(wbxml.MustTag("Ping", "Ping"), ""))
	require.NoError(t, err)
	_, err = transport.UnmarshalFolderSyncResponse(ping)
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Msg, "not a FolderSync body")
	assert.Equal(t, int64(6), fe.Offset, "after the header and the SWITCH_PAGE")
}

func TestResponseMalformedWBXMLIsSyntaxError(t *testing.T) {
	body := doc(t, tx("Status", "1"), tx("SyncKey", "abc"))
	for cut := 0; cut < len(body); cut++ {
		_, err := transport.UnmarshalFolderSyncResponse(body[:cut])
		var se *wbxml.SyntaxError
		require.ErrorAs(t, err, &se, "cut at %d", cut)
		require.ErrorIs(t, err, wbxml.ErrTruncated, "cut at %d", cut)
	}
	_, err := transport.UnmarshalFolderSyncResponse(append(body, 0x01))
	require.ErrorIs(t, err, wbxml.ErrTrailingData)
}

// A hostile Count must not make the decoder allocate for it: the slice is sized by
// what the input can hold.
func TestHostileCountDoesNotAllocate(t *testing.T) {
	body := doc(t, tx("Status", "1"), el("Changes", tx("Count", "999999999"), add("1", "0", "a", "1")))
	allocs := testing.AllocsPerRun(20, func() {
		resp, err := transport.UnmarshalFolderSyncResponse(body)
		if err != nil || len(resp.Changes) != 1 {
			t.Fatal(err)
		}
	})
	assert.Less(t, allocs, 20.0)
	var ms1, ms2 runtimeMem
	ms1.read()
	_, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	ms2.read()
	assert.Less(t, ms2.total-ms1.total, uint64(1<<20), "a Count of 999,999,999 must not pre-allocate")
}

func TestChangesOrderAndKindsPreserved(t *testing.T) {
	body := doc(t, tx("Status", "1"), tx("SyncKey", "7"), el("Changes", tx("Count", "4"),
		el("Delete", tx("ServerId", "5")),
		add("5", "0", "Re-created", "12"),
		el("Update", tx("ServerId", "3"), tx("ParentId", "5"), tx("DisplayName", "Moved"), tx("Type", "12")),
		add("6", "5", "名前 & <x>", "1"),
	))
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	require.Len(t, resp.Changes, 4)
	assert.Equal(t, []transport.ChangeOp{transport.OpDelete, transport.OpAdd, transport.OpUpdate, transport.OpAdd},
		[]transport.ChangeOp{resp.Changes[0].Op, resp.Changes[1].Op, resp.Changes[2].Op, resp.Changes[3].Op})
	assert.Equal(t, "名前 & <x>", resp.Changes[3].DisplayName)
	assert.Equal(t, "5", resp.Changes[3].ParentID)
	out, err := resp.MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, body, out)
}

func TestValueSplitOverStringTableAndEntities(t *testing.T) {
	// DisplayName = STR_I "Pers" + ENTITY U+00F6 + STR_T "nlich" (string table).
	table := []byte("nlich\x00")
	body := []byte{0x03, 0x01, 0x6A, byte(len(table))}
	body = append(body, table...)
	body = append(body, 0x00, 0x07, 0x56, 0x4C, 0x03, '1', 0x00, 0x01, 0x4E, 0x4F,
		0x48, 0x03, 'a', 0x00, 0x01,
		0x49, 0x03, '0', 0x00, 0x01,
		0x47, 0x03, 'P', 'e', 'r', 's', 0x00, 0x02, 0x81, 0x76, 0x83, 0x00, 0x01,
		0x4A, 0x03, '9', 0x00, 0x01,
		0x01, 0x01, 0x01)
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	require.Len(t, resp.Changes, 1)
	assert.Equal(t, "Persönlich", resp.Changes[0].DisplayName)
}

func TestMarshalRequestAndBuilders(t *testing.T) {
	req := &transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}
	b, err := req.MarshalWBXML()
	require.NoError(t, err)
	// The 13 bytes every client sends first (compare captures/horde/foldersync-initial.req.wbxml).
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01}, b)

	empty, err := (&transport.FolderSyncRequest{}).MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x12, 0x01}, empty, "an empty key is an empty element")

	_, err = transport.UnmarshalFolderSyncRequest([]byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x16})
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "FolderSync/SyncKey", fe.Field)

	st, err := transport.NewStatusResponse(9).MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x4C, 0x03, '9', 0x00, 0x01, 0x01}, st)

	ok := transport.NewSuccessResponse("2", nil)
	b, err = ok.MarshalWBXML()
	require.NoError(t, err)
	back, err := transport.UnmarshalFolderSyncResponse(b)
	require.NoError(t, err)
	assert.Equal(t, ok, back, "an empty success response keeps Changes and Count 0")

	bad := transport.NewSuccessResponse("3", []transport.FolderChange{{ServerID: "x"}})
	_, err = bad.MarshalWBXML()
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Msg, "no operation")
}

func TestFolderType(t *testing.T) {
	assert.False(t, transport.FolderType(0).Valid())
	assert.True(t, transport.FolderUserGeneric.Valid())
	assert.True(t, transport.FolderRecipientCache.Valid())
	assert.False(t, transport.FolderType(20).Valid())
	assert.Equal(t, "Inbox", transport.FolderInbox.String())
	assert.Equal(t, "FolderType(42)", transport.FolderType(42).String())
	assert.True(t, transport.FolderInbox.IsDefault())
	assert.True(t, transport.FolderRecipientCache.IsDefault())
	assert.False(t, transport.FolderUserMail.IsDefault())
	assert.Equal(t, "Update", transport.OpUpdate.String())
	assert.Equal(t, "ChangeOp(9)", transport.ChangeOp(9).String())
}

func TestGeneratedDocumentsDecode(t *testing.T) {
	for name, tree := range testutil.FolderSyncShapes() {
		body, err := wbxml.Marshal(tree)
		require.NoError(t, err)
		if strings.HasPrefix(name, "request") {
			_, err = transport.UnmarshalFolderSyncRequest(body)
			require.NoError(t, err, name)
			continue
		}
		resp, err := transport.UnmarshalFolderSyncResponse(body)
		require.NoError(t, err, name)
		out, err := resp.MarshalWBXML()
		require.NoError(t, err)
		assert.Equal(t, body, out, name)
	}
}

func TestAppendWBXMLKeepsPrefixAndReusesBuffer(t *testing.T) {
	resp := transport.NewSuccessResponse("k1", []transport.FolderChange{
		{Op: transport.OpAdd, ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: transport.FolderInbox},
	})
	want, err := resp.MarshalWBXML()
	require.NoError(t, err)

	out, err := resp.AppendWBXML([]byte("prefix"))
	require.NoError(t, err)
	assert.Equal(t, append([]byte("prefix"), want...), out)

	buf := make([]byte, 0, 4096)
	for i := 0; i < 3; i++ {
		buf, err = resp.AppendWBXML(buf[:0])
		require.NoError(t, err)
		assert.Equal(t, want, buf)
	}
	assert.Equal(t, 4096, cap(buf), "a large enough buffer is reused, not replaced")

	bad := transport.NewSuccessResponse("k", []transport.FolderChange{{ServerID: "x"}})
	out, err = bad.AppendWBXML([]byte("keep"))
	require.Error(t, err)
	assert.Equal(t, []byte("keep"), out, "on error dst is returned as it was")
}

// Review findings, kept as regression tests.
func TestReEncodingKeepsAnAbsentCount(t *testing.T) {
	body := doc(t, tx("Status", "1"), tx("SyncKey", "2"), el("Changes", el("Delete", tx("ServerId", "7"))))
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	assert.False(t, resp.Present.Count)
	out, err := resp.MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, body, out, "no <Count>0</Count> appears that the server did not send")
}

func TestLimitsCountCharactersNotBytes(t *testing.T) {
	cyr := func(n int) string { return strings.Repeat("Ж", n) } // 2 bytes each
	_, err := transport.UnmarshalFolderSyncResponse(doc(t, tx("Status", "1"), el("Changes", add(cyr(64), "0", "a", "1"))))
	require.NoError(t, err, "64 characters (128 bytes) is within MS-ASCMD's 64")
	_, err = transport.UnmarshalFolderSyncResponse(doc(t, tx("Status", "1"), el("Changes", add(cyr(65), "0", "a", "1"))))
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Msg, "65 characters")
}

func TestNonBreakingSpaceBetweenElementsIsNotLayout(t *testing.T) {
	// An ENTITY U+00A0 directly inside Changes is text, not layout white space.
	body := doc(t, tx("Status", "1"), wbxml.NewElement(fh("Changes"), &wbxml.Node{Kind: wbxml.TextNode, Data: []byte("\u00a0")}))
	_, err := transport.UnmarshalFolderSyncResponse(body)
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Contains(t, fe.Msg, "holds elements, not text")
}

func TestEncodeRefusesWhatDecodeRejects(t *testing.T) {
	ok := transport.FolderChange{Op: transport.OpAdd, ServerID: "1", ParentID: "0", DisplayName: "a", Type: transport.FolderInbox}
	with := func(f func(*transport.FolderChange)) *transport.FolderSyncResponse {
		c := ok
		f(&c)
		return transport.NewSuccessResponse("1", []transport.FolderChange{c})
	}
	cases := map[string]*transport.FolderSyncResponse{
		"negative status":   transport.NewStatusResponse(-1),
		"negative count":    {Status: 1, Count: -2},
		"long synckey":      transport.NewSuccessResponse(strings.Repeat("k", 65), nil),
		"no op":             with(func(c *transport.FolderChange) { c.Op = 0 }),
		"empty serverid":    with(func(c *transport.FolderChange) { c.ServerID = "" }),
		"long serverid":     with(func(c *transport.FolderChange) { c.ServerID = strings.Repeat("s", 65) }),
		"long parentid":     with(func(c *transport.FolderChange) { c.ParentID = strings.Repeat("p", 65) }),
		"type 0 on add":     with(func(c *transport.FolderChange) { c.Type = 0 }),
		"type 20 on update": with(func(c *transport.FolderChange) { c.Op, c.Type = transport.OpUpdate, 20 }),
	}
	for name, resp := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := resp.MarshalWBXML()
			var fe *transport.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, int64(-1), fe.Offset)
			assert.NotContains(t, err.Error(), "offset")
			assert.ErrorAs(t, resp.Validate(), &fe)
			var buf bytes.Buffer
			assert.Error(t, resp.EncodeWBXML(&buf))
			assert.Zero(t, buf.Len(), "nothing is written for an invalid response")
		})
	}
	del := transport.NewSuccessResponse("1", []transport.FolderChange{{Op: transport.OpDelete, ServerID: "9"}})
	assert.NoError(t, del.Validate(), "a Delete needs no Type")
}

func TestEncodeWBXMLStreamsLargeResponses(t *testing.T) {
	body := testutil.FolderSyncBody(t, 3000, 5, false)
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	require.NoError(t, err)
	w := &countingWriter{}
	require.NoError(t, resp.EncodeWBXML(w))
	assert.Equal(t, body, w.buf.Bytes())
	assert.Greater(t, w.writes, 3, "a 300 KB response is written in pieces, not buffered whole")
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.buf.Write(p) }
