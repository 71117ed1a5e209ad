package ashttp

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example of MS-ASHTTP 2.2.1.1.1.1: a 14.0 Sync from device v140Device of type
// SmartPhone, locale 0x0409, no policy key.
func TestParseBase64SpecExample(t *testing.T) {
	q, err := ParseBase64("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l")
	require.NoError(t, err)
	assert.Equal(t, Query{Cmd: "Sync", DeviceID: "v140Device", DeviceType: "SmartPhone", Version: "14.0", Locale: 0x0409}, q)
	again, err := EncodeBase64(q)
	require.NoError(t, err)
	assert.Equal(t, "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", again)
}

// Every field a FolderSync client sends survives the base64 form, compared field
// by field after decoding, with and without padding and with the padding escaped.
func TestBase64RoundTripFieldByField(t *testing.T) {
	cases := []Query{
		{Cmd: "FolderSync", User: "alice", DeviceID: "DEV1", DeviceType: "Test", Version: "14.1", Locale: DefaultLocale},
		{Cmd: "FolderSync", User: "bob@example.com", DeviceID: "0123456789abcdef0123456789ABCDEF", DeviceType: "foldersync", Version: "16.1", PolicyKey: "3942919513", Locale: 0x0407},
		{Cmd: "Provision", User: "ü-user", DeviceID: "d", DeviceType: "t", Version: "12.1", PolicyKey: "1", Locale: DefaultLocale},
		{Cmd: "SmartReply", User: "u", DeviceID: "d", DeviceType: "t", Version: "14.0", Locale: DefaultLocale,
			Params: map[string]string{"CollectionId": "5", "ItemId": "5:12", "Options": "\x01"}},
	}
	for _, want := range cases {
		t.Run(want.Cmd+"-"+want.Version, func(t *testing.T) {
			enc, err := EncodeBase64(want)
			require.NoError(t, err)
			raw, err := base64.StdEncoding.DecodeString(enc)
			require.NoError(t, err)
			v, _ := VersionByte(want.Version)
			assert.Equal(t, v, raw[0], "protocol version byte")
			code, _ := CommandCode(want.Cmd)
			assert.Equal(t, code, raw[1], "command code")
			assert.Equal(t, byte(want.Locale), raw[2], "locale low byte")
			assert.Equal(t, byte(want.Locale>>8), raw[3], "locale high byte")
			assert.Equal(t, byte(len(want.DeviceID)), raw[4], "device id length")
			assert.Equal(t, want.DeviceID, string(raw[5:5+len(want.DeviceID)]))
			for _, form := range []string{enc, strings.TrimRight(enc, "="), strings.ReplaceAll(enc, "=", "%3D")} {
				got, err := ParseBase64(form)
				require.NoError(t, err, form)
				assert.Equal(t, want.Cmd, got.Cmd)
				assert.Equal(t, want.User, got.User)
				assert.Equal(t, want.DeviceID, got.DeviceID)
				assert.Equal(t, want.DeviceType, got.DeviceType)
				assert.Equal(t, want.Version, got.Version)
				assert.Equal(t, want.PolicyKey, got.PolicyKey)
				assert.Equal(t, want.Locale, got.Locale)
				assert.Equal(t, want.Params, got.Params)
			}
		})
	}
}

func TestEncodeBase64Refuses(t *testing.T) {
	ok := Query{Cmd: "FolderSync", User: "u", DeviceID: "d", DeviceType: "t", Version: "14.1"}
	cases := []struct {
		name  string
		edit  func(*Query)
		field string
	}{
		{"version 12.0 has no base64 form", func(q *Query) { q.Version = "12.0" }, "Protocol version"},
		{"unknown version", func(q *Query) { q.Version = "15.0" }, "Protocol version"},
		{"unknown command", func(q *Query) { q.Cmd = "Launch" }, "Cmd"},
		{"no device id", func(q *Query) { q.DeviceID = "" }, "DeviceId"},
		{"device id too long", func(q *Query) { q.DeviceID = strings.Repeat("x", 256) }, "DeviceId"},
		{"no device type", func(q *Query) { q.DeviceType = "" }, "DeviceType"},
		{"policy key not a number", func(q *Query) { q.PolicyKey = "abc" }, "Policy key"},
		{"policy key over 32 bits", func(q *Query) { q.PolicyKey = "4294967296" }, "Policy key"},
		{"user too long", func(q *Query) { q.User = strings.Repeat("u", 256) }, "User"},
		{"unknown parameter", func(q *Query) { q.Params = map[string]string{"SaveInSent": "T"} }, "SaveInSent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := ok
			c.edit(&q)
			_, err := EncodeBase64(q)
			var qe *QueryError
			require.ErrorAs(t, err, &qe)
			assert.Equal(t, c.field, qe.Field)
		})
	}
}

