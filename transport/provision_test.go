package transport_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

// Tree builders for Provision bodies (code page 14) and the Settings elements they
// borrow (code page 18). The WBXML they produce is always well formed.
func pv(name string) wbxml.Tag { return wbxml.MustTag("Provision", name) }
func pel(name string, children ...*wbxml.Node) *wbxml.Node {
	return wbxml.NewElement(pv(name), children...)
}
func ptx(name, s string) *wbxml.Node { return wbxml.NewTextElement(pv(name), s) }
func sel(name string, children ...*wbxml.Node) *wbxml.Node {
	return wbxml.NewElement(wbxml.MustTag("Settings", name), children...)
}
func stx(name, s string) *wbxml.Node {
	return wbxml.NewTextElement(wbxml.MustTag("Settings", name), s)
}
func textNode(s string) *wbxml.Node { return &wbxml.Node{Kind: wbxml.TextNode, Data: []byte(s)} }

func provDoc(tb testing.TB, children ...*wbxml.Node) []byte {
	tb.Helper()
	b, err := wbxml.Marshal(pel("Provision", children...))
	require.NoError(tb, err)
	return b
}

// policyResp builds a response with Status 1 and one Policy holding children.
func policyResp(tb testing.TB, children ...*wbxml.Node) []byte {
	return provDoc(tb, ptx("Status", "1"), pel("Policies", pel("Policy", children...)))
}

func readCapture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.SharedDir(t), "captures", rel))
	require.NoError(t, err)
	return b
}

// tokenOffset walks body and returns the offset of the n-th (from 1) token of kind
// whose element path is path: for a start or end tag the element's own path, for
// text the path of the element holding it. Paths name Provision elements plainly
// and others as "Namespace:Name", as FieldError does. It fails the test when there
// is no such token.
func tokenOffset(t *testing.T, body []byte, kind wbxml.Kind, path string, n int) int64 {
	t.Helper()
	d := wbxml.NewDecoderBytes(body)
	var stack []string
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		switch tok.Kind {
		case wbxml.StartElement:
			name := tok.Tag.Name()
			if tok.Tag.Namespace() != "Provision" {
				name = tok.Tag.Namespace() + ":" + name
			}
			stack = append(stack, name)
		}
		if tok.Kind == kind && strings.Join(stack, "/") == path {
			if n--; n == 0 {
				return tok.Offset
			}
		}
		if tok.Kind == wbxml.EndElement {
			stack = stack[:len(stack)-1]
		}
	}
	t.Fatalf("no token %v at %s", kind, path)
	return -1
}

func TestProvisionCapturesSOGoAndHorde(t *testing.T) {
	initial := &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML}
	cases := []struct {
		server string
		resp   *transport.ProvisionResponse
	}{
		// SOGo 5.8 names the policy type it has no policy of.
		{"sogo", &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 2}},
		// Horde 2.41 leaves the required PolicyType out.
		{"horde", &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyStatus: 2}},
	}
	for _, c := range cases {
		t.Run(c.server, func(t *testing.T) {
			reqBody := readCapture(t, c.server+"/provision-1.req.wbxml")
			req, err := transport.UnmarshalProvisionRequest(reqBody)
			require.NoError(t, err)
			assert.Equal(t, initial, req)
			out, err := req.MarshalWBXML()
			require.NoError(t, err)
			assert.Equal(t, reqBody, out, "request re-encodes byte for byte")

			respBody := readCapture(t, c.server+"/provision-1.resp.wbxml")
			resp, err := transport.UnmarshalProvisionResponse(respBody)
			require.NoError(t, err)
			assert.Equal(t, c.resp, resp)
			assert.True(t, resp.NoPolicy(), "the server has no policy for the device")
			out, err = resp.MarshalWBXML()
			require.NoError(t, err)
			assert.Equal(t, respBody, out, "response re-encodes byte for byte")
		})
	}
}

func syncgwProvisionCaptures(t *testing.T) (reqs, resps map[string][]byte) {
	dir := filepath.Join(testutil.SharedDir(t), "captures", "syncgw", "Provision")
	files, err := filepath.Glob(filepath.Join(dir, "*.wbxml"))
	require.NoError(t, err)
	reqs, resps = map[string][]byte{}, map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if strings.HasSuffix(f, "_req.wbxml") {
			reqs[filepath.Base(f)] = b
		} else {
			resps[filepath.Base(f)] = b
		}
	}
	require.Len(t, reqs, 18)
	require.Len(t, resps, 18)
	return reqs, resps
}

// sync*gw's DeviceInformation answer: Provision:Status (page 14) inside
// settings:DeviceInformation, where MS-ASCMD 2.2.3.45 has settings:Status. The
// encoder writes settings:Status; the document is otherwise the same, byte for byte.
var (
	syncgwDeviceInfoStatus    = []byte{0x56, 0x00, 0x0E, 0x4B, 0x03, '1', 0x00, 0x01, 0x01}
	canonicalDeviceInfoStatus = []byte{0x56, 0x46, 0x03, '1', 0x00, 0x01, 0x01, 0x00, 0x0E}
)

