package transport

// Provision command wire types (MS-ASPROV 2.2, 3.1.5.1): the bodies a client sends
// and receives to download and acknowledge the server's security policy, and to
// acknowledge a remote wipe.

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/easkit/foldersync/wbxml"
)

// PolicyTypeWBXML is the PolicyType of protocol 12.0 and later: the policy travels
// as an EASProvisionDoc inside Data (MS-ASPROV 2.2.2.43, 2.2.2.24.1).
const PolicyTypeWBXML = "MS-EAS-Provisioning-WBXML"

// PolicyTypeXML is the PolicyType of protocol 2.5: Data is the text of a
// wap-provisioningdoc (MS-ASPROV 2.2.2.43, 2.2.2.24.2).
const PolicyTypeXML = "MS-WAP-Provisioning-XML"

// Limits on what the Provision decoders accept (and the encoders write).
const (
	// MaxPolicyKeyLength is the longest PolicyKey, in characters (MS-ASPROV 2.2.2.42).
	MaxPolicyKeyLength = 64
	// MaxPolicyTypeLength is the longest PolicyType accepted, in characters. The two
	// values MS-ASPROV 2.2.2.43 defines are 23 and 25 characters long.
	MaxPolicyTypeLength = 64
	// MaxPolicySettings is the most settings (leaf elements of EASProvisionDoc, or
	// children of settings:DeviceInformation/Set) accepted in one body. MS-ASPROV
	// 2.2.2.28 defines about 50, plus the entries of two application lists.
	MaxPolicySettings = 256
	// MaxPolicySettingLength is the longest setting value, in bytes.
	MaxPolicySettingLength = 1024
	// MaxPolicyDataLength is the longest protocol 2.5 Data text, in bytes: a whole
	// wap-provisioningdoc (MS-ASPROV 2.2.2.24.2) kept as one setting, which is
	// commonly longer than MaxPolicySettingLength.
	MaxPolicyDataLength = 64 << 10
	// MaxProvisionBodySize is the largest Provision body accepted, in bytes. A larger
	// body is refused before it is parsed, with a *wbxml.SyntaxError wrapping
	// wbxml.ErrLimit.
	MaxProvisionBodySize = 1 << 20
)

// Provision code-page tags (MS-ASWBXML code page 14) and the Settings tags a
// Provision body borrows (code page 18).
var (
	tagProvision             = wbxml.MustTag("Provision", "Provision")
	tagPolicies              = wbxml.MustTag("Provision", "Policies")
	tagPolicy                = wbxml.MustTag("Provision", "Policy")
	tagPolicyType            = wbxml.MustTag("Provision", "PolicyType")
	tagPolicyKey             = wbxml.MustTag("Provision", "PolicyKey")
	tagPolicyData            = wbxml.MustTag("Provision", "Data")
	tagProvStatus            = wbxml.MustTag("Provision", "Status")
	tagRemoteWipe            = wbxml.MustTag("Provision", "RemoteWipe")
	tagEASProvisionDoc       = wbxml.MustTag("Provision", "EASProvisionDoc")
	tagAccountOnlyRemoteWipe = wbxml.MustTag("Provision", "AccountOnlyRemoteWipe")
	tagDeviceInformation     = wbxml.MustTag("Settings", "DeviceInformation")
	tagSettingsSet           = wbxml.MustTag("Settings", "Set")
	tagSettingsStatus        = wbxml.MustTag("Settings", "Status")
)

// deviceInfoNames are the children of settings:DeviceInformation/Set (MS-ASCMD
// 2.2.3.167), all leaves on the Settings code page.
var deviceInfoNames = map[string]bool{
	"Model": true, "IMEI": true, "FriendlyName": true, "OS": true, "OSLanguage": true,
	"PhoneNumber": true, "UserAgent": true, "EnableOutboundSMS": true, "MobileOperator": true,
}

// ProvisionRequest is the body of a Provision request (MS-ASPROV 2.2.2.44, 3.1.5.1).
// The three shapes a client sends:
//
//   - initial request (3.1.5.1.1): PolicyType only (plus DeviceInformation from
//     protocol 14.1 on);
//   - policy acknowledgement (3.1.5.1.2.1): PolicyType, the temporary PolicyKey of
//     the initial response, and Status;
//   - remote wipe acknowledgement (3.1.5.1.2.2, 3.1.5.1.2.3): RemoteWipeStatus or
//     AccountOnlyRemoteWipeStatus alone.
//
// The zero value encodes an empty <Provision/>, which 3.1.5.1.1 has a client send
// first when a command status asked for a remote wipe.
type ProvisionRequest struct {
	// PolicyType is the policy format asked for (MS-ASPROV 2.2.2.43): PolicyTypeWBXML
	// from protocol 12.0 on, PolicyTypeXML for 2.5. It is required in the initial
	// request and the acknowledgement; when it is empty no Policies element is
	// written, so PolicyKey and Status must be empty too.
	PolicyType string
	// PolicyKey is "" in the initial request and the temporary key from the initial
	// response when acknowledging (MS-ASPROV 2.2.2.42, 3.1.5.1.2.1). At most 64
	// characters.
	PolicyKey string
	// Status is 0 in the initial request (no element) and, when acknowledging, how
	// far the client applied the policy (MS-ASPROV 2.2.2.54.1): 1 applied, 2 partly
	// (at least the PIN), 3 not at all, 4 provisioned by a third party.
	Status int
	// RemoteWipeStatus is 0 when there is no RemoteWipe element, else the result of
	// the remote wipe the server ordered (MS-ASPROV 2.2.2.54.3): 1 success, 2 failure.
	RemoteWipeStatus int
	// AccountOnlyRemoteWipeStatus is RemoteWipeStatus for an account-only remote wipe
	// (MS-ASPROV 2.2.2.1, protocol 16.1): 0 when there is no AccountOnlyRemoteWipe.
	AccountOnlyRemoteWipeStatus int
	// DeviceInformation holds the children of settings:DeviceInformation/Set (MS-ASPROV
	// 2.2.2.53, MS-ASCMD 2.2.3.167) in order, as name/value pairs such as
	// {"Model", "Pixel 7"}: Model, IMEI, FriendlyName, OS, OSLanguage, PhoneNumber,
	// UserAgent, EnableOutboundSMS, MobileOperator, each at most once. From protocol
	// 14.1 on a client sends it in the initial request; nil writes no element.
	DeviceInformation []PolicySetting
}

