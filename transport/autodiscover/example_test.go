package autodiscover_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/easkit/foldersync/transport/autodiscover"
)

// Discover asks an Autodiscover server for a mailbox's ActiveSync URL. Here the
// server is an httptest TLS server built with ParseRequest and MarshalResponse,
// named in Endpoints; without Endpoints the search would try the mailbox's domain
// (steps 1 to 4 of the package documentation). The caller then sends OPTIONS to
// the URL found (MS-ASCMD 2.2.1.1), e.g. with transport/httpeas.
func ExampleDiscover() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "chris@example.com" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		req, err := autodiscover.ParseRequest(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		resp, _ := autodiscover.MarshalResponse(&autodiscover.Response{
			Culture: "en:us", DisplayName: "Chris Gray", Email: req.Email,
			Servers: []autodiscover.Server{{
				Type: autodiscover.TypeMobileSync,
				URL:  "https://mail.example.com/Microsoft-Server-ActiveSync",
				Name: "mail.example.com",
			}},
		})
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(resp)
	}))
	defer srv.Close()

	res, err := autodiscover.Discover(context.Background(), autodiscover.Options{
		Email:      "chris@example.com",
		Password:   "secret",
		Endpoints:  []string{srv.URL + "/autodiscover/autodiscover.xml"},
		HTTPClient: srv.Client(), // trusts the test server's certificate
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.URL)
	fmt.Println(res.DisplayName, res.Email, res.Culture)
	for _, a := range res.Attempts {
		fmt.Println(a.Method, a.HTTPStatus, a.Outcome)
	}
	// Output:
	// https://mail.example.com/Microsoft-Server-ActiveSync
	// Chris Gray chris@example.com en:us
	// POST 200 settings
}
