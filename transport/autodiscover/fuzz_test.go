package autodiscover_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/easkit/foldersync/transport/autodiscover"
)

// FuzzParseResponse: any body parses or fails with a *SyntaxError whose offset
// is inside the body, never panics; what parses holds exactly one of Redirect,
// Servers and Error, and survives MarshalResponse and ParseResponse unchanged.
// ParseRequest, on the same parser, gets the same bodies.
func FuzzParseResponse(f *testing.F) {
	for _, tc := range parseCases() {
		// The seeds of 24 KiB and 1 MiB (token count, body size) would make each
		// run of their mutations cost milliseconds; the table tests cover them.
		if len(tc.body) <= 4<<10 {
			f.Add([]byte(tc.body))
		}
	}
	f.Add(autodiscover.MarshalRequest("chris@example.com"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := autodiscover.ParseRequest(body); err != nil {
			var se *autodiscover.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseRequest: error of type %T: %v", err, err)
			}
		}
		r, err := autodiscover.ParseResponse(body)
		if err != nil {
			var se *autodiscover.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if se.Offset < 0 || se.Offset > int64(len(body)) {
				t.Fatalf("offset %d outside a body of %d bytes: %v", se.Offset, len(body), err)
			}
			return
		}
		if err := r.Check(); err != nil {
			t.Fatalf("%v: %+v", err, r)
		}
		out, err := autodiscover.MarshalResponse(r)
		if err != nil {
			t.Fatalf("MarshalResponse refuses what ParseResponse returned: %v", err)
		}
		again, err := autodiscover.ParseResponse(out)
		if err != nil {
			t.Fatalf("the marshaled response does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(r, again) {
			t.Fatalf("round trip changed the response:\n%+v\n%+v\n%s", r, again, out)
		}
	})
}