// PolicySetting is one name/value pair: a leaf child of Data/EASProvisionDoc such
// as {"DevicePasswordEnabled", "1"} (MS-ASPROV 2.2.2.28), or one device property of
// ProvisionRequest.DeviceInformation.
type PolicySetting struct{ Name, Value string }

// ProvisionResponse is the body of a Provision response (MS-ASPROV 2.2.2.44,
// 3.2.5.1). NoPolicy says whether the server has a policy for the device at all.
type ProvisionResponse struct {
	// Status is Provision/Status (MS-ASPROV 2.2.2.54.2): 1 success, 2 protocol error,
	// 3 general server error, or a status common to all commands (MS-ASCMD 2.2.2,
	// 101-184).
	Status int
	// HasPolicy says a Policies/Policy element was present (or is to be written; it
	// is also written when any policy field below is set).
	HasPolicy bool
	// PolicyType is Policy/PolicyType (MS-ASPROV 2.2.2.43); "" when absent, as Horde
	// sends when it has no policy. At most 64 characters.
	PolicyType string
	// PolicyStatus is Policy/Status (MS-ASPROV 2.2.2.54.1): 1 success, 2 no policy for
	// this client, 3 unknown PolicyType, 4 policy data corrupt on the server, 5 the
	// client acknowledged the wrong policy key.
	PolicyStatus int
	// PolicyKey is Policy/PolicyKey (MS-ASPROV 2.2.2.42): the temporary key to
	// acknowledge in the initial response, the final key in the acknowledgement's
	// response. At most 64 characters.
	PolicyKey string
	// Settings are the leaf elements under Data/EASProvisionDoc in document order
	// (MS-ASPROV 2.2.2.24.1, 2.2.2.28). A leaf inside a container is named by its path
	// below EASProvisionDoc: "ApprovedApplicationList/Hash". An empty element is a
	// setting with an empty value (3.2.5.1.1: an unset policy). The text of a 2.5 Data
	// element (2.2.2.24.2) is kept whole as the one setting {"Data", text}.
	Settings []PolicySetting
	// RemoteWipe says a RemoteWipe element was present: the server orders the
	// device to wipe itself (MS-ASPROV 2.2.2.45, 3.1.5.1.2.2).
	RemoteWipe bool
	// AccountOnlyRemoteWipe says an AccountOnlyRemoteWipe element was present: the
	// server orders the client to wipe the account's data (MS-ASPROV 2.2.2.1, 16.1).
	AccountOnlyRemoteWipe bool
	// DeviceInformationStatus is settings:DeviceInformation/settings:Status, the
	// server's answer to the device information of the request (MS-ASPROV 3.2.5.1.1,
	// MS-ASCMD 2.2.3.177.15); 0 when absent.
	DeviceInformationStatus int
}

// NoPolicy reports a response that says the server has no policy for this device:
// Status 1 with Policy/Status 2, or with an empty or missing PolicyType, or with no
// Policy at all. SOGo 5.8 answers Policy/Status 2 and Horde 2.41 the same without a
// PolicyType; a client then goes on without a PolicyKey. A response that orders a
// remote wipe is never a NoPolicy response: the client has to wipe instead.
func (r *ProvisionResponse) NoPolicy() bool {
	if r.Status != 1 || r.RemoteWipe || r.AccountOnlyRemoteWipe {
		return false
	}
	return !r.HasPolicy || r.PolicyStatus == 2 || r.PolicyType == ""
}