func TestParseBase64Errors(t *testing.T) {
	good, err := AppendBase64Bytes(nil, Query{Cmd: "FolderSync", User: "u", DeviceID: "dev", DeviceType: "t", Version: "14.1", PolicyKey: "7"})
	require.NoError(t, err)
	cases := []struct {
		name   string
		b      []byte
		field  string
		offset int
	}{
		{"empty", nil, "Protocol version", 0},
		{"version 2.5 byte", append([]byte{25}, good[1:]...), "Protocol version", 0},
		{"bad version", append([]byte{99}, good[1:]...), "Protocol version", 0},
		{"bad command", append([]byte{141, 5}, good[2:]...), "Command code", 1},
		{"device id past the end", []byte{141, 9, 9, 4, 10, 'a'}, "Device ID", 5},
		{"empty device id", []byte{141, 9, 9, 4, 0, 0, 1, 't'}, "Device ID", 4},
		{"policy key length 3", []byte{141, 9, 9, 4, 1, 'd', 3, 1, 2, 3}, "Policy key length", 6},
		{"policy key cut", []byte{141, 9, 9, 4, 1, 'd', 4, 1, 2}, "Policy key", 7},
		{"no device type", []byte{141, 9, 9, 4, 1, 'd', 0}, "Device type length", 7},
		{"undefined parameter tag", []byte{141, 9, 9, 4, 1, 'd', 0, 1, 't', 2, 1, 'x'}, "Command parameter", 9},
		{"parameter cut", []byte{141, 9, 9, 4, 1, 'd', 0, 1, 't', 8, 5, 'x'}, "User", 11},
		{"duplicate parameter", []byte{141, 9, 9, 4, 1, 'd', 0, 1, 't', 1, 1, 'x', 1, 1, 'y'}, "CollectionId", 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseBase64Bytes(c.b)
			var qe *QueryError
			require.ErrorAs(t, err, &qe, "%v", err)
			assert.Equal(t, c.field, qe.Field)
			assert.Equal(t, c.offset, qe.Offset)
		})
	}
	paramsStart := len(good) - 3 // the User parameter: tag, length, "u"
	for i := range good {
		if i == paramsStart {
			continue // a query that ends before its parameters is complete
		}
		_, err := ParseBase64Bytes(good[:i])
		assert.Error(t, err, "truncated at %d", i)
	}
	_, err = ParseBase64("!!not base64!!")
	assert.Error(t, err)
}

func TestPlainQuery(t *testing.T) {
	q := Query{Cmd: "FolderSync", User: "al ice&x", DeviceID: "DEV1", DeviceType: "Test"}
	s, err := EncodePlain(q)
	require.NoError(t, err)
	assert.Equal(t, "Cmd=FolderSync&User=al+ice%26x&DeviceId=DEV1&DeviceType=Test", s)
	got, b64, err := ParseRequestQuery(s, "14.1", "5")
	require.NoError(t, err)
	assert.False(t, b64)
	q.Version, q.PolicyKey = "14.1", "5"
	assert.Equal(t, q, got)

	_, err = EncodePlain(Query{Cmd: "FolderSync", DeviceID: strings.Repeat("d", 33), DeviceType: "t"})
	assert.Error(t, err, "the plain form allows 32 characters of DeviceId")
	_, _, err = ParseRequestQuery("Cmd=FolderSync&User=u&DeviceType=t", "14.1", "")
	var qe *QueryError
	require.ErrorAs(t, err, &qe)
	assert.Equal(t, "DeviceId", qe.Field)
	_, _, err = ParseRequestQuery("", "", "")
	assert.Error(t, err)

	enc, err := EncodeBase64(Query{Cmd: "FolderSync", User: "u", DeviceID: "d", DeviceType: "t", Version: "14.1"})
	require.NoError(t, err)
	got, b64, err = ParseRequestQuery(enc, "", "")
	require.NoError(t, err)
	assert.True(t, b64)
	assert.Equal(t, "FolderSync", got.Cmd)
}

