package ashttp

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzParseBase64Bytes: any byte sequence parses or fails with a *QueryError, never
// panics; what parses re-encodes to the same query.
func FuzzParseBase64Bytes(f *testing.F) {
	spec, _ := base64.StdEncoding.DecodeString("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
	f.Add(spec)
	b, _ := AppendBase64Bytes(nil, Query{Cmd: "FolderSync", User: "alice", DeviceID: "DEV1", DeviceType: "Test", Version: "14.1", PolicyKey: "12"})
	f.Add(b)
	f.Add([]byte{141, 9, 9, 4, 1, 'd', 0, 1, 't', 1, 1, 'x', 7, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseBase64Bytes(b)
		if err != nil {
			if _, ok := err.(*QueryError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		again, err := AppendBase64Bytes(nil, q)
		if err != nil {
			return // e.g. a 12.1-only field combination the encoder refuses on purpose
		}
		if q.Locale == 0 {
			q.Locale = DefaultLocale // the encoder's default for "none given"
		}
		q2, err := ParseBase64Bytes(again)
		if err != nil {
			t.Fatalf("re-encoded query does not parse: %v", err)
		}
		if q2.Cmd != q.Cmd || q2.User != q.User || q2.DeviceID != q.DeviceID || q2.DeviceType != q.DeviceType ||
			q2.Version != q.Version || q2.PolicyKey != q.PolicyKey || q2.Locale != q.Locale || len(q2.Params) != len(q.Params) {
			t.Fatalf("round trip changed the query: %+v -> %+v", q, q2)
		}
		for k, v := range q.Params {
			if q2.Params[k] != v {
				t.Fatalf("parameter %s changed: %q -> %q", k, v, q2.Params[k])
			}
		}
	})
}

// FuzzResponseHeaders: Retry-After and X-MS-Location values from a hostile server
// never panic, and a redirect accepted is https (or http when allowed) and not the
// current URL.
func FuzzResponseHeaders(f *testing.F) {
	f.Add("120", "https://eu.example.com/Microsoft-Server-ActiveSync", false)
	f.Add("Sun, 22 Nov 2026 03:02:00 GMT", "http://127.0.0.1/x", true)
	f.Add("-1", "https://mail.example.com/Microsoft-Server-ActiveSync", false)
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, retryAfter, location string, insecure bool) {
		if d, ok, err := ParseRetryAfter(retryAfter, now); err == nil && ok && d < 0 {
			t.Fatalf("negative wait %v from %q", d, retryAfter)
		}
		u, err := CheckRedirect("https://mail.example.com/Microsoft-Server-ActiveSync", location, insecure)
		if err != nil {
			return
		}
		if u.Scheme != "https" && !(insecure && u.Scheme == "http") {
			t.Fatalf("accepted %q (scheme %q)", location, u.Scheme)
		}
		if u.User != nil || u.RawQuery != "" {
			t.Fatalf("accepted %q with credentials or a query", location)
		}
	})
}