// MarshalWBXML encodes the request in the element order of MS-ASPROV: settings:
// DeviceInformation, Policies/Policy (PolicyType, PolicyKey, Status: 2.2.2.41 has
// PolicyKey before Status), RemoteWipe, AccountOnlyRemoteWipe. A request that breaks
// the limits the decoder enforces is refused with a *FieldError (Offset -1).
func (r *ProvisionRequest) MarshalWBXML() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	enc := wbxml.NewEncoder(nil)
	enc.Grow(64 + len(r.PolicyType) + len(r.PolicyKey) + 24*len(r.DeviceInformation))
	enc.StartElement(tagProvision)
	if len(r.DeviceInformation) > 0 {
		enc.StartElement(tagDeviceInformation)
		enc.StartElement(tagSettingsSet)
		for _, s := range r.DeviceInformation {
			t, _ := wbxml.LookupTag("Settings", s.Name) // validate checked the name
			provText(enc, t, s.Value)
		}
		enc.EndElement()
		enc.EndElement()
	}
	if r.PolicyType != "" {
		enc.StartElement(tagPolicies)
		enc.StartElement(tagPolicy)
		provText(enc, tagPolicyType, r.PolicyType)
		if r.PolicyKey != "" {
			provText(enc, tagPolicyKey, r.PolicyKey)
		}
		if r.Status != 0 {
			provText(enc, tagProvStatus, strconv.Itoa(r.Status))
		}
		enc.EndElement()
		enc.EndElement()
	}
	for _, w := range [...]struct {
		tag    wbxml.Tag
		status int
	}{{tagRemoteWipe, r.RemoteWipeStatus}, {tagAccountOnlyRemoteWipe, r.AccountOnlyRemoteWipeStatus}} {
		if w.status != 0 {
			enc.StartElement(w.tag)
			provText(enc, tagProvStatus, strconv.Itoa(w.status))
			enc.EndElement()
		}
	}
	enc.EndElement()
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// MarshalWBXML encodes the response in the element order of the MS-ASPROV response
// schema (6.3): settings:DeviceInformation, Status, Policies/Policy (PolicyType,
// Status, PolicyKey, Data), RemoteWipe, AccountOnlyRemoteWipe. Settings are written
// as an EASProvisionDoc, leaves that share a path prefix grouped under one container;
// a single non-empty {"Data", text} setting is written as the text of Data (2.5). A
// response that breaks the limits the decoder enforces is refused with a *FieldError
// (Offset -1).
func (r *ProvisionResponse) MarshalWBXML() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	size := 64 + len(r.PolicyType) + len(r.PolicyKey)
	for _, s := range r.Settings {
		size += 8 + len(s.Value)
	}
	enc := wbxml.NewEncoder(nil)
	enc.Grow(size)
	enc.StartElement(tagProvision)
	if r.DeviceInformationStatus != 0 {
		enc.StartElement(tagDeviceInformation)
		provText(enc, tagSettingsStatus, strconv.Itoa(r.DeviceInformationStatus))
		enc.EndElement()
	}
	provText(enc, tagProvStatus, strconv.Itoa(r.Status))
	if r.policyPresent() {
		enc.StartElement(tagPolicies)
		enc.StartElement(tagPolicy)
		if r.PolicyType != "" {
			provText(enc, tagPolicyType, r.PolicyType)
		}
		provText(enc, tagProvStatus, strconv.Itoa(r.PolicyStatus))
		if r.PolicyKey != "" {
			provText(enc, tagPolicyKey, r.PolicyKey)
		}
		switch {
		case r.dataIsText():
			provText(enc, tagPolicyData, r.Settings[0].Value)
		case len(r.Settings) > 0:
			enc.StartElement(tagPolicyData)
			enc.StartElement(tagEASProvisionDoc)
			writePolicySettings(enc, r.Settings)
			enc.EndElement()
			enc.EndElement()
		}
		enc.EndElement()
		enc.EndElement()
	}
	if r.RemoteWipe {
		enc.StartElement(tagRemoteWipe)
		enc.EndElement()
	}
	if r.AccountOnlyRemoteWipe {
		enc.StartElement(tagAccountOnlyRemoteWipe)
		enc.EndElement()
	}
	enc.EndElement()
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

func (r *ProvisionResponse) policyPresent() bool {
	return r.HasPolicy || r.PolicyType != "" || r.PolicyKey != "" || r.PolicyStatus != 0 || len(r.Settings) > 0
}

// dataIsText reports whether Data is written as text (the 2.5 form): one non-empty
// setting named "Data". (An empty one is written as an empty <Data/> leaf of
// EASProvisionDoc, which decodes back to the same setting; an empty text would not.)
func (r *ProvisionResponse) dataIsText() bool {
	return len(r.Settings) == 1 && r.Settings[0].Name == "Data" && r.Settings[0].Value != ""
}

// provText writes a leaf element; the Encoder's error is sticky and Close reports it.
func provText(enc *wbxml.Encoder, t wbxml.Tag, s string) {
	enc.StartElement(t)
	enc.TextString(s)
	enc.EndElement()
}

// writePolicySettings writes settings as the children of EASProvisionDoc, opening
// and closing the containers their paths name. Consecutive settings under the same
// container share one element, so decoding gives the same list back.
func writePolicySettings(enc *wbxml.Encoder, settings []PolicySetting) {
	var open []string
	for _, s := range settings {
		segs := strings.Split(s.Name, "/")
		parents, leaf := segs[:len(segs)-1], segs[len(segs)-1]
		k := 0
		for k < len(open) && k < len(parents) && open[k] == parents[k] {
			k++
		}
		for len(open) > k {
			enc.EndElement()
			open = open[:len(open)-1]
		}
		for _, p := range parents[k:] {
			t, _ := wbxml.LookupTag("Provision", p) // validate checked every segment
			enc.StartElement(t)
			open = append(open, p)
		}
		t, _ := wbxml.LookupTag("Provision", leaf)
		provText(enc, t, s.Value)
	}
	for range open {
		enc.EndElement()
	}
}

func provEncodeErr(field, msg string) error { return &FieldError{Field: field, Offset: -1, Msg: msg} }

// validText reports whether s can travel as WBXML inline text: UTF-8 without NUL.
func validText(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) }

// validOpaqueText is validText for an OPAQUE value read where text is expected.
func validOpaqueText(b []byte) bool { return bytes.IndexByte(b, 0) < 0 && utf8.Valid(b) }

func checkStatus(field string, v int) error {
	if v < 0 || v > 255 {
		return provEncodeErr(field, fmt.Sprintf("status %d: an unsignedByte holds 0-255", v))
	}
	return nil
}

