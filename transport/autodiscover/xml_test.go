package autodiscover_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/easkit/foldersync/transport/autodiscover"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples of MS-ASCMD 4.2 (Autodiscover): server settings with a MobileSync
// and a CertEnroll server, a redirect, an Action/Error, and the framework's
// Response/Error.
const (
	specSettings = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User>
      <DisplayName>Chris Gray</DisplayName>
      <EMailAddress>chris@woodgrovebank.com</EMailAddress>
    </User>
    <Action>
      <Settings>
        <Server>
          <Type>MobileSync</Type>
          <Url>https://loandomain.woodgrovebank.com/Microsoft-Server-ActiveSync</Url>
          <Name>https://loandomain.woodgrovebank.com/Microsoft-Server-ActiveSync</Name>
        </Server>
        <Server>
          <Type>CertEnroll</Type>
          <Url>https://cert.woodgrovebank.com/CertEnroll</Url>
          <Name />
          <ServerData>CertEnrollTemplate</ServerData>
        </Server>
      </Settings>
    </Action>
  </Response>
</Autodiscover>`

	specRedirect = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User>
      <EMailAddress>chris@woodgrovebank.com</EMailAddress>
    </User>
    <Action>
      <Redirect>chris@loandomain.woodgrovebank.com</Redirect>
    </Action>
  </Response>
</Autodiscover>`

	specActionError = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">
    <Culture>en:us</Culture>
    <User>
      <EMailAddress>chris@woodgrovebank.com</EMailAddress>
    </User>
    <Action>
      <Error>
        <Status>2</Status>
        <Message>The directory service could not be reached</Message>
        <DebugData>MailUser</DebugData>
      </Error>
    </Action>
  </Response>
</Autodiscover>`

	specFrameworkError = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response>
    <Error Time="16:56:32.6164027" Id="1054084152">
      <ErrorCode>600</ErrorCode>
      <Message>Invalid Request</Message>
      <DebugData />
    </Error>
  </Response>
</Autodiscover>`
)

type parseCase struct {
	name string
	body string
	want *autodiscover.Response
	// For a failure: a part of the message, and the byte offset expected (-1:
	// anywhere in the body).
	errPart   string
	errOffset int64
}