func TestProvisionCapturesSyncgw(t *testing.T) {
	reqs, resps := syncgwProvisionCaptures(t)
	for name, body := range reqs {
		req, err := transport.UnmarshalProvisionRequest(body)
		require.NoError(t, err, name)
		out, err := req.MarshalWBXML()
		require.NoError(t, err)
		assert.Equal(t, body, out, "%s: Nine's request re-encodes byte for byte", name)
	}
	quirks := 0
	for name, body := range resps {
		resp, err := transport.UnmarshalProvisionResponse(body)
		require.NoError(t, err, name)
		out, err := resp.MarshalWBXML()
		require.NoError(t, err)
		want := body
		if resp.DeviceInformationStatus != 0 {
			require.True(t, bytes.Contains(body, syncgwDeviceInfoStatus), name)
			want = bytes.Replace(body, syncgwDeviceInfoStatus, canonicalDeviceInfoStatus, 1)
			quirks++
		}
		assert.Equal(t, want, out, "%s: re-encodes byte for byte but for the DeviceInformation Status page", name)
		again, err := transport.UnmarshalProvisionResponse(out)
		require.NoError(t, err)
		assert.Equal(t, resp, again)
	}
	assert.Equal(t, 12, quirks, "every initial response carries the DeviceInformation answer")

	// One exchange in detail: initial request, initial response, acknowledgement, answer.
	initial, err := transport.UnmarshalProvisionRequest(reqs["t754_R12_req.wbxml"])
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionRequest{
		PolicyType: transport.PolicyTypeWBXML,
		DeviceInformation: []transport.PolicySetting{
			{Name: "Model", Value: "Android SDK built for x86_64"},
			{Name: "IMEI", Value: "000000000000000"},
			{Name: "FriendlyName", Value: "sdk_phone64_x86_64"},
			{Name: "OS", Value: "Android 12.8752307"},
			{Name: "OSLanguage", Value: "English (United States)"},
			{Name: "MobileOperator", Value: "T-Mobile"},
		},
	}, initial)

	policy, err := transport.UnmarshalProvisionResponse(resps["t754_R36_resp.wbxml"])
	require.NoError(t, err)
	assert.Equal(t, 1, policy.Status)
	assert.Equal(t, 1, policy.DeviceInformationStatus)
	assert.Equal(t, transport.PolicyTypeWBXML, policy.PolicyType)
	assert.Equal(t, 1, policy.PolicyStatus)
	assert.Equal(t, "56210", policy.PolicyKey)
	assert.False(t, policy.NoPolicy())
	require.Len(t, policy.Settings, 42)
	assert.Equal(t, transport.PolicySetting{Name: "DevicePasswordEnabled", Value: "0"}, policy.Settings[0])
	assert.Contains(t, policy.Settings, transport.PolicySetting{Name: "MaxAttachmentSize", Value: "20971520"})
	assert.Contains(t, policy.Settings, transport.PolicySetting{Name: "MaxEmailBodyTruncationSize", Value: "-1"})
	assert.Equal(t, []transport.PolicySetting{{Name: "UnapprovedInROMApplicationList"}, {Name: "ApprovedApplicationList"}},
		policy.Settings[40:], "empty lists are settings with empty values")

	ack, err := transport.UnmarshalProvisionRequest(reqs["t754_R39_req.wbxml"])
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "56210", Status: 1}, ack)

	final, err := transport.UnmarshalProvisionResponse(resps["t754_R45_resp.wbxml"])
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 1, PolicyKey: "56210"}, final,
		"sync*gw's final key is the temporary one")
}

// fullPolicy is an initial response with device information, nested application
// lists and an unset (empty) setting.
func fullPolicy() *transport.ProvisionResponse {
	return &transport.ProvisionResponse{
		Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 1, PolicyKey: "3942919513",
		DeviceInformationStatus: 1,
		Settings: []transport.PolicySetting{
			{Name: "DevicePasswordEnabled", Value: "1"},
			{Name: "MinDevicePasswordLength", Value: "6"},
			{Name: "MaxInactivityTimeDeviceLock", Value: "900"},
			{Name: "UnapprovedInROMApplicationList/ApplicationName", Value: "Calculator"},
			{Name: "UnapprovedInROMApplicationList/ApplicationName", Value: "Solitaire"},
			{Name: "ApprovedApplicationList/Hash", Value: "3FA8A3B0C6F2E1D94B7A"},
			{Name: "MaxCalendarAgeFilter", Value: ""},
			{Name: "AllowBluetooth", Value: "2"},
		},
	}
}

func TestProvisionFullPolicyResponse(t *testing.T) {
	resp := fullPolicy()
	body, err := resp.MarshalWBXML()
	require.NoError(t, err)
	want := provDoc(t,
		sel("DeviceInformation", stx("Status", "1")),
		ptx("Status", "1"),
		pel("Policies", pel("Policy",
			ptx("PolicyType", transport.PolicyTypeWBXML),
			ptx("Status", "1"),
			ptx("PolicyKey", "3942919513"),
			pel("Data", pel("EASProvisionDoc",
				ptx("DevicePasswordEnabled", "1"),
				ptx("MinDevicePasswordLength", "6"),
				ptx("MaxInactivityTimeDeviceLock", "900"),
				pel("UnapprovedInROMApplicationList", ptx("ApplicationName", "Calculator"), ptx("ApplicationName", "Solitaire")),
				pel("ApprovedApplicationList", ptx("Hash", "3FA8A3B0C6F2E1D94B7A")),
				ptx("MaxCalendarAgeFilter", ""),
				ptx("AllowBluetooth", "2"),
			)),
		)),
	)
	assert.Equal(t, want, body, "elements in the order of MS-ASPROV 6.3; list entries share one container")
	got, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err)
	assert.Equal(t, resp, got)
	assert.False(t, got.NoPolicy())

	// Order is free on input: the same response with every container's children reversed.
	shuffled := provDoc(t,
		pel("Policies", pel("Policy",
			pel("Data", pel("EASProvisionDoc", ptx("DevicePasswordEnabled", "1"))),
			ptx("PolicyKey", "7"),
			ptx("Status", "1"),
			ptx("PolicyType", transport.PolicyTypeWBXML),
		)),
		ptx("Status", "1"),
		sel("DeviceInformation", stx("Status", "1")),
	)
	got, err = transport.UnmarshalProvisionResponse(shuffled)
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionResponse{
		Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeWBXML, PolicyStatus: 1, PolicyKey: "7",
		DeviceInformationStatus: 1, Settings: []transport.PolicySetting{{Name: "DevicePasswordEnabled", Value: "1"}},
	}, got)
}

