// Package ashttp is the MS-ASHTTP request line and the response headers that
// matter for recovery, shared by the client (transport/httpeas) and the simulated
// server (transport/sim): the plain and base64 query forms (MS-ASHTTP 2.2.1.1.1),
// protocol versions and their negotiation (2.2.1.1.2.6, 2.2.4.1.2), Retry-After,
// and the rules for following a 451 redirect (3.1.5.2.2).
//
// It does no I/O: every function is a pure encoding, parse or check, so both sides
// of the wire agree on one implementation and the fuzz targets reach all of it.
package ashttp

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Command codes of the base64 query's Command code field (MS-ASHTTP 2.2.1.1.1.1.2).
// Only the commands this library sends are named.
const (
	CmdFolderSync byte = 9
	CmdProvision  byte = 20
)

var commandNames = map[byte]string{
	0: "Sync", 1: "SendMail", 2: "SmartForward", 3: "SmartReply", 4: "GetAttachment",
	9: "FolderSync", 10: "FolderCreate", 11: "FolderDelete", 12: "FolderUpdate", 13: "MoveItems",
	14: "GetItemEstimate", 15: "MeetingResponse", 16: "Search", 17: "Settings", 18: "Ping",
	19: "ItemOperations", 20: "Provision", 21: "ResolveRecipients", 22: "ValidateCert",
}

// CommandName returns the command a code names ("FolderSync" for 9), or "" for a
// code MS-ASHTTP 2.2.1.1.1.1.2 does not define.
func CommandName(code byte) string { return commandNames[code] }

// CommandCode returns the code of a command name, and false for an unknown name.
func CommandCode(name string) (byte, bool) {
	for c, n := range commandNames {
		if n == name {
			return c, true
		}
	}
	return 0, false
}

// Command parameter tags of the base64 query (MS-ASHTTP 2.2.1.1.1.1.3). Tags 2 and
// 5 are not defined.
const (
	ParamAttachmentName byte = 0
	ParamCollectionID   byte = 1
	ParamItemID         byte = 3
	ParamLongID         byte = 4
	ParamOccurrence     byte = 6
	ParamOptions        byte = 7
	ParamUser           byte = 8
)

var paramNames = map[byte]string{
	ParamAttachmentName: "AttachmentName", ParamCollectionID: "CollectionId", ParamItemID: "ItemId",
	ParamLongID: "LongId", ParamOccurrence: "Occurrence", ParamOptions: "Options", ParamUser: "User",
}

// DefaultLocale is en-US (0x0409), the Locale field's usual value.
const DefaultLocale uint16 = 0x0409

// Query is what a request line says besides the path: the command, who sends it,
// and (in the base64 form) the protocol version and policy key that otherwise travel
// as the MS-ASProtocolVersion and X-MS-PolicyKey headers.
type Query struct {
	// Cmd is the command name, e.g. "FolderSync".
	Cmd string
	// User is the user's logon name (plain form: User=; base64 form: the User
	// parameter, tag 8).
	User string
	// DeviceID identifies the device (MS-ASHTTP 2.2.1.1.1.2.3): up to 32 alphanumeric
	// characters in the plain form; at most 255 bytes in the base64 form.
	DeviceID string
	// DeviceType is the device's model family (2.2.1.1.1.2.4), up to 32 characters.
	DeviceType string
	// Version is the protocol version, e.g. "14.1": base64 form only (the plain form
	// sends MS-ASProtocolVersion instead).
	Version string
	// PolicyKey is the client's policy key (base64 form only; the plain form sends
	// X-MS-PolicyKey). "" or "0" means none.
	PolicyKey string
	// Locale is the base64 form's locale (0 means DefaultLocale).
	Locale uint16
	// Params are other command parameters (base64 tag -> value; plain name -> value),
	// kept so that a server sees everything a client sent. FolderSync has none.
	Params map[string]string
}

// QueryError reports a request line that cannot be encoded or parsed: which field,
// at which byte offset of the decoded base64 sequence (-1 for the plain form or an
// encoding error), and what is wrong.
type QueryError struct {
	Field  string
	Offset int
	Msg    string
}

func (e *QueryError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("ashttp: query field %s at byte %d: %s", e.Field, e.Offset, e.Msg)
	}
	return fmt.Sprintf("ashttp: query field %s: %s", e.Field, e.Msg)
}