func checkProvString(field, s string, maxChars int, section string) error {
	if TooLong(s, maxChars) {
		return provEncodeErr(field, fmt.Sprintf("longer than the %d characters %s", maxChars, section))
	}
	if !validText(s) {
		return provEncodeErr(field, "not UTF-8 text without NUL")
	}
	return nil
}

func (r *ProvisionRequest) validate() error {
	const pol = "Provision/Policies/Policy/"
	if err := checkProvString(pol+"PolicyType", r.PolicyType, MaxPolicyTypeLength, "this package accepts"); err != nil {
		return err
	}
	if err := checkProvString(pol+"PolicyKey", r.PolicyKey, MaxPolicyKeyLength, "MS-ASPROV 2.2.2.42 allows"); err != nil {
		return err
	}
	if r.PolicyType == "" && (r.PolicyKey != "" || r.Status != 0) {
		return provEncodeErr(pol+"PolicyType", "empty: PolicyKey and Status travel in Policies/Policy, which needs a PolicyType (MS-ASPROV 2.2.2.41)")
	}
	for _, c := range [...]struct {
		field string
		v     int
	}{{pol + "Status", r.Status}, {"Provision/RemoteWipe/Status", r.RemoteWipeStatus}, {"Provision/AccountOnlyRemoteWipe/Status", r.AccountOnlyRemoteWipeStatus}} {
		if err := checkStatus(c.field, c.v); err != nil {
			return err
		}
	}
	if len(r.DeviceInformation) > MaxPolicySettings {
		return provEncodeErr("Provision/Settings:DeviceInformation/Settings:Set", fmt.Sprintf("%d properties, more than the %d accepted", len(r.DeviceInformation), MaxPolicySettings))
	}
	seen := make(map[string]bool, len(r.DeviceInformation))
	for _, s := range r.DeviceInformation {
		field := "Provision/Settings:DeviceInformation/Settings:Set/Settings:" + s.Name
		switch {
		case !deviceInfoNames[s.Name]:
			return provEncodeErr(field, "not a device property: MS-ASCMD 2.2.3.167 defines Model, IMEI, FriendlyName, OS, OSLanguage, PhoneNumber, UserAgent, EnableOutboundSMS and MobileOperator")
		case seen[s.Name]:
			return provEncodeErr(field, "appears twice")
		case len(s.Value) > MaxPolicySettingLength:
			return provEncodeErr(field, fmt.Sprintf("value of %d bytes, longer than the %d accepted", len(s.Value), MaxPolicySettingLength))
		case !validText(s.Value):
			return provEncodeErr(field, "not UTF-8 text without NUL")
		}
		seen[s.Name] = true
	}
	return nil
}

func (r *ProvisionResponse) validate() error {
	const pol = "Provision/Policies/Policy/"
	for _, c := range [...]struct {
		field string
		v     int
	}{{"Provision/Status", r.Status}, {pol + "Status", r.PolicyStatus}, {"Provision/Settings:DeviceInformation/Settings:Status", r.DeviceInformationStatus}} {
		if err := checkStatus(c.field, c.v); err != nil {
			return err
		}
	}
	if err := checkProvString(pol+"PolicyType", r.PolicyType, MaxPolicyTypeLength, "this package accepts"); err != nil {
		return err
	}
	if err := checkProvString(pol+"PolicyKey", r.PolicyKey, MaxPolicyKeyLength, "MS-ASPROV 2.2.2.42 allows"); err != nil {
		return err
	}
	if len(r.Settings) > MaxPolicySettings {
		return provEncodeErr(pol+"Data/EASProvisionDoc", fmt.Sprintf("%d settings, more than the %d accepted", len(r.Settings), MaxPolicySettings))
	}
	if r.dataIsText() {
		if len(r.Settings[0].Value) > MaxPolicyDataLength {
			return provEncodeErr(pol+"Data", fmt.Sprintf("%d bytes, longer than the %d accepted", len(r.Settings[0].Value), MaxPolicyDataLength))
		}
		if !validText(r.Settings[0].Value) {
			return provEncodeErr(pol+"Data", "not UTF-8 text without NUL")
		}
		return nil
	}
	for _, s := range r.Settings {
		field := pol + "Data/EASProvisionDoc/" + s.Name
		for _, seg := range strings.Split(s.Name, "/") {
			if _, ok := wbxml.LookupTag("Provision", seg); !ok {
				return provEncodeErr(field, fmt.Sprintf("%q is not a tag of the Provision code page (MS-ASWBXML): a setting is named by its element path below EASProvisionDoc", seg))
			}
		}
		if len(s.Value) > MaxPolicySettingLength {
			return provEncodeErr(field, fmt.Sprintf("value of %d bytes, longer than the %d accepted", len(s.Value), MaxPolicySettingLength))
		}
		if !validText(s.Value) {
			return provEncodeErr(field, "not UTF-8 text without NUL")
		}
	}
	return nil
}

// provisionLimits bound the WBXML decoder: a Provision body is small, so nothing
// in it needs the generous defaults.
var provisionLimits = wbxml.Limits{
	MaxDepth:           16, // Provision/Policies/Policy/Data/EASProvisionDoc/List/Hash is 7
	MaxDocumentSize:    MaxProvisionBodySize,
	MaxStringLength:    MaxPolicyDataLength,
	MaxOpaqueLength:    MaxPolicyDataLength,
	MaxStringTableSize: MaxPolicyDataLength,
}