func TestProvisionNestedSettingsKeepDocumentOrder(t *testing.T) {
	// Two separate runs of the same list, an empty list, and white space between
	// elements, as a pretty-printing encoder leaves.
	body := policyResp(t, ptx("PolicyType", transport.PolicyTypeWBXML), ptx("Status", "1"),
		pel("Data", textNode("\n  "), pel("EASProvisionDoc",
			textNode("\n"),
			pel("ApprovedApplicationList", textNode(" "), ptx("Hash", "a"), textNode("\n")),
			ptx("AllowCamera", "0"),
			pel("ApprovedApplicationList", ptx("Hash", "b"), ptx("Hash", "c")),
			pel("UnapprovedInROMApplicationList"),
		)))
	resp, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err)
	assert.Equal(t, []transport.PolicySetting{
		{Name: "ApprovedApplicationList/Hash", Value: "a"},
		{Name: "AllowCamera", Value: "0"},
		{Name: "ApprovedApplicationList/Hash", Value: "b"},
		{Name: "ApprovedApplicationList/Hash", Value: "c"},
		{Name: "UnapprovedInROMApplicationList", Value: ""},
	}, resp.Settings)
	out, err := resp.MarshalWBXML()
	require.NoError(t, err)
	again, err := transport.UnmarshalProvisionResponse(out)
	require.NoError(t, err)
	assert.Equal(t, resp, again)
}

func TestProvision25DataIsKeptAsText(t *testing.T) {
	// A protocol 2.5 policy: the Data text is a wap-provisioningdoc, longer than one
	// setting may be.
	doc := `<wap-provisioningdoc><characteristic type="SecurityPolicy">` +
		strings.Repeat(`<parm name="4131" value="0"/>`, 60) + `</characteristic></wap-provisioningdoc>`
	require.Greater(t, len(doc), transport.MaxPolicySettingLength)
	resp := &transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeXML, PolicyStatus: 1, PolicyKey: "1",
		Settings: []transport.PolicySetting{{Name: "Data", Value: doc}}}
	body, err := resp.MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, policyResp(t, ptx("PolicyType", transport.PolicyTypeXML), ptx("Status", "1"), ptx("PolicyKey", "1"), ptx("Data", doc)), body)
	got, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err)
	assert.Equal(t, resp, got)

	// Two pieces, each within the WBXML string limit, too long together.
	half := strings.Repeat("x", transport.MaxPolicyDataLength/2+1)
	long := policyResp(t, ptx("Status", "1"), pel("Data", textNode(half), textNode(half)))
	_, err = transport.UnmarshalProvisionResponse(long)
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Provision/Policies/Policy/Data", fe.Field)
	assert.Equal(t, tokenOffset(t, long, wbxml.StartElement, "Provision/Policies/Policy/Data", 1), fe.Offset)
}

func TestProvisionRemoteWipeResponse(t *testing.T) {
	// MS-ASPROV 3.2.5.1.2.2: <Provision><Status>1</Status><RemoteWipe/></Provision>.
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x4B, 0x03, '1', 0x00, 0x01, 0x0C, 0x01}
	resp, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionResponse{Status: 1, RemoteWipe: true}, resp)
	assert.False(t, resp.NoPolicy(), "a wipe order is not a 'go on without a policy'")
	out, err := resp.MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, body, out)

	// The content flag with nothing inside reads the same; a child does not.
	resp, err = transport.UnmarshalProvisionResponse(provDoc(t, ptx("Status", "1"), pel("RemoteWipe", textNode(" "))))
	require.NoError(t, err)
	assert.True(t, resp.RemoteWipe)

	resp, err = transport.UnmarshalProvisionResponse(provDoc(t, ptx("Status", "1"), pel("AccountOnlyRemoteWipe")))
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionResponse{Status: 1, AccountOnlyRemoteWipe: true}, resp)
	assert.False(t, resp.NoPolicy())
}