func queryErr(field string, off int, format string, args ...any) error {
	return &QueryError{Field: field, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// maxDeviceIDPlain is the longest DeviceId of the plain form (MS-ASHTTP
// 2.2.1.1.1.2.3: "up to 32 characters"); maxField is the most one length byte of the
// base64 form can say.
const (
	maxDeviceIDPlain = 32
	maxDeviceType    = 32
	maxField         = 255
)

// EncodePlain returns the plain text query value (MS-ASHTTP 2.2.1.1.1.2):
// Cmd=..&User=..&DeviceId=..&DeviceType=.. followed by any Params, each
// percent-encoded, in a fixed order.
func EncodePlain(q Query) (string, error) {
	if err := checkCommon(q, maxDeviceIDPlain); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("Cmd=" + url.QueryEscape(q.Cmd))
	b.WriteString("&User=" + url.QueryEscape(q.User))
	b.WriteString("&DeviceId=" + url.QueryEscape(q.DeviceID))
	b.WriteString("&DeviceType=" + url.QueryEscape(q.DeviceType))
	for _, name := range sortedKeys(q.Params) {
		b.WriteString("&" + url.QueryEscape(name) + "=" + url.QueryEscape(q.Params[name]))
	}
	return b.String(), nil
}

func checkCommon(q Query, maxDeviceID int) error {
	switch {
	case q.Cmd == "":
		return queryErr("Cmd", -1, "empty: name the command (e.g. FolderSync)")
	case q.DeviceID == "":
		return queryErr("DeviceId", -1, "empty: every request must identify the device (MS-ASHTTP 2.2.1.1.1.2.3)")
	case len(q.DeviceID) > maxDeviceID:
		return queryErr("DeviceId", -1, "%d bytes, more than the %d allowed", len(q.DeviceID), maxDeviceID)
	case q.DeviceType == "":
		return queryErr("DeviceType", -1, "empty: every request must name the device type (MS-ASHTTP 2.2.1.1.1.2.4)")
	case len(q.DeviceType) > maxField:
		return queryErr("DeviceType", -1, "%d bytes, more than the %d allowed", len(q.DeviceType), maxField)
	}
	if _, ok := CommandCode(q.Cmd); !ok {
		return queryErr("Cmd", -1, "%q is not an ActiveSync command (MS-ASHTTP 2.2.1.1.1.1.2)", q.Cmd)
	}
	return nil
}

// EncodeBase64 returns the base64-encoded query value (MS-ASHTTP 2.2.1.1.1.1):
// protocol version byte, command code, locale (little-endian), device ID, policy
// key (4 bytes little-endian, or none), device type and the command parameters,
// then standard base64 with its '=' padding. The padding is left as is: SOGo 5.8
// answers HTTP 500 to "%3D" and 501 to a value without padding, and '=' is legal in
// a query (RFC 3986 3.4).
//
// The base64 form exists from protocol 12.1 on; Version must be 12.1 or later.
func EncodeBase64(q Query) (string, error) {
	b, err := AppendBase64Bytes(nil, q)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// AppendBase64Bytes appends the byte sequence of the base64 query (before base64).
func AppendBase64Bytes(dst []byte, q Query) ([]byte, error) {
	if err := checkCommon(q, maxField); err != nil {
		return nil, err
	}
	v, err := VersionByte(q.Version)
	if err != nil {
		return nil, err
	}
	if v < 121 {
		return nil, queryErr("Protocol version", -1, "the base64 query needs protocol 12.1 or later (MS-ASHTTP 2.2.1.1.1.1), not %s: use the plain query form", q.Version)
	}
	cmd, _ := CommandCode(q.Cmd)
	locale := q.Locale
	if locale == 0 {
		locale = DefaultLocale
	}
	dst = append(dst, v, cmd)
	dst = binary.LittleEndian.AppendUint16(dst, locale)
	dst = append(dst, byte(len(q.DeviceID)))
	dst = append(dst, q.DeviceID...)
	if q.PolicyKey == "" || q.PolicyKey == "0" {
		dst = append(dst, 0)
	} else {
		k, err := strconv.ParseUint(q.PolicyKey, 10, 32)
		if err != nil {
			// MS-ASPROV 2.2.2.42: the key SHOULD be a 32-bit unsigned integer; the
			// base64 form has room for nothing else.
			return nil, queryErr("Policy key", -1, "%q is not a 32-bit unsigned integer, which the base64 form requires: use the plain query form for this server", q.PolicyKey)
		}
		dst = append(dst, 4)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(k))
	}
	dst = append(dst, byte(len(q.DeviceType)))
	dst = append(dst, q.DeviceType...)
	if q.User != "" {
		if dst, err = appendParam(dst, "User", ParamUser, q.User); err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(q.Params) {
		tag, ok := paramTag(name)
		if !ok {
			return nil, queryErr(name, -1, "not a command parameter of the base64 form (MS-ASHTTP 2.2.1.1.1.1.3)")
		}
		if dst, err = appendParam(dst, name, tag, q.Params[name]); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendParam(dst []byte, name string, tag byte, value string) ([]byte, error) {
	if len(value) > maxField {
		return nil, queryErr(name, -1, "%d bytes, more than the %d a parameter can hold", len(value), maxField)
	}
	dst = append(dst, tag, byte(len(value)))
	return append(dst, value...), nil
}

func paramTag(name string) (byte, bool) {
	for t, n := range paramNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}

// ParseBase64 decodes a base64-encoded query value: the inverse of EncodeBase64.
// It accepts the value with or without padding and with its '=' percent-encoded
// (the caller passes the raw query). Errors are *QueryError naming the field and
// the byte offset in the decoded sequence.
func ParseBase64(raw string) (Query, error) {
	s, err := url.QueryUnescape(raw)
	if err != nil {
		return Query{}, queryErr("query", -1, "not a valid percent-encoded value: %v", err)
	}
	s = strings.TrimRight(s, "=")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return Query{}, queryErr("query", -1, "not base64: %v", err)
	}
	return ParseBase64Bytes(b)
}

// ParseBase64Bytes parses the byte sequence of a base64 query (after base64).
func ParseBase64Bytes(b []byte) (Query, error) {
	var q Query
	p := 0
	need := func(field string, n int) error {
		if len(b)-p < n {
			return queryErr(field, p, "the sequence ends after %d bytes; %d more needed", len(b), n-(len(b)-p))
		}
		return nil
	}
	if err := need("Protocol version", 4); err != nil {
		return q, err
	}
	ver, ok := versionFromByte(b[0])
	if !ok || b[0] < 121 {
		return q, queryErr("Protocol version", 0, "%d is not a protocol version (MS-ASHTTP 2.2.1.1.1.1: 121, 140, 141, 160 or 161)", b[0])
	}
	q.Version = ver
	if q.Cmd = CommandName(b[1]); q.Cmd == "" {
		return q, queryErr("Command code", 1, "%d is not a command code (MS-ASHTTP 2.2.1.1.1.1.2)", b[1])
	}
	q.Locale = binary.LittleEndian.Uint16(b[2:4])
	p = 4
	str := func(field string) (string, error) {
		if err := need(field+" length", 1); err != nil {
			return "", err
		}
		n := int(b[p])
		p++
		if err := need(field, n); err != nil {
			return "", err
		}
		s := string(b[p : p+n])
		p += n
		return s, nil
	}
	var err error
	if q.DeviceID, err = str("Device ID"); err != nil {
		return q, err
	}
	if q.DeviceID == "" {
		return q, queryErr("Device ID", p-1, "empty: every request must identify the device")
	}
	if err := need("Policy key length", 1); err != nil {
		return q, err
	}
	switch n := b[p]; n {
	case 0:
		p++
	case 4:
		p++
		if err := need("Policy key", 4); err != nil {
			return q, err
		}
		if k := binary.LittleEndian.Uint32(b[p:]); k != 0 {
			q.PolicyKey = strconv.FormatUint(uint64(k), 10)
		}
		p += 4
	default:
		return q, queryErr("Policy key length", p, "%d; it must be 0 or 4", n)
	}
	if q.DeviceType, err = str("Device type"); err != nil {
		return q, err
	}
	var seen [256]bool
	for p < len(b) {
		at := p
		tag := b[p]
		name, ok := paramNames[tag]
		if !ok {
			return q, queryErr("Command parameter", at, "tag %d is not defined (MS-ASHTTP 2.2.1.1.1.1.3)", tag)
		}
		if seen[tag] {
			return q, queryErr(name, at, "given twice")
		}
		seen[tag] = true
		p++
		v, err := str(name)
		if err != nil {
			return q, err
		}
		if tag == ParamUser {
			q.User = v
			continue
		}
		if q.Params == nil {
			q.Params = map[string]string{}
		}
		q.Params[name] = v
	}
	return q, nil
}

// ParseRequestQuery reads the query of a request URI in either form: plain when it
// has "Cmd=", base64 otherwise. For the plain form the version and policy key come
// from the headers, which the caller passes (MS-ASProtocolVersion, X-MS-PolicyKey).
func ParseRequestQuery(rawQuery, versionHeader, policyKeyHeader string) (q Query, base64Form bool, err error) {
	if rawQuery == "" {
		return q, false, queryErr("query", -1, "the request URI has no query: it must name the command (MS-ASHTTP 2.2.1.1.1)")
	}
	if !strings.Contains(rawQuery, "Cmd=") {
		q, err = ParseBase64(rawQuery)
		return q, true, err
	}
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return q, false, queryErr("query", -1, "not a valid query: %v", err)
	}
	q = Query{Cmd: v.Get("Cmd"), User: v.Get("User"), DeviceID: v.Get("DeviceId"), DeviceType: v.Get("DeviceType"),
		Version: versionHeader, PolicyKey: policyKeyHeader}
	for name, vals := range v {
		switch name {
		case "Cmd", "User", "DeviceId", "DeviceType":
		default:
			if q.Params == nil {
				q.Params = map[string]string{}
			}
			q.Params[name] = vals[0]
		}
	}
	if err := checkCommon(q, maxDeviceIDPlain); err != nil {
		return q, false, err
	}
	return q, false, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