// UnmarshalProvisionRequest decodes a Provision request body. Elements may come in
// any order; each may appear once. Malformed WBXML is a *wbxml.SyntaxError; WBXML
// that breaks the request schema (MS-ASPROV 6.2) is a *FieldError naming the element
// path and byte offset. A body over MaxProvisionBodySize is refused unread.
func UnmarshalProvisionRequest(b []byte) (*ProvisionRequest, error) {
	p := newProvParser(b)
	if err := p.root(); err != nil {
		return nil, err
	}
	req := &ProvisionRequest{}
	_, err := p.eachOnce([]wbxml.Tag{tagDeviceInformation, tagPolicies, tagRemoteWipe, tagAccountOnlyRemoteWipe},
		"a request holds settings:DeviceInformation, Policies, RemoteWipe and AccountOnlyRemoteWipe",
		func(i int) (err error) {
			switch i {
			case 0:
				req.DeviceInformation, err = p.deviceInformation()
			case 1:
				err = p.requestPolicies(req)
			case 2:
				req.RemoteWipeStatus, err = p.wipeAck()
			case 3:
				req.AccountOnlyRemoteWipeStatus, err = p.wipeAck()
			}
			return err
		})
	if err != nil {
		return nil, err
	}
	return req, p.end()
}

// UnmarshalProvisionResponse decodes a Provision response body. Elements may come
// in any order; each may appear once. Malformed WBXML is a *wbxml.SyntaxError; WBXML
// that breaks the response schema (MS-ASPROV 6.3) is a *FieldError naming the element
// path and byte offset. A body over MaxProvisionBodySize is refused unread.
func UnmarshalProvisionResponse(b []byte) (*ProvisionResponse, error) {
	p := newProvParser(b)
	if err := p.root(); err != nil {
		return nil, err
	}
	resp := &ProvisionResponse{}
	seen, err := p.eachOnce([]wbxml.Tag{tagProvStatus, tagDeviceInformation, tagPolicies, tagRemoteWipe, tagAccountOnlyRemoteWipe},
		"a response holds settings:DeviceInformation, Status, Policies, RemoteWipe and AccountOnlyRemoteWipe",
		func(i int) (err error) {
			switch i {
			case 0:
				resp.Status, err = p.status(false)
			case 1:
				resp.DeviceInformationStatus, err = p.deviceInformationStatus()
			case 2:
				err = p.responsePolicies(resp)
			case 3:
				resp.RemoteWipe = true
				err = p.wipeOrder()
			case 4:
				resp.AccountOnlyRemoteWipe = true
				err = p.wipeOrder()
			}
			return err
		})
	if err != nil {
		return nil, err
	}
	if !seen[0] {
		return nil, &FieldError{Field: "Provision/Status", Offset: p.tok.Offset, Msg: "missing: every Provision response carries a Status (MS-ASPROV 2.2.2.54.2)"}
	}
	return resp, p.end()
}

// provParser walks a Provision body token by token, keeping the path of open
// elements for error messages. Bodies are small, so clarity wins over speed here.
type provParser struct {
	d    *wbxml.Decoder
	tok  wbxml.Token
	path []string // names of the open elements, "Provision" first
	buf  []byte   // text of the leaf being read
}

func newProvParser(b []byte) *provParser {
	d := wbxml.NewDecoderBytes(b)
	d.Limits = provisionLimits
	return &provParser{d: d, path: make([]string, 0, 8)}
}

// provElemName names an element in a path: Provision tags by name, others with
// their namespace ("Settings:Set", "AirSync:Status"), so a foreign Status is never
// mistaken for Provision's.
func provElemName(t wbxml.Tag) string {
	if t.Page == tagProvision.Page {
		return t.Name()
	}
	return t.Namespace() + ":" + t.Name()
}

func (p *provParser) here() string { return strings.Join(p.path, "/") }

// at is the path of the element in p.tok, a child of the innermost open element.
func (p *provParser) at() string { return p.here() + "/" + provElemName(p.tok.Tag) }

func (p *provParser) errAt(off int64, field, value, msg string) error {
	return &FieldError{Field: field, Offset: off, Value: value, Msg: msg}
}

func (p *provParser) unexpected(hint string) error {
	return p.errAt(p.tok.Offset, p.at(), "", fmt.Sprintf("unexpected element <%s> in <%s>: %s", p.tok.Tag, p.here(), hint))
}

// eachOnce reads the children of the open element, each of one of tags and at
// most once (MS-ASPROV 6.2 and 6.3 allow no repeats): read(i) reads the child whose
// tag is tags[i]. A child of another tag is unexpected, hint saying what the
// element holds. It returns which tags were seen.
func (p *provParser) eachOnce(tags []wbxml.Tag, hint string, read func(i int) error) ([]bool, error) {
	seen := make([]bool, len(tags))
	for {
		if err := p.child(); err != nil {
			return nil, err
		}
		if p.tok.Kind == wbxml.EndElement {
			return seen, nil
		}
		i := slices.Index(tags, p.tok.Tag)
		if i < 0 {
			return nil, p.unexpected(hint)
		}
		if seen[i] {
			return nil, p.twice()
		}
		seen[i] = true
		if err := read(i); err != nil {
			return nil, err
		}
	}
}

func (p *provParser) twice() error {
	return p.errAt(p.tok.Offset, p.at(), "", provElemName(p.tok.Tag)+" appears twice")
}

// read reads the next token; the end of input is an error while the root is open.
func (p *provParser) read() error { return readOpen(p.d, &p.tok) }