func parseCases() []parseCase {
	deep := `<Autodiscover><Response><Action>` + strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70) + `</Action></Response></Autodiscover>`
	deepAt := int64(len(`<Autodiscover><Response><Action>`) + 3*(64-3)) // the 65th level
	many := `<Autodiscover><Response>` + strings.Repeat("<x/>", 6000) + `</Response></Autodiscover>`
	huge := `<Autodiscover>` + strings.Repeat(" ", autodiscover.DefaultMaxResponseBytes) + `</Autodiscover>`
	return []parseCase{
		{name: "spec settings", body: specSettings, want: &autodiscover.Response{
			Culture: "en:us", DisplayName: "Chris Gray", Email: "chris@woodgrovebank.com",
			Servers: []autodiscover.Server{
				{Type: "MobileSync", URL: "https://loandomain.woodgrovebank.com/Microsoft-Server-ActiveSync", Name: "https://loandomain.woodgrovebank.com/Microsoft-Server-ActiveSync"},
				{Type: "CertEnroll", URL: "https://cert.woodgrovebank.com/CertEnroll", ServerData: "CertEnrollTemplate"},
			}}},
		{name: "spec redirect", body: specRedirect, want: &autodiscover.Response{
			Culture: "en:us", Email: "chris@woodgrovebank.com", Redirect: "chris@loandomain.woodgrovebank.com"}},
		{name: "spec action error", body: specActionError, want: &autodiscover.Response{
			Culture: "en:us", Email: "chris@woodgrovebank.com",
			Error: &autodiscover.ServerError{Code: 2, Message: "The directory service could not be reached", DebugData: "MailUser"}}},
		{name: "spec framework error 600", body: specFrameworkError, want: &autodiscover.Response{
			Error: &autodiscover.ServerError{Code: 600, Message: "Invalid Request"}}},
		{name: "framework error 601", body: `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response><Error><ErrorCode>601</ErrorCode><Message>Provider is not available</Message></Error></Response></Autodiscover>`,
			want: &autodiscover.Response{Error: &autodiscover.ServerError{Code: 601, Message: "Provider is not available"}}},
		{name: "prefixed namespaces and odd case", body: `<?xml version="1.0"?><a:Autodiscover xmlns:a="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006" xmlns:m="urn:whatever"><m:Response><m:ACTION><m:settings><m:Server><m:Type>MobileSync</m:Type><m:URL> https://eas.example.com/Microsoft-Server-ActiveSync </m:URL></m:Server></m:settings></m:ACTION></m:Response></a:Autodiscover>`,
			want: &autodiscover.Response{Servers: []autodiscover.Server{{Type: "MobileSync", URL: "https://eas.example.com/Microsoft-Server-ActiveSync"}}}},
		{name: "action error with ErrorCode", body: `<Autodiscover><Response><Action><Error><ErrorCode>7</ErrorCode></Error></Action></Response></Autodiscover>`,
			want: &autodiscover.Response{Error: &autodiscover.ServerError{Code: 7}}},
		{name: "byte order mark, comments and entities", body: "\xEF\xBB\xBF<!-- x --><Autodiscover><Response><Culture>en:us</Culture><User><DisplayName>A &amp; B &#x263A;</DisplayName></User><Action><Redirect>b@example.org</Redirect></Action></Response></Autodiscover>",
			want: &autodiscover.Response{Culture: "en:us", DisplayName: "A & B \u263a", Redirect: "b@example.org"}},

		{name: "wrong root", body: `<?xml version="1.0"?><Foo><Response/></Foo>`, errPart: "root element is <Foo>", errOffset: 21},
		{name: "html page", body: `<html><body>404</body></html>`, errPart: "root element is <html>", errOffset: 0},
		{name: "the request echoed", body: string(autodiscover.MarshalRequest("a@example.com")), errPart: "no Response element", errOffset: 38},
		{name: "missing Response", body: `<Autodiscover><Culture>en:us</Culture></Autodiscover>`, errPart: "no Response element", errOffset: 0},
		{name: "outlook schema", body: `<Autodiscover><Response><Account><Action>settings</Action></Account></Response></Autodiscover>`, errPart: "neither Action nor Error", errOffset: 14},
		{name: "empty action", body: `<Autodiscover><Response><Action></Action></Response></Autodiscover>`, errPart: "none of Redirect, Settings and Error", errOffset: 24},
		{name: "two actions", body: `<Autodiscover><Response><Action><Redirect>a@b.c</Redirect><Error/></Action></Response></Autodiscover>`, errPart: "more than one", errOffset: 58},
		{name: "settings without server", body: `<Autodiscover><Response><Action><Settings/></Action></Response></Autodiscover>`, errPart: "no Server", errOffset: 32},
		{name: "empty redirect", body: `<Autodiscover><Response><Action><Redirect> </Redirect></Action></Response></Autodiscover>`, errPart: "Redirect is empty", errOffset: 32},
		{name: "status not a number", body: `<Autodiscover><Response><Action><Error><Status>two</Status></Error></Action></Response></Autodiscover>`, errPart: "not an integer", errOffset: 39},
		{name: "status overflow", body: `<Autodiscover><Response><Error><ErrorCode>99999999999999999999999</ErrorCode></Error></Response></Autodiscover>`, errPart: "not an integer", errOffset: -1},
		{name: "garbage", body: "hello, world", errPart: "text outside the root element", errOffset: 0},
		{name: "binary", body: "\x00\x01\x02\xff", errPart: "malformed XML", errOffset: -1},
		{name: "empty", body: "", errPart: "no XML element", errOffset: 0},
		{name: "truncated", body: specSettings[:400], errPart: "malformed XML", errOffset: -1},
		{name: "truncated at a tag", body: specRedirect[:strings.Index(specRedirect, "</Action>")], errPart: "", errOffset: -1},
		{name: "mismatched tags", body: `<Autodiscover><Response></Action></Autodiscover>`, errPart: "malformed XML", errOffset: -1},
		{name: "undefined entity", body: `<Autodiscover><Response><Culture>&boom;</Culture></Response></Autodiscover>`, errPart: "malformed XML", errOffset: -1},
		{name: "doctype", body: `<?xml version="1.0"?><!DOCTYPE Autodiscover [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Autodiscover><Response><Culture>&b;</Culture></Response></Autodiscover>`,
			errPart: "DOCTYPE", errOffset: 21},
		{name: "html doctype", body: `<!DOCTYPE html><html></html>`, errPart: "DOCTYPE", errOffset: 0},
		{name: "second root", body: specRedirect + `<Autodiscover/>`, errPart: "second root element", errOffset: int64(len(specRedirect))},
		{name: "text after root", body: specRedirect + `trailing`, errPart: "text outside the root element", errOffset: int64(len(specRedirect))},
		{name: "latin-1 declared", body: `<?xml version="1.0" encoding="ISO-8859-1"?><Autodiscover/>`, errPart: "malformed XML", errOffset: -1},
		{name: "deep nesting", body: deep, errPart: "nested deeper than 64", errOffset: deepAt},
		{name: "too many tokens", body: many, errPart: "more than 10000 XML tokens", errOffset: -1},
		{name: "over-large body", body: huge, errPart: "larger than 1048576 bytes", errOffset: autodiscover.DefaultMaxResponseBytes},
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := autodiscover.ParseResponse([]byte(tc.body))
			if tc.want != nil {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err)
			assert.Nil(t, got)
			var se *autodiscover.SyntaxError
			require.True(t, errors.As(err, &se), "error of type %T: %v", err, err)
			assert.Contains(t, se.Msg, tc.errPart)
			assert.Contains(t, err.Error(), "at byte")
			if tc.errOffset >= 0 {
				assert.Equal(t, tc.errOffset, se.Offset, "offset of %q", err)
			} else {
				assert.True(t, se.Offset >= 0 && se.Offset <= int64(len(tc.body)), "offset %d outside the body", se.Offset)
			}
		})
	}
}