func TestProvisionRequests(t *testing.T) {
	cases := []struct {
		name string
		req  *transport.ProvisionRequest
		want []byte
	}{
		{"initial", &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML},
			provDoc(t, pel("Policies", pel("Policy", ptx("PolicyType", transport.PolicyTypeWBXML))))},
		// MS-ASPROV 2.2.2.41: PolicyKey before Status; Nine sends this order too.
		{"acknowledgement", &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "56210", Status: 1},
			provDoc(t, pel("Policies", pel("Policy", ptx("PolicyType", transport.PolicyTypeWBXML), ptx("PolicyKey", "56210"), ptx("Status", "1"))))},
		{"2.5 initial", &transport.ProvisionRequest{PolicyType: transport.PolicyTypeXML},
			provDoc(t, pel("Policies", pel("Policy", ptx("PolicyType", transport.PolicyTypeXML))))},
		{"14.1 initial", &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML,
			DeviceInformation: []transport.PolicySetting{{Name: "Model", Value: "easkit"}, {Name: "UserAgent", Value: "foldersync/1"}}},
			provDoc(t, sel("DeviceInformation", sel("Set", stx("Model", "easkit"), stx("UserAgent", "foldersync/1"))),
				pel("Policies", pel("Policy", ptx("PolicyType", transport.PolicyTypeWBXML))))},
		{"remote wipe acknowledgement", &transport.ProvisionRequest{RemoteWipeStatus: 1},
			provDoc(t, pel("RemoteWipe", ptx("Status", "1")))},
		{"account-only wipe acknowledgement", &transport.ProvisionRequest{AccountOnlyRemoteWipeStatus: 2},
			provDoc(t, pel("AccountOnlyRemoteWipe", ptx("Status", "2")))},
		{"empty, after a wipe status", &transport.ProvisionRequest{}, provDoc(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, err := c.req.MarshalWBXML()
			require.NoError(t, err)
			assert.Equal(t, c.want, body)
			got, err := transport.UnmarshalProvisionRequest(body)
			require.NoError(t, err)
			assert.Equal(t, c.req, got)
		})
	}

	// The acknowledgement Nine sent sync*gw, byte for byte.
	ack, err := (&transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "56210", Status: 1}).MarshalWBXML()
	require.NoError(t, err)
	assert.Equal(t, readCapture(t, "syncgw/Provision/t754_R39_req.wbxml"), ack)

	// The decoder takes any order, as the example of MS-ASPROV 3.1.5.1.2.1 writes it.
	got, err := transport.UnmarshalProvisionRequest(provDoc(t, pel("Policies", pel("Policy",
		ptx("PolicyKey", "9"), ptx("Status", "1"), ptx("PolicyType", transport.PolicyTypeWBXML)))))
	require.NoError(t, err)
	assert.Equal(t, &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "9", Status: 1}, got)
}

func TestProvisionNoPolicy(t *testing.T) {
	wbx := transport.PolicyTypeWBXML
	cases := []struct {
		name string
		resp transport.ProvisionResponse
		want bool
	}{
		{"policy status 2", transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: wbx, PolicyStatus: 2}, true},
		{"no policy type", transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyStatus: 1}, true},
		{"no policy at all", transport.ProvisionResponse{Status: 1}, true},
		{"a policy", transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: wbx, PolicyStatus: 1, PolicyKey: "1"}, false},
		{"unknown policy type", transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: "x", PolicyStatus: 3}, false},
		{"wrong key", transport.ProvisionResponse{Status: 1, HasPolicy: true, PolicyType: wbx, PolicyStatus: 5}, false},
		{"protocol error", transport.ProvisionResponse{Status: 2}, false},
		{"server error", transport.ProvisionResponse{Status: 3, HasPolicy: true, PolicyStatus: 2}, false},
		{"remote wipe", transport.ProvisionResponse{Status: 1, RemoteWipe: true}, false},
		{"account-only wipe", transport.ProvisionResponse{Status: 1, AccountOnlyRemoteWipe: true}, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.resp.NoPolicy(), c.name)
	}
}