func (p *provParser) root() error {
	if err := p.read(); err != nil {
		return err
	}
	if p.tok.Kind != wbxml.StartElement || p.tok.Tag != tagProvision {
		return p.errAt(p.tok.Offset, "Provision", "", fmt.Sprintf("root element is <%s>, want <Provision:Provision>: this is not a Provision body", p.tok.Tag))
	}
	p.path = append(p.path, "Provision")
	return nil
}

// end checks that nothing follows the root element.
func (p *provParser) end() error { return readEnd(p.d, &p.tok, "Provision") }

// isLayout reports white space between elements, as some encoders keep.
func isLayout(b []byte) bool { return len(bytes.Trim(b, " \t\r\n")) == 0 }

// child reads up to the next child start tag of the innermost open element, or its
// end tag (which closes it in p.path). Text in a container is an error.
func (p *provParser) child() error {
	for {
		if err := p.read(); err != nil {
			return err
		}
		switch p.tok.Kind {
		case wbxml.StartElement:
			return nil
		case wbxml.EndElement:
			p.path = p.path[:len(p.path)-1]
			return nil
		}
		if p.tok.Kind == wbxml.Text && isLayout(p.tok.Data) {
			continue
		}
		return p.errAt(p.tok.Offset, p.here(), string(truncate(p.tok.Data)), fmt.Sprintf("<%s> holds elements, not text", p.path[len(p.path)-1]))
	}
}

// open enters the container whose start tag is in p.tok.
func (p *provParser) open() { p.path = append(p.path, provElemName(p.tok.Tag)) }

// leaf reads the text of the element whose start tag is in p.tok, through its end
// tag, refusing more than maxBytes.
func (p *provParser) leaf(maxBytes int) (string, error) {
	start := p.tok
	field := p.at()
	if !start.Content {
		return "", p.read() // the EndElement the decoder supplies
	}
	p.buf = p.buf[:0]
	for {
		if err := p.read(); err != nil {
			return "", err
		}
		switch p.tok.Kind {
		case wbxml.EndElement:
			return string(p.buf), nil
		case wbxml.StartElement:
			return "", p.errAt(p.tok.Offset, field+"/"+provElemName(p.tok.Tag), "", fmt.Sprintf("unexpected element <%s>: <%s> holds text only", p.tok.Tag, provElemName(start.Tag)))
		case wbxml.Opaque:
			if !validOpaqueText(p.tok.Data) {
				return "", p.errAt(p.tok.Offset, field, "", "opaque value is not UTF-8 text without NUL")
			}
		}
		if len(p.buf)+len(p.tok.Data) > maxBytes {
			return "", p.errAt(start.Offset, field, string(truncate(append(p.buf, p.tok.Data...))), fmt.Sprintf("longer than the %d bytes accepted", maxBytes))
		}
		p.buf = append(p.buf, p.tok.Data...)
	}
}

// shortString reads a leaf of at most maxChars characters (PolicyKey, PolicyType).
func (p *provParser) shortString(maxChars int, section string) (string, error) {
	off, field := p.tok.Offset, p.at()
	s, err := p.leaf(4 * maxChars) // UTF-8 takes at most 4 bytes a character
	if err != nil {
		return "", err
	}
	if TooLong(s, maxChars) {
		return "", p.errAt(off, field, string(truncate([]byte(s))), fmt.Sprintf("%d characters, longer than the %d %s", utf8.RuneCountInString(s), maxChars, section))
	}
	return s, nil
}

// status reads a Status leaf: an unsignedByte (MS-ASDTYPE 2.8). Where 0 stands for
// "no element" in the Go value, an explicit 0 is refused (nonZero).
func (p *provParser) status(nonZero bool) (int, error) {
	off, field := p.tok.Offset, p.at()
	s, err := p.leaf(16)
	if err != nil {
		return 0, err
	}
	n, ok := parseUint([]byte(s))
	switch {
	case !ok:
		return 0, p.errAt(off, field, s, "not an unsigned integer")
	case n > 255:
		return 0, p.errAt(off, field, s, "above 255: a status is an unsignedByte (MS-ASDTYPE 2.8)")
	case n == 0 && nonZero:
		return 0, p.errAt(off, field, s, "0 is not a status MS-ASPROV defines")
	}
	return n, nil
}

// missing reports a required child absent from the element that just ended (p.tok
// is its end tag; the path still names the parent).
func (p *provParser) missing(parentPath, name, why string) error {
	return p.errAt(p.tok.Offset, parentPath+"/"+name, "", "missing: "+why)
}