// The offsets the table expects point at what they name.
func TestParseResponseOffsetsPointAtTheProblem(t *testing.T) {
	for body, at := range map[string]string{
		`<?xml version="1.0"?><Foo><Response/></Foo>`:                                                           "<Foo>",
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><Autodiscover/>`:                                    "<!DOCTYPE",
		`<Autodiscover><Response><Action><Redirect>a@b.c</Redirect><Error/></Action></Response></Autodiscover>`: "<Error/>",
	} {
		_, err := autodiscover.ParseResponse([]byte(body))
		var se *autodiscover.SyntaxError
		require.True(t, errors.As(err, &se), "%v", err)
		assert.Equal(t, int64(strings.Index(body, at)), se.Offset, body)
	}
}

func TestResponseMobileSyncTakesTheFirst(t *testing.T) {
	r := &autodiscover.Response{Servers: []autodiscover.Server{
		{Type: "CertEnroll", URL: "https://cert.example.com/"},
		{Type: "mobilesync", URL: "https://one.example.com/Microsoft-Server-ActiveSync"},
		{Type: "MobileSync", URL: "https://two.example.com/Microsoft-Server-ActiveSync"},
	}}
	require.NotNil(t, r.MobileSync())
	assert.Equal(t, "https://one.example.com/Microsoft-Server-ActiveSync", r.MobileSync().URL)
	assert.Nil(t, (&autodiscover.Response{Servers: r.Servers[:1]}).MobileSync())
}

// MS-ASCMD 2.2.1.1 and 2.2.3.1: the request, byte for byte.
func TestMarshalRequestGolden(t *testing.T) {
	const want = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>user@example.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>`
	assert.Equal(t, want, string(autodiscover.MarshalRequest("user@example.com")))

	escaped := autodiscover.MarshalRequest(`o'brien&<co>@example.com`)
	assert.Contains(t, string(escaped), `<EMailAddress>o&#39;brien&amp;&lt;co&gt;@example.com</EMailAddress>`)
	req, err := autodiscover.ParseRequest(escaped)
	require.NoError(t, err)
	assert.Equal(t, &autodiscover.Request{Email: `o'brien&<co>@example.com`, AcceptableResponseSchema: autodiscover.ResponseSchema}, req)
}

func TestParseRequestRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"response":   specSettings,
		"no address": `<Autodiscover><Request><AcceptableResponseSchema>x</AcceptableResponseSchema></Request></Autodiscover>`,
		"wrong root": `<Request><EMailAddress>a@b.c</EMailAddress></Request>`,
		"doctype":    `<!DOCTYPE a><Autodiscover/>`,
		"garbage":    `{"email":"a@b.c"}`,
	} {
		_, err := autodiscover.ParseRequest([]byte(body))
		var se *autodiscover.SyntaxError
		assert.True(t, errors.As(err, &se), "%s: %v", name, err)
	}
}