func TestProvisionResponseFieldErrors(t *testing.T) {
	const (
		pol  = "Provision/Policies/Policy"
		easp = pol + "/Data/EASProvisionDoc"
	)
	ok := ptx("Status", "1")
	pt := ptx("PolicyType", transport.PolicyTypeWBXML)
	manySettings := make([]*wbxml.Node, transport.MaxPolicySettings+1)
	for i := range manySettings {
		manySettings[i] = pel("ApprovedApplicationList", ptx("Hash", fmt.Sprint(i)))
	}
	start, end, text := wbxml.StartElement, wbxml.EndElement, wbxml.Text
	cases := []struct {
		name  string
		body  []byte
		field string
		kind  wbxml.Kind // the token the offset points at,
		at    string     // found at this path,
		nth   int        // the nth time
		msg   string
	}{
		{"status not a number", provDoc(t, ptx("Status", "one")), "Provision/Status", start, "Provision/Status", 1, "not an unsigned integer"},
		{"status empty", provDoc(t, ptx("Status", "")), "Provision/Status", start, "Provision/Status", 1, "not an unsigned integer"},
		{"status negative", provDoc(t, ptx("Status", "-1")), "Provision/Status", start, "Provision/Status", 1, "not an unsigned integer"},
		{"status above a byte", provDoc(t, ptx("Status", "256")), "Provision/Status", start, "Provision/Status", 1, "above 255"},
		{"policy status not a number", policyResp(t, pt, ptx("Status", "ok")), pol + "/Status", start, pol + "/Status", 1, "not an unsigned integer"},
		{"status missing", provDoc(t, pel("RemoteWipe")), "Provision/Status", end, "Provision", 1, "missing"},
		{"status twice", provDoc(t, ok, ok), "Provision/Status", start, "Provision/Status", 2, "appears twice"},
		{"unknown child of Provision", provDoc(t, ok, ptx("PolicyKey", "1")), "Provision/PolicyKey", start, "Provision/PolicyKey", 1, "unexpected element"},
		{"foreign child of Provision", provDoc(t, ok, wbxml.NewTextElement(wbxml.MustTag("AirSync", "Status"), "1")), "Provision/AirSync:Status", start, "Provision/AirSync:Status", 1, "unexpected element"},
		{"unknown child of Policies", provDoc(t, ok, pel("Policies", ptx("PolicyType", "x"))), "Provision/Policies/PolicyType", start, "Provision/Policies/PolicyType", 1, "unexpected element"},
		{"unknown child of Policy", policyResp(t, pt, ok, ptx("RemoteWipe", "")), pol + "/RemoteWipe", start, pol + "/RemoteWipe", 1, "unexpected element"},
		{"Policies without Policy", provDoc(t, ok, pel("Policies")), "Provision/Policies/Policy", end, "Provision/Policies", 1, "missing"},
		{"Policy twice", provDoc(t, ok, pel("Policies", pel("Policy", ok), pel("Policy", ok))), pol, start, pol, 2, "appears twice"},
		{"Policy without Status", policyResp(t, pt), pol + "/Status", end, pol, 1, "missing"},
		{"PolicyKey twice", policyResp(t, ok, ptx("PolicyKey", "1"), ptx("PolicyKey", "2")), pol + "/PolicyKey", start, pol + "/PolicyKey", 2, "appears twice"},
		{"PolicyKey too long", policyResp(t, ok, ptx("PolicyKey", strings.Repeat("9", 65))), pol + "/PolicyKey", start, pol + "/PolicyKey", 1, "65 characters"},
		{"PolicyType too long", policyResp(t, ok, ptx("PolicyType", strings.Repeat("T", 65))), pol + "/PolicyType", start, pol + "/PolicyType", 1, "65 characters"},
		{"element inside PolicyKey", policyResp(t, ok, pel("PolicyKey", ptx("Hash", "1"))), pol + "/PolicyKey/Hash", start, pol + "/PolicyKey/Hash", 1, "holds text only"},
		{"text in Policies", provDoc(t, ok, pel("Policies", textNode("x"), pel("Policy", ok))), "Provision/Policies", text, "Provision/Policies", 1, "holds elements, not text"},
		{"child of RemoteWipe", provDoc(t, ok, pel("RemoteWipe", ok)), "Provision/RemoteWipe/Status", start, "Provision/RemoteWipe/Status", 1, "no children"},
		{"unknown child of Data", policyResp(t, ok, pel("Data", ptx("PolicyKey", "1"))), pol + "/Data/PolicyKey", start, pol + "/Data/PolicyKey", 1, "unexpected element"},
		{"Data text and document", policyResp(t, ok, pel("Data", textNode("x"), pel("EASProvisionDoc"))), pol + "/Data", start, pol + "/Data/EASProvisionDoc", 1, "not both"},
		{"two documents", policyResp(t, ok, pel("Data", pel("EASProvisionDoc"), pel("EASProvisionDoc"))), easp, start, easp, 2, "appears twice"},
		{"foreign setting", policyResp(t, ok, pel("Data", pel("EASProvisionDoc", wbxml.NewTextElement(wbxml.MustTag("Settings", "Model"), "x")))),
			easp + "/Settings:Model", start, easp + "/Settings:Model", 1, "unexpected element"},
		{"setting mixes text and elements", policyResp(t, ok, pel("Data", pel("EASProvisionDoc", pel("ApprovedApplicationList", textNode("x"), ptx("Hash", "1"))))),
			easp + "/ApprovedApplicationList", start, easp + "/ApprovedApplicationList/Hash", 1, "not both"},
		{"setting too long", policyResp(t, ok, pel("Data", pel("EASProvisionDoc", ptx("AllowWiFi", strings.Repeat("1", transport.MaxPolicySettingLength+1))))),
			easp + "/AllowWiFi", start, easp + "/AllowWiFi", 1, "longer than the 1024 bytes"},
		{"too many settings", policyResp(t, ok, pel("Data", pel("EASProvisionDoc", manySettings...))),
			easp + "/ApprovedApplicationList/Hash", start, easp + "/ApprovedApplicationList/Hash", transport.MaxPolicySettings + 1, "more than the 256 settings"},
		{"DeviceInformation without Status", provDoc(t, ok, sel("DeviceInformation")), "Provision/Settings:DeviceInformation/Settings:Status", end, "Provision/Settings:DeviceInformation", 1, "missing"},
		{"DeviceInformation with Set", provDoc(t, ok, sel("DeviceInformation", sel("Set", stx("Model", "x")))), "Provision/Settings:DeviceInformation/Settings:Set", start, "Provision/Settings:DeviceInformation/Settings:Set", 1, "unexpected element"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := transport.UnmarshalProvisionResponse(c.body)
			var fe *transport.FieldError
			require.ErrorAs(t, err, &fe, "want *FieldError, got %T: %v", err, err)
			assert.Equal(t, c.field, fe.Field)
			assert.Equal(t, tokenOffset(t, c.body, c.kind, c.at, c.nth), fe.Offset, "%v", err)
			assert.Contains(t, fe.Msg, c.msg)
			assert.Contains(t, err.Error(), fmt.Sprintf("offset %d: ", fe.Offset))
		})
	}
}

