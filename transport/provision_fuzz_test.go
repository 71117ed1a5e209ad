package transport_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
)

// provisionCaptureBodies returns the Provision bodies among the real captures (SOGo,
// Horde, sync*gw), requests and responses alike; none when ../shared is absent.
func provisionCaptureBodies() [][]byte {
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "captures")
	var out [][]byte
	for _, pattern := range []string{"sogo/provision-*.wbxml", "horde/provision-*.wbxml", "syncgw/Provision/*.wbxml"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

func seedProvision(f *testing.F) {
	for _, b := range provisionCaptureBodies() {
		f.Add(b)
	}
	for _, b := range provisionSeedBodies(f) {
		f.Add(b)
	}
}

// FuzzUnmarshalProvisionResponse: the response decoder never panics; every error is
// a *wbxml.SyntaxError or a *transport.FieldError; a decoded response re-encodes, and
// decoding that gives the same value.
func FuzzUnmarshalProvisionResponse(f *testing.F) {
	seedProvision(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		resp, err := transport.UnmarshalProvisionResponse(body)
		if err != nil {
			requireTyped(t, err)
			return
		}
		out, err := resp.MarshalWBXML()
		if err != nil {
			t.Fatalf("a decoded response must re-encode: %v\n%+v", err, resp)
		}
		again, err := transport.UnmarshalProvisionResponse(out)
		if err != nil {
			t.Fatalf("re-encoded response does not decode: %v\n% X", err, out)
		}
		if !reflect.DeepEqual(resp, again) {
			t.Fatalf("decode -> encode -> decode changed the response:\n%+v\n%+v", resp, again)
		}
	})
}

// FuzzUnmarshalProvisionRequest: the same properties for the request decoder.
func FuzzUnmarshalProvisionRequest(f *testing.F) {
	seedProvision(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := transport.UnmarshalProvisionRequest(body)
		if err != nil {
			requireTyped(t, err)
			return
		}
		out, err := req.MarshalWBXML()
		if err != nil {
			t.Fatalf("a decoded request must re-encode: %v\n%+v", err, req)
		}
		again, err := transport.UnmarshalProvisionRequest(out)
		if err != nil {
			t.Fatalf("re-encoded request does not decode: %v\n% X", err, out)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("decode -> encode -> decode changed the request:\n%+v\n%+v", req, again)
		}
	})
}
