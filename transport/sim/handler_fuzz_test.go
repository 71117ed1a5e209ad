package sim_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/transport/ashttp"
	"github.com/easkit/foldersync/transport/sim"
)

// FuzzHandler sends arbitrary request lines, headers and bodies: the handler never
// panics, answers only the statuses it documents, and every 200 carries a body the
// codec of its command decodes.
func FuzzHandler(f *testing.F) {
	fsBody, _ := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
	provBody, _ := (&transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML}).MarshalWBXML()
	ackBody, _ := (&transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "3000000001", Status: 1}).MarshalWBXML()
	b64, _ := ashttp.EncodeBase64(ashttp.Query{Cmd: "FolderSync", User: "u", DeviceID: "d", DeviceType: "t", Version: "14.1", PolicyKey: "3000000002"})
	f.Add("Cmd=FolderSync&User=u&DeviceId=d&DeviceType=t", "14.1", "", ashttp.ContentTypeWBXML, fsBody)
	f.Add("Cmd=Provision&User=u&DeviceId=d&DeviceType=t", "12.1", "", ashttp.ContentTypeWBXML, provBody)
	f.Add("Cmd=Provision&User=u&DeviceId=d&DeviceType=t", "14.1", "3000000001", ashttp.ContentTypeWBXML, ackBody)
	f.Add(b64, "", "", ashttp.ContentTypeWBXML, fsBody)
	f.Add("Cmd=Sync&User=u&DeviceId=d&DeviceType=t", "16.1", "", "text/plain", []byte("x"))
	f.Add("jQkJBA==", "", "", ashttp.ContentTypeWBXML, []byte{0x03, 0x01, 0x6a, 0x00})
	allowed := []int{200, 400, 405, 413, 449, 500, 501}
	f.Fuzz(func(t *testing.T, rawQuery, version, policyKey, contentType string, body []byte) {
		srv := sim.New(sim.Replay, sim.WithFolders(sim.DefaultFolders()...))
		h := sim.NewHandler(srv, sim.HandlerOptions{RequirePolicy: len(body)%2 == 0, RemoteWipe: len(rawQuery)%2 == 0})
		req := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync", bytes.NewReader(body))
		req.URL.RawQuery = rawQuery
		req.Header.Set(ashttp.HeaderProtocolVersion, version)
		req.Header.Set(ashttp.HeaderPolicyKey, policyKey)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if !slices.Contains(allowed, rec.Code) {
			t.Fatalf("status %d not among %v", rec.Code, allowed)
		}
		if rec.Header().Get(ashttp.HeaderServerVersion) == "" {
			t.Fatal("no MS-Server-ActiveSync")
		}
		ex := h.Exchanges()
		if len(ex) != 1 || ex[0].HTTPStatus != rec.Code {
			t.Fatalf("exchanges %+v, answered %d", ex, rec.Code)
		}
		if rec.Code != 200 {
			return
		}
		var err error
		switch ex[0].Cmd {
		case "FolderSync":
			_, err = transport.UnmarshalFolderSyncResponse(rec.Body.Bytes())
		case "Provision":
			_, err = transport.UnmarshalProvisionResponse(rec.Body.Bytes())
		default:
			t.Fatalf("200 for command %q", ex[0].Cmd)
		}
		if err != nil {
			t.Fatalf("%s answer does not decode: %v", ex[0].Cmd, err)
		}
	})
}