func TestProvisionRequestFieldErrors(t *testing.T) {
	const pol = "Provision/Policies/Policy"
	pt := ptx("PolicyType", transport.PolicyTypeWBXML)
	di := "Provision/Settings:DeviceInformation"
	start, end := wbxml.StartElement, wbxml.EndElement
	cases := []struct {
		name  string
		body  []byte
		field string
		kind  wbxml.Kind
		at    string
		nth   int
		msg   string
	}{
		{"Status in Provision", provDoc(t, ptx("Status", "1")), "Provision/Status", start, "Provision/Status", 1, "unexpected element"},
		{"Data in Policy", provDoc(t, pel("Policies", pel("Policy", pt, pel("Data")))), pol + "/Data", start, pol + "/Data", 1, "unexpected element"},
		{"no PolicyType", provDoc(t, pel("Policies", pel("Policy", ptx("PolicyKey", "1")))), pol + "/PolicyType", end, pol, 1, "missing"},
		{"empty PolicyType", provDoc(t, pel("Policies", pel("Policy", ptx("PolicyType", "")))), pol + "/PolicyType", start, pol + "/PolicyType", 1, "empty"},
		{"status not a number", provDoc(t, pel("Policies", pel("Policy", pt, ptx("PolicyKey", "1"), ptx("Status", "applied")))), pol + "/Status", start, pol + "/Status", 1, "not an unsigned integer"},
		{"status zero", provDoc(t, pel("Policies", pel("Policy", pt, ptx("PolicyKey", "1"), ptx("Status", "0")))), pol + "/Status", start, pol + "/Status", 1, "0 is not a status"},
		{"PolicyKey too long", provDoc(t, pel("Policies", pel("Policy", pt, ptx("PolicyKey", strings.Repeat("Ж", 65))))), pol + "/PolicyKey", start, pol + "/PolicyKey", 1, "65 characters"},
		{"RemoteWipe without Status", provDoc(t, pel("RemoteWipe")), "Provision/RemoteWipe/Status", end, "Provision/RemoteWipe", 1, "missing"},
		{"RemoteWipe status not a number", provDoc(t, pel("RemoteWipe", ptx("Status", "done"))), "Provision/RemoteWipe/Status", start, "Provision/RemoteWipe/Status", 1, "not an unsigned integer"},
		{"RemoteWipe twice", provDoc(t, pel("RemoteWipe", ptx("Status", "1")), pel("RemoteWipe", ptx("Status", "1"))), "Provision/RemoteWipe", start, "Provision/RemoteWipe", 2, "appears twice"},
		{"unknown child of RemoteWipe", provDoc(t, pel("RemoteWipe", ptx("PolicyKey", "1"))), "Provision/RemoteWipe/PolicyKey", start, "Provision/RemoteWipe/PolicyKey", 1, "unexpected element"},
		{"DeviceInformation without Set", provDoc(t, sel("DeviceInformation"), pel("Policies", pel("Policy", pt))), di + "/Settings:Set", end, di, 1, "missing"},
		{"empty Set", provDoc(t, sel("DeviceInformation", sel("Set"))), di + "/Settings:Set", start, di + "/Settings:Set", 1, "empty"},
		{"not a device property", provDoc(t, sel("DeviceInformation", sel("Set", stx("Model", "x"), stx("Password", "secret")))),
			di + "/Settings:Set/Settings:Password", start, di + "/Settings:Set/Settings:Password", 1, "unexpected element"},
		{"device property twice", provDoc(t, sel("DeviceInformation", sel("Set", stx("Model", "x"), stx("Model", "y")))),
			di + "/Settings:Set/Settings:Model", start, di + "/Settings:Set/Settings:Model", 2, "appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := transport.UnmarshalProvisionRequest(c.body)
			var fe *transport.FieldError
			require.ErrorAs(t, err, &fe, "want *FieldError, got %T: %v", err, err)
			assert.Equal(t, c.field, fe.Field)
			assert.Equal(t, tokenOffset(t, c.body, c.kind, c.at, c.nth), fe.Offset, "%v", err)
			assert.Contains(t, fe.Msg, c.msg)
		})
	}
}

func TestProvisionWrongRoot(t *testing.T) {
	fs, err := (&transport.FolderSyncRequest{SyncKey: "0"}).MarshalWBXML()
	require.NoError(t, err)
	for name, decode := range map[string]func([]byte) error{
		"request":  func(b []byte) error { _, err := transport.UnmarshalProvisionRequest(b); return err },
		"response": func(b []byte) error { _, err := transport.UnmarshalProvisionResponse(b); return err },
	} {
		err := decode(fs)
		var fe *transport.FieldError
		require.ErrorAs(t, err, &fe, name)
		assert.Equal(t, "Provision", fe.Field)
		assert.Equal(t, int64(6), fe.Offset, "after the header and the SWITCH_PAGE")
		assert.Contains(t, fe.Msg, "not a Provision body")
	}
}

