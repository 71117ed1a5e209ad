package transport_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

// seedFolderSync adds the FolderSync captures (when ../shared is there) and the
// generated shapes as seeds.
func seedFolderSync(f *testing.F) {
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "captures")
	for _, pattern := range []string{"syncgw/FolderSync/*.wbxml", "sogo/foldersync-*.wbxml", "horde/foldersync-*.wbxml"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	for _, tree := range testutil.FolderSyncShapes() {
		if b, err := wbxml.Marshal(tree); err == nil {
			f.Add(b)
		}
	}
}

// FuzzFolderSyncResponse: the response mapper never panics; every error is typed
// (a *wbxml.SyntaxError or a *transport.FieldError); a decoded response re-encodes
// and decodes to the same value; the streaming decoder agrees with the in-memory one.
func FuzzFolderSyncResponse(f *testing.F) {
	seedFolderSync(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := transport.UnmarshalFolderSyncResponse(body)
		d := wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(body)))
		streamed, serr := transport.DecodeFolderSyncResponse(d)
		if (err == nil) != (serr == nil) {
			t.Fatalf("bytes mode err=%v, streaming err=%v", err, serr)
		}
		if err != nil {
			requireTyped(t, err)
			return
		}
		if !equalResponses(resp, streamed) {
			t.Fatalf("streaming decode differs:\n%+v\n%+v", resp, streamed)
		}
		out, err := resp.MarshalWBXML()
		if err != nil {
			t.Fatalf("a decoded response must re-encode: %v", err)
		}
		again, err := transport.UnmarshalFolderSyncResponse(out)
		if err != nil {
			t.Fatalf("re-encoded response does not decode: %v", err)
		}
		if !equalResponses(resp, again) {
			t.Fatalf("decode -> encode -> decode changed the response:\n%+v\n%+v", resp, again)
		}
	})
}

// FuzzFolderSyncRequest: the request decoder never panics, errors are typed, and a
// decoded request re-encodes to a body that decodes to the same key.
func FuzzFolderSyncRequest(f *testing.F) {
	seedFolderSync(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := transport.UnmarshalFolderSyncRequest(body)
		if err != nil {
			requireTyped(t, err)
			return
		}
		out, err := req.MarshalWBXML()
		if err != nil {
			t.Fatal(err)
		}
		again, err := transport.UnmarshalFolderSyncRequest(out)
		if err != nil || again.SyncKey != req.SyncKey {
			t.Fatalf("round trip: %v, %q vs %q", err, again, req.SyncKey)
		}
	})
}

func equalResponses(a, b *transport.FolderSyncResponse) bool {
	if a.Status != b.Status || a.SyncKey != b.SyncKey || a.Count != b.Count || a.Present != b.Present || len(a.Changes) != len(b.Changes) {
		return false
	}
	for i := range a.Changes {
		if a.Changes[i] != b.Changes[i] {
			return false
		}
	}
	return true
}

// requireTyped fails unless err is one of the two error types the decoders promise:
// *wbxml.SyntaxError for malformed WBXML, *transport.FieldError for a schema breach.
func requireTyped(t *testing.T, err error) {
	t.Helper()
	var se *wbxml.SyntaxError
	var fe *transport.FieldError
	if !errors.As(err, &se) && !errors.As(err, &fe) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}