func TestVersions(t *testing.T) {
	assert.Equal(t, []string{"2.5", "12.0", "12.1", "14.0", "14.1"}, ParseVersions("1.0,2.0,2.1,2.5,12.0,12.1,14.0,14.1"))
	assert.Equal(t, []string{"14.1", "16.1"}, ParseVersions(" 16.1 , 14.1,garbage"))
	assert.Empty(t, ParseVersions(""))

	v, err := Negotiate([]string{"2.5", "12.0", "12.1", "14.0", "14.1"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "14.1", v)
	v, err = Negotiate(Versions, []string{"12.1", "14.0"})
	require.NoError(t, err)
	assert.Equal(t, "14.0", v)
	_, err = Negotiate([]string{"2.5"}, []string{"14.1"})
	var ne *NegotiationError
	require.ErrorAs(t, err, &ne)
	assert.Contains(t, err.Error(), "the server offers 2.5")
	_, err = Negotiate(nil, nil)
	assert.ErrorContains(t, err, "ActiveSync endpoint")
	assert.True(t, AtLeast("14.0", "12.1"))
	assert.False(t, AtLeast("12.0", "12.1"))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
		err  bool
	}{
		{"", 0, false, false},
		{"0", 0, true, false},
		{"120", 2 * time.Minute, true, false},
		{" 30 ", 30 * time.Second, true, false},
		{"99999999999999999999", 0, false, true},
		{"-5", 0, false, true},
		{"1.5", 0, false, true},
		{"Sun, 22 Nov 2026 03:02:00 GMT", 2 * time.Minute, true, false},
		{"Sunday, 22-Nov-26 03:00:30 GMT", 30 * time.Second, true, false}, // RFC 850
		{"Sun Nov 22 03:01:00 2026", time.Minute, true, false},            // asctime
		{"Sun, 22 Nov 2026 02:00:00 GMT", 0, true, false},                 // in the past
		{"tomorrow", 0, false, true},
	}
	for _, c := range cases {
		d, ok, err := ParseRetryAfter(c.in, now)
		if c.err {
			assert.Error(t, err, c.in)
			assert.Contains(t, err.Error(), "Retry-After")
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, d, c.in)
	}
	d, ok, err := ParseRetryAfter("9223372036", now) // seconds beyond time.Duration
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Greater(t, d, time.Duration(0))
}

func TestCheckRedirect(t *testing.T) {
	cur := "https://mail.example.com/Microsoft-Server-ActiveSync"
	cases := []struct {
		loc      string
		insecure bool
		want     string // "" = refused
		reason   string
	}{
		{"https://eu.example.com/Microsoft-Server-ActiveSync", false, "https://eu.example.com/Microsoft-Server-ActiveSync", ""},
		{"https://eu.example.com/Microsoft-Server-ActiveSync?Cmd=FolderSync", false, "https://eu.example.com/Microsoft-Server-ActiveSync", ""},
		{"http://eu.example.com/Microsoft-Server-ActiveSync", false, "", "plain HTTP"},
		{"http://127.0.0.1:8080/eas", true, "http://127.0.0.1:8080/eas", ""},
		{"", false, "", "no X-MS-Location"},
		{"/relative", false, "", "absolute"},
		{"ftp://x/y", false, "", "scheme"},
		{"https://user:pw@eu.example.com/x", false, "", "credentials"},
		{cur, false, "", "loop"},
		{"HTTPS://MAIL.example.com:443/Microsoft-Server-ActiveSync/", false, "", "loop"},
		{"https://mail.example.com/Microsoft-Server-ActiveSync?x=1", false, "", "loop"},
		{"https://mail.example.com:8443/Microsoft-Server-ActiveSync", false, "https://mail.example.com:8443/Microsoft-Server-ActiveSync", ""},
		{"https://[::1", false, "", "not a URL"},
	}
	for _, c := range cases {
		u, err := CheckRedirect(cur, c.loc, c.insecure)
		if c.want == "" {
			require.Error(t, err, c.loc)
			assert.True(t, errors.Is(err, ErrRedirect))
			assert.Contains(t, err.Error(), c.reason, c.loc)
			continue
		}
		require.NoError(t, err, c.loc)
		assert.Equal(t, c.want, u.String())
	}
	a, _ := url.Parse("http://h/")
	b, _ := url.Parse("http://h:80")
	assert.True(t, SameEndpoint(a, b))
}