func TestProvisionSyntaxErrorsComeThrough(t *testing.T) {
	good := provDoc(t, ptx("Status", "1"))
	cases := map[string]struct {
		body []byte
		kind error
		off  int64
	}{
		"bad version":     {append([]byte{0x09}, good[1:]...), wbxml.ErrUnsupportedVersion, 0},
		"unknown tag":     {[]byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x3F, 0x01}, wbxml.ErrUnknownTag, 7},
		"truncated":       {good[:len(good)-1], wbxml.ErrTruncated, int64(len(good) - 1)},
		"trailing data":   {append(bytes.Clone(good), 0x01), wbxml.ErrTrailingData, int64(len(good))},
		"too deep":        {provDoc(t, ptx("Status", "1"), pel("Policies", pel("Policy", ptx("Status", "1"), pel("Data", pel("EASProvisionDoc", deepList(12)))))), wbxml.ErrLimit, -1},
		"invalid UTF-8":   {[]byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x4B, 0x03, 0xFF, 0x00, 0x01, 0x01}, wbxml.ErrInvalidUTF8, 9},
		"attribute token": {[]byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0xC5, 0x01}, wbxml.ErrUnsupportedToken, 6},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := transport.UnmarshalProvisionResponse(c.body)
			var se *wbxml.SyntaxError
			require.ErrorAs(t, err, &se, "want *wbxml.SyntaxError, got %T: %v", err, err)
			assert.ErrorIs(t, err, c.kind)
			if c.off >= 0 {
				assert.Equal(t, c.off, se.Offset)
			}
			_, err = transport.UnmarshalProvisionRequest(c.body)
			require.Error(t, err)
			requireTyped(t, err)
		})
	}
}

// deepList nests application lists n deep below EASProvisionDoc.
func deepList(n int) *wbxml.Node {
	node := ptx("Hash", "x")
	for i := 0; i < n; i++ {
		node = pel("ApprovedApplicationList", node)
	}
	return node
}

func TestProvisionLimits(t *testing.T) {
	settings := func(n int) []*wbxml.Node {
		out := make([]*wbxml.Node, n)
		for i := range out {
			out[i] = ptx("AllowWiFi", strings.Repeat("1", transport.MaxPolicySettingLength))
		}
		return out
	}
	cyr := strings.Repeat("Ж", transport.MaxPolicyKeyLength) // 128 bytes, 64 characters
	body := policyResp(t, ptx("PolicyType", cyr), ptx("Status", "1"), ptx("PolicyKey", cyr),
		pel("Data", pel("EASProvisionDoc", settings(transport.MaxPolicySettings)...)))
	resp, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err, "everything at its limit is accepted")
	assert.Len(t, resp.Settings, transport.MaxPolicySettings)
	out, err := resp.MarshalWBXML()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, out), "re-encodes byte for byte")

	// A body over 1 MiB is refused before it is read.
	huge := make([]byte, transport.MaxProvisionBodySize+1)
	copy(huge, body)
	var before, after runtimeMem
	before.read()
	_, err = transport.UnmarshalProvisionResponse(huge)
	after.read()
	var se *wbxml.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, wbxml.ErrLimit)
	assert.Less(t, after.total-before.total, uint64(64<<10), "the refusal allocates nothing the size of the body")
	_, err = transport.UnmarshalProvisionRequest(huge)
	assert.ErrorIs(t, err, wbxml.ErrLimit)

	// A long string in a small body is refused by the WBXML limits, not copied.
	long := provDoc(t, ptx("Status", "1"), pel("Policies", pel("Policy", ptx("Status", "1"), ptx("Data", strings.Repeat("x", transport.MaxPolicyDataLength+1)))))
	_, err = transport.UnmarshalProvisionResponse(long)
	assert.True(t, errors.Is(err, wbxml.ErrLimit) || errors.As(err, new(*transport.FieldError)), "%v", err)
}

func TestProvisionTextPieces(t *testing.T) {
	// A value split over STR_I, ENTITY and OPAQUE reads as one string.
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x4B, 0x03, '1', 0x00, 0x01,
		0x46, 0x47, 0x49, 0x03, '1', '2', 0x00, 0x02, 0x33, 0xC3, 0x02, '4', '5', 0x01, 0x4B, 0x03, '1', 0x00, 0x01, 0x01, 0x01, 0x01}
	resp, err := transport.UnmarshalProvisionResponse(body)
	require.NoError(t, err)
	assert.Equal(t, "12345", resp.PolicyKey)

	// An OPAQUE value that is not text cannot become a string.
	bad := bytes.Clone(body)
	bad[23] = 0xFF
	_, err = transport.UnmarshalProvisionResponse(bad)
	var fe *transport.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Provision/Policies/Policy/PolicyKey", fe.Field)
	assert.Equal(t, int64(21), fe.Offset)
}

// Every proper prefix of a valid body is an error, typed, and never a panic.
func TestProvisionTruncationAtEveryByte(t *testing.T) {
	testutil.SharedDir(t) // the captures are part of the set
	bodies := append(provisionCaptureBodies(), provisionSeedBodies(t)...)
	require.Greater(t, len(bodies), 40)
	for i, body := range bodies {
		for n := 0; n < len(body); n++ {
			_, err := transport.UnmarshalProvisionResponse(body[:n])
			require.Error(t, err, "body %d cut at %d", i, n)
			requireTyped(t, err)
			_, err = transport.UnmarshalProvisionRequest(body[:n])
			require.Error(t, err, "body %d cut at %d", i, n)
			requireTyped(t, err)
		}
	}
}

