package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
)

func runCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCaptures(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "captures")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	for _, want := range []string{
		`SyncKey "0"`,
		`Status 1 (success), new SyncKey "vm_2061_30b25ace_0", 9 changes`,
		"INBOX  [Inbox,",
		"Status 9 (synchronization key mismatch or invalid)",
		"SOGo never compares keys",
	} {
		assert.Contains(t, out, want)
	}
}

// lineErr is the one-line error format of the wbxml commands.
var lineErr = regexp.MustCompile(`^wbxml: offset \d+(?: \(line \d+, column \d+\))?: \S.*\n$`)

func TestWBXMLRoundTripOnCaptures(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "captures", "sogo")
	files, err := filepath.Glob(filepath.Join(dir, "*.wbxml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		code, xmlOut, errOut := runCLI(t, nil, "wbxml", "decode", f)
		require.Equal(t, 0, code, "%s: %s", f, errOut)
		assert.True(t, strings.HasPrefix(xmlOut, `<?xml version="1.0" encoding="utf-8"?>`))
		code, wbxmlOut, errOut := runCLI(t, []byte(xmlOut), "wbxml", "encode")
		require.Equal(t, 0, code, "%s: %s", f, errOut)
		assert.Equal(t, string(body), wbxmlOut, "%s: decode | encode must give the capture back", filepath.Base(f))
	}
}

func TestWBXMLDecodeStdinAndDash(t *testing.T) {
	body, err := os.ReadFile("democaptures/horde-bogus-known-device.resp.wbxml")
	require.NoError(t, err)
	for _, args := range [][]string{{"wbxml", "decode"}, {"wbxml", "decode", "-"}} {
		code, out, errOut := runCLI(t, body, args...)
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "<Status>9</Status>")
	}
}

func TestWBXMLBadInput(t *testing.T) {
	good, err := os.ReadFile("democaptures/sogo-initial.resp.wbxml")
	require.NoError(t, err)
	cases := []struct {
		name   string
		args   []string
		stdin  []byte
		offset string
	}{
		{"empty", []string{"wbxml", "decode"}, nil, "offset 0:"},
		{"not wbxml", []string{"wbxml", "decode"}, []byte("this is not wbxml"), "offset 0:"},
		{"truncated", []string{"wbxml", "decode"}, good[:100], "offset 100:"},
		{"trailing", []string{"wbxml", "decode"}, append(append([]byte{}, good...), 0x01), "offset 595:"},
		{"unknown tag", []string{"wbxml", "decode"}, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x4B, 0x01}, "offset 6:"},
		{"xml syntax", []string{"wbxml", "encode"}, []byte("<FolderSync xmlns=\"FolderHierarchy\"><Status>"), "offset "},
		{"xml no namespace", []string{"wbxml", "encode"}, []byte("<FolderSync><Status>1</Status></FolderSync>"), "offset 0 (line 1, column 1):"},
		{"xml unknown element", []string{"wbxml", "encode"}, []byte(`<FolderSync xmlns="FolderHierarchy"><Bogus/></FolderSync>`), "offset "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.stdin, c.args...)
			assert.Equal(t, 1, code)
			assert.Empty(t, out, "nothing on stdout on bad input")
			assert.Regexp(t, lineErr, errOut)
			assert.Contains(t, errOut, c.offset)
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"wbxml"}, {"wbxml", "frobnicate"}, {"wbxml", "decode", "a", "b"}, {"demo", "extra"},
		{"captures", "extra"}, {"demo", "--profile", "exchange"}, {"demo", "--faults", "1:explode"}, {"demo", "--faults", "x"}, {"demo", "--fault-rate", "2"}} {
		code, out, errOut := runCLI(t, nil, args...)
		assert.Equal(t, 2, code, "%q", args)
		assert.Empty(t, out)
		assert.NotEmpty(t, errOut)
	}
	code, _, errOut := runCLI(t, nil, "wbxml", "decode", "/nonexistent/file.wbxml")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "wbxml: open /nonexistent/file.wbxml")
	code, out, _ := runCLI(t, nil, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "foldersync demo")
}

func TestWBXMLDecodeAllowUnknown(t *testing.T) {
	// A tag on page 7 that MS-ASWBXML leaves undefined (0x0B).
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x4B, 0x03, 'x', 0x00, 0x01, 0x01}
	code, out, errOut := runCLI(t, body, "wbxml", "decode", "--allow-unknown")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "<wbxml:raw-7-0B>x</wbxml:raw-7-0B>")
	code, back, errOut := runCLI(t, []byte(out), "wbxml", "encode")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, string(body), back)
}