// deviceInformation reads a request's settings:DeviceInformation (MS-ASPROV
// 2.2.2.53): one Set with device properties.
func (p *provParser) deviceInformation() ([]PolicySetting, error) {
	p.open()
	where := p.here()
	var out []PolicySetting
	seen, err := p.eachOnce([]wbxml.Tag{tagSettingsSet}, "DeviceInformation holds Set (MS-ASCMD 2.2.3.45)", func(int) error {
		setOff := p.tok.Offset
		p.open()
		for {
			if err := p.child(); err != nil {
				return err
			}
			if p.tok.Kind == wbxml.EndElement {
				break
			}
			name := p.tok.Tag.Name()
			if p.tok.Tag.Page != tagSettingsSet.Page || !deviceInfoNames[name] {
				return p.unexpected("Set holds Model, IMEI, FriendlyName, OS, OSLanguage, PhoneNumber, UserAgent, EnableOutboundSMS and MobileOperator (MS-ASCMD 2.2.3.167)")
			}
			for _, s := range out {
				if s.Name == name {
					return p.twice()
				}
			}
			v, err := p.leaf(MaxPolicySettingLength)
			if err != nil {
				return err
			}
			out = append(out, PolicySetting{Name: name, Value: v})
		}
		if len(out) == 0 {
			return p.errAt(setOff, where+"/Settings:Set", "", "empty: Set carries the device's properties (MS-ASPROV 2.2.2.53)")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !seen[0] {
		return nil, p.missing(where, "Settings:Set", "DeviceInformation carries a Set (MS-ASPROV 2.2.2.53)")
	}
	return out, nil
}

// deviceInformationStatus reads a response's settings:DeviceInformation: one
// Status. sync*gw puts a Provision:Status there instead of settings:Status; both
// are read.
func (p *provParser) deviceInformationStatus() (int, error) {
	return p.onlyStatus(func(t wbxml.Tag) bool { return t == tagSettingsStatus || t == tagProvStatus },
		"in a response, DeviceInformation holds Status (MS-ASCMD 2.2.3.45)",
		"Settings:Status", "DeviceInformation in a response carries a Status (MS-ASCMD 2.2.3.45)")
}

// wipeAck reads a request's RemoteWipe or AccountOnlyRemoteWipe: one Status
// (MS-ASPROV 2.2.2.45, 2.2.2.1, 2.2.2.54.3).
func (p *provParser) wipeAck() (int, error) {
	return p.onlyStatus(func(t wbxml.Tag) bool { return t == tagProvStatus },
		"in a request it holds Status (MS-ASPROV 2.2.2.54.3)",
		"Status", "a wipe acknowledgement carries the wipe's Status (MS-ASPROV 2.2.2.54.3)")
}

// onlyStatus reads an element whose one child is a Status (isStatus says which
// tags count), refusing anything else (hint), a second Status, or none (missing,
// why).
func (p *provParser) onlyStatus(isStatus func(wbxml.Tag) bool, hint, missing, why string) (int, error) {
	p.open()
	where := p.here()
	v := 0
	for {
		if err := p.child(); err != nil {
			return 0, err
		}
		if p.tok.Kind == wbxml.EndElement {
			break
		}
		if !isStatus(p.tok.Tag) {
			return 0, p.unexpected(hint)
		}
		if v != 0 {
			return 0, p.twice()
		}
		var err error
		if v, err = p.status(true); err != nil {
			return 0, err
		}
	}
	if v == 0 {
		return 0, p.missing(where, missing, why)
	}
	return v, nil
}

// wipeOrder reads a response's RemoteWipe or AccountOnlyRemoteWipe, which has no
// children (MS-ASPROV 2.2.2.45, 2.2.2.1).
func (p *provParser) wipeOrder() error {
	p.open()
	if err := p.child(); err != nil {
		return err
	}
	if p.tok.Kind == wbxml.StartElement {
		return p.unexpected("a server's wipe directive has no children (MS-ASPROV 2.2.2.45)")
	}
	return nil
}

// policies reads Policies, which holds one Policy, calling policy for it.
func (p *provParser) policies(policy func() error) error {
	p.open()
	where := p.here()
	seen, err := p.eachOnce([]wbxml.Tag{tagPolicy}, "Policies holds Policy (MS-ASPROV 2.2.2.40)", func(int) error {
		p.open()
		return policy()
	})
	if err != nil {
		return err
	}
	if !seen[0] {
		return p.missing(where, "Policy", "Policies holds a Policy (MS-ASPROV 2.2.2.40)")
	}
	return nil
}

func (p *provParser) requestPolicies(req *ProvisionRequest) error {
	return p.policies(func() error {
		where := p.here()
		seen, err := p.eachOnce([]wbxml.Tag{tagPolicyType, tagPolicyKey, tagProvStatus},
			"in a request, Policy holds PolicyType, PolicyKey and Status (MS-ASPROV 2.2.2.41)",
			func(i int) (err error) {
				off, field := p.tok.Offset, p.at()
				switch i {
				case 0:
					if req.PolicyType, err = p.shortString(MaxPolicyTypeLength, "this package accepts"); err == nil && req.PolicyType == "" {
						err = p.errAt(off, field, "", "empty: the client names the policy format it wants (MS-ASPROV 2.2.2.43)")
					}
				case 1:
					req.PolicyKey, err = p.shortString(MaxPolicyKeyLength, "MS-ASPROV 2.2.2.42 allows")
				case 2:
					req.Status, err = p.status(true)
				}
				return err
			})
		if err != nil {
			return err
		}
		if !seen[0] {
			return p.missing(where, "PolicyType", "a request's Policy carries a PolicyType (MS-ASPROV 2.2.2.41)")
		}
		return nil
	})
}

func (p *provParser) responsePolicies(resp *ProvisionResponse) error {
	return p.policies(func() error {
		resp.HasPolicy = true
		where := p.here()
		seen, err := p.eachOnce([]wbxml.Tag{tagPolicyType, tagProvStatus, tagPolicyKey, tagPolicyData},
			"in a response, Policy holds PolicyType, Status, PolicyKey and Data (MS-ASPROV 2.2.2.41)",
			func(i int) (err error) {
				switch i {
				case 0:
					resp.PolicyType, err = p.shortString(MaxPolicyTypeLength, "this package accepts")
				case 1:
					resp.PolicyStatus, err = p.status(false)
				case 2:
					resp.PolicyKey, err = p.shortString(MaxPolicyKeyLength, "MS-ASPROV 2.2.2.42 allows")
				case 3:
					resp.Settings, err = p.data()
				}
				return err
			})
		if err != nil {
			return err
		}
		if !seen[1] {
			return p.missing(where, "Status", "a response's Policy carries a Status (MS-ASPROV 2.2.2.54.1)")
		}
		return nil
	})
}

// data reads Data: either text (protocol 2.5, MS-ASPROV 2.2.2.24.2), kept as the one
// setting {"Data", text}, or one EASProvisionDoc (2.2.2.24.1) whose leaves become
// the settings.
func (p *provParser) data() ([]PolicySetting, error) {
	start := p.tok
	field := p.at()
	if !start.Content {
		return nil, p.read()
	}
	p.open()
	var text []byte
	var out []PolicySetting
	sawDoc := false
	for {
		if err := p.read(); err != nil {
			return nil, err
		}
		switch p.tok.Kind {
		case wbxml.EndElement:
			p.path = p.path[:len(p.path)-1]
			if !sawDoc && len(text) > 0 {
				out = []PolicySetting{{Name: "Data", Value: string(text)}}
			}
			return out, nil
		case wbxml.StartElement:
			if !isLayout(text) {
				return nil, p.errAt(p.tok.Offset, field, string(truncate(text)), "<Data> holds either text (2.5) or an EASProvisionDoc, not both")
			}
			if p.tok.Tag != tagEASProvisionDoc {
				return nil, p.unexpected("Data holds EASProvisionDoc (MS-ASPROV 2.2.2.24.1)")
			}
			if sawDoc {
				return nil, p.twice()
			}
			sawDoc, text = true, nil
			var err error
			if out, err = p.provisionDoc(); err != nil {
				return nil, err
			}
		case wbxml.Text, wbxml.Opaque:
			if sawDoc {
				if p.tok.Kind == wbxml.Text && isLayout(p.tok.Data) {
					continue
				}
				return nil, p.errAt(p.tok.Offset, field, string(truncate(p.tok.Data)), "<Data> holds either text (2.5) or an EASProvisionDoc, not both")
			}
			if p.tok.Kind == wbxml.Opaque && !validOpaqueText(p.tok.Data) {
				return nil, p.errAt(p.tok.Offset, field, "", "opaque value is not UTF-8 text without NUL")
			}
			if len(text)+len(p.tok.Data) > MaxPolicyDataLength {
				return nil, p.errAt(start.Offset, field, "", fmt.Sprintf("longer than the %d bytes accepted", MaxPolicyDataLength))
			}
			text = append(text, p.tok.Data...)
		}
	}
}

// provisionDoc reads EASProvisionDoc: any Provision-page elements, leaves and
// containers, each leaf a setting.
func (p *provParser) provisionDoc() ([]PolicySetting, error) {
	p.open()
	var out []PolicySetting
	for {
		if err := p.child(); err != nil {
			return nil, err
		}
		if p.tok.Kind == wbxml.EndElement {
			return out, nil
		}
		if err := p.setting("", &out); err != nil {
			return nil, err
		}
	}
}

// setting reads the element in p.tok, inside EASProvisionDoc, into out: a leaf as
// one setting named prefix/Name, a container as the settings of its leaves.
func (p *provParser) setting(prefix string, out *[]PolicySetting) error {
	start := p.tok
	if start.Tag.Page != tagProvision.Page {
		return p.unexpected("EASProvisionDoc holds Provision elements (MS-ASPROV 2.2.2.28)")
	}
	name := start.Tag.Name()
	if prefix != "" {
		name = prefix + "/" + name
	}
	field := p.at()
	add := func(v string) error {
		if len(*out) >= MaxPolicySettings {
			return p.errAt(start.Offset, field, "", fmt.Sprintf("more than the %d settings accepted", MaxPolicySettings))
		}
		*out = append(*out, PolicySetting{Name: name, Value: v})
		return nil
	}
	if !start.Content {
		if err := add(""); err != nil {
			return err
		}
		return p.read()
	}
	p.open()
	p.buf = p.buf[:0]
	container := false
	for {
		if err := p.read(); err != nil {
			return err
		}
		switch p.tok.Kind {
		case wbxml.EndElement:
			p.path = p.path[:len(p.path)-1]
			if container {
				return nil
			}
			return add(string(p.buf))
		case wbxml.StartElement:
			if !container && !isLayout(p.buf) {
				return p.errAt(p.tok.Offset, field, string(truncate(p.buf)), fmt.Sprintf("<%s> holds either text or elements, not both", start.Tag.Name()))
			}
			container = true
			if err := p.setting(name, out); err != nil {
				return err
			}
		default: // Text, Opaque
			if container {
				if p.tok.Kind == wbxml.Text && isLayout(p.tok.Data) {
					continue
				}
				return p.errAt(p.tok.Offset, field, string(truncate(p.tok.Data)), fmt.Sprintf("<%s> holds either text or elements, not both", start.Tag.Name()))
			}
			if p.tok.Kind == wbxml.Opaque && !validOpaqueText(p.tok.Data) {
				return p.errAt(p.tok.Offset, field, "", "opaque value is not UTF-8 text without NUL")
			}
			if len(p.buf)+len(p.tok.Data) > MaxPolicySettingLength {
				return p.errAt(start.Offset, field, string(truncate(append(p.buf, p.tok.Data...))), fmt.Sprintf("value longer than the %d bytes accepted", MaxPolicySettingLength))
			}
			p.buf = append(p.buf, p.tok.Data...)
		}
	}
}