func TestProvisionEncodeRefusesWhatDecodeRejects(t *testing.T) {
	wbx := transport.PolicyTypeWBXML
	reqs := map[string]*transport.ProvisionRequest{
		"key without type":    {PolicyKey: "1"},
		"status without type": {Status: 1},
		"long key":            {PolicyType: wbx, PolicyKey: strings.Repeat("k", 65)},
		"long type":           {PolicyType: strings.Repeat("t", 65)},
		"status 256":          {PolicyType: wbx, PolicyKey: "1", Status: 256},
		"negative wipe":       {RemoteWipeStatus: -1},
		"not a property":      {PolicyType: wbx, DeviceInformation: []transport.PolicySetting{{Name: "Password", Value: "x"}}},
		"property twice":      {PolicyType: wbx, DeviceInformation: []transport.PolicySetting{{Name: "OS", Value: "a"}, {Name: "OS", Value: "b"}}},
		"NUL in property":     {PolicyType: wbx, DeviceInformation: []transport.PolicySetting{{Name: "OS", Value: "a\x00"}}},
		"NUL in key":          {PolicyType: wbx, PolicyKey: "1\x00"},
	}
	for name, req := range reqs {
		_, err := req.MarshalWBXML()
		var fe *transport.FieldError
		if assert.ErrorAs(t, err, &fe, name) {
			assert.Equal(t, int64(-1), fe.Offset)
			assert.NotContains(t, err.Error(), "offset")
		}
	}
	many := make([]transport.PolicySetting, transport.MaxPolicySettings+1)
	for i := range many {
		many[i] = transport.PolicySetting{Name: "AllowWiFi", Value: "1"}
	}
	resps := map[string]*transport.ProvisionResponse{
		"negative status":   {Status: -1},
		"policy status 300": {Status: 1, HasPolicy: true, PolicyStatus: 300},
		"long key":          {Status: 1, PolicyKey: strings.Repeat("k", 65)},
		"unknown setting":   {Status: 1, Settings: []transport.PolicySetting{{Name: "AllowTeleportation", Value: "1"}}},
		"foreign setting":   {Status: 1, Settings: []transport.PolicySetting{{Name: "Model", Value: "1"}}},
		"empty path step":   {Status: 1, Settings: []transport.PolicySetting{{Name: "ApprovedApplicationList//Hash", Value: "1"}}},
		"long value":        {Status: 1, Settings: []transport.PolicySetting{{Name: "AllowWiFi", Value: strings.Repeat("1", 1025)}}},
		"too many":          {Status: 1, Settings: many},
		"long 2.5 data":     {Status: 1, Settings: []transport.PolicySetting{{Name: "Data", Value: strings.Repeat("x", transport.MaxPolicyDataLength+1)}}},
		"invalid UTF-8":     {Status: 1, Settings: []transport.PolicySetting{{Name: "AllowWiFi", Value: "\xff"}}},
	}
	for name, resp := range resps {
		_, err := resp.MarshalWBXML()
		var fe *transport.FieldError
		if assert.ErrorAs(t, err, &fe, name) {
			assert.Equal(t, int64(-1), fe.Offset)
		}
	}
}

// provisionSeedBodies are well-formed Provision bodies of every shape the tests
// build, for the truncation test and as fuzz seeds.
func provisionSeedBodies(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, r := range []*transport.ProvisionResponse{
		fullPolicy(),
		{Status: 1, HasPolicy: true, PolicyType: transport.PolicyTypeXML, PolicyStatus: 1, PolicyKey: "1", Settings: []transport.PolicySetting{{Name: "Data", Value: "<wap-provisioningdoc/>"}}},
		{Status: 1, RemoteWipe: true},
		{Status: 1, AccountOnlyRemoteWipe: true},
		{Status: 1, HasPolicy: true, PolicyStatus: 2},
		{Status: 142},
	} {
		b, err := r.MarshalWBXML()
		require.NoError(tb, err)
		out = append(out, b)
	}
	for _, r := range []*transport.ProvisionRequest{
		{PolicyType: transport.PolicyTypeWBXML},
		{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "3942919513", Status: 1},
		{PolicyType: transport.PolicyTypeWBXML, DeviceInformation: []transport.PolicySetting{{Name: "Model", Value: "easkit"}, {Name: "OS", Value: "Linux"}}},
		{RemoteWipeStatus: 1},
		{AccountOnlyRemoteWipeStatus: 2},
		{},
	} {
		b, err := r.MarshalWBXML()
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

func ExampleUnmarshalProvisionResponse() {
	// SOGo 5.8's answer to an initial Provision: Status 1, but Policy/Status 2.
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x0E, 0x45, 0x4B, 0x03, '1', 0x00, 0x01,
		0x46, 0x47, 0x48, 0x03}
	body = append(body, transport.PolicyTypeWBXML...)
	body = append(body, 0x00, 0x01, 0x4B, 0x03, '2', 0x00, 0x01, 0x01, 0x01, 0x01)
	resp, err := transport.UnmarshalProvisionResponse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.PolicyStatus, resp.NoPolicy())

	// A Policy/Status that is not a number is a *FieldError with path and offset.
	body[len(body)-6] = 'x'
	_, err = transport.UnmarshalProvisionResponse(body)
	fmt.Println(err)
	// Output:
	// 1 2 true
	// offset 43: Provision/Policies/Policy/Status: not an unsigned integer (value "x")
}

func ExampleProvisionRequest_MarshalWBXML() {
	// The acknowledgement of a downloaded policy (MS-ASPROV 3.1.5.1.2.1).
	ack := &transport.ProvisionRequest{PolicyType: transport.PolicyTypeWBXML, PolicyKey: "56210", Status: 1}
	b, err := ack.MarshalWBXML()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% X\n", b)
	// Output:
	// 03 01 6A 00 00 0E 45 46 47 48 03 4D 53 2D 45 41 53 2D 50 72 6F 76 69 73 69 6F 6E 69 6E 67 2D 57 42 58 4D 4C 00 01 49 03 35 36 32 31 30 00 01 4B 03 31 00 01 01 01 01
}