func TestMarshalResponseRoundTrip(t *testing.T) {
	for name, r := range map[string]*autodiscover.Response{
		"settings": {Culture: "en:us", DisplayName: "Chris <Gray> & Co", Email: "chris@example.com", Servers: []autodiscover.Server{
			{Type: autodiscover.TypeMobileSync, URL: "https://mail.example.com/Microsoft-Server-ActiveSync?a=1&b=2", Name: "mail"},
			{Type: autodiscover.TypeCertEnroll, URL: "https://cert.example.com/CertEnroll", ServerData: "Template\twith\ttabs\r\nand lines"},
			{},
		}},
		"redirect":        {Culture: "de:de", Redirect: "b@example.org"},
		"action error":    {Email: "a@example.com", Error: &autodiscover.ServerError{Code: 2, Message: "Die Verzeichnisdienste sind nicht erreichbar", DebugData: "MailUser"}},
		"negative status": {Error: &autodiscover.ServerError{Code: -3}},
		"framework error": {Culture: "en:us", DisplayName: "X", Error: &autodiscover.ServerError{Code: 600, Message: "Invalid Request"}},
		"schema error":    {Error: &autodiscover.ServerError{Code: 601}},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := autodiscover.MarshalResponse(r)
			require.NoError(t, err)
			got, err := autodiscover.ParseResponse(b)
			require.NoError(t, err, "%s", b)
			assert.Equal(t, r, got, "%s", b)
		})
	}
}

func TestMarshalResponseForms(t *testing.T) {
	b, err := autodiscover.MarshalResponse(&autodiscover.Response{Error: &autodiscover.ServerError{Code: 600, Message: "Invalid Request"}})
	require.NoError(t, err)
	assert.Contains(t, string(b), "<Response>\n    <Error>\n      <ErrorCode>600</ErrorCode>", "framework errors use ErrorCode, directly under Response")
	assert.NotContains(t, string(b), autodiscover.ResponseSchema)

	b, err = autodiscover.MarshalResponse(&autodiscover.Response{Error: &autodiscover.ServerError{Code: 2}})
	require.NoError(t, err)
	assert.Contains(t, string(b), `<Response xmlns="`+autodiscover.ResponseSchema+`">`)
	assert.Contains(t, string(b), "<Action>\n      <Error>\n        <Status>2</Status>")

	b, err = autodiscover.MarshalResponse(&autodiscover.Response{Redirect: "b@example.org"})
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<Autodiscover xmlns="`+autodiscover.ResponseNamespace+`">`)), "%s", b)
}

func TestMarshalResponseRefuses(t *testing.T) {
	_, err := autodiscover.MarshalResponse(nil)
	assert.Error(t, err)
	_, err = autodiscover.MarshalResponse(&autodiscover.Response{Culture: "en:us"})
	assert.ErrorContains(t, err, "exactly one of")
	_, err = autodiscover.MarshalResponse(&autodiscover.Response{Redirect: "a@b.c", Error: &autodiscover.ServerError{Code: 2}})
	assert.ErrorContains(t, err, "not 2")
}
