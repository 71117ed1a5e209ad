package wbxml_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
)

// Tags used throughout these tests. The wbt prefix keeps the names clear of other
// test files of the package.
var (
	wbtFolderSync  = wbxml.MustTag("FolderHierarchy", "FolderSync") // page 7, 0x16
	wbtFHStatus    = wbxml.MustTag("FolderHierarchy", "Status")     // page 7, 0x0C
	wbtFHSyncKey   = wbxml.MustTag("FolderHierarchy", "SyncKey")    // page 7, 0x12
	wbtFHChanges   = wbxml.MustTag("FolderHierarchy", "Changes")    // page 7, 0x0E
	wbtFHCount     = wbxml.MustTag("FolderHierarchy", "Count")      // page 7, 0x17
	wbtSync        = wbxml.MustTag("AirSync", "Sync")               // page 0, 0x05
	wbtSyncKey     = wbxml.MustTag("AirSync", "SyncKey")            // page 0, 0x0B
	wbtCollection  = wbxml.MustTag("AirSync", "Collection")         // page 0, 0x0F
	wbtWindowSize  = wbxml.MustTag("AirSync", "WindowSize")         // page 0, 0x15
	wbtClientID    = wbxml.MustTag("AirSync", "ClientId")           // page 0, 0x0C
	wbtBodyPref    = wbxml.MustTag("AirSyncBase", "BodyPreference") // page 17, 0x05
	wbtBodyPrefTyp = wbxml.MustTag("AirSyncBase", "Type")           // page 17, 0x06
)

// wbtDoc is a canonical ActiveSync document: header 03 01 6A 00 (WBXML 1.3, public id 1,
// UTF-8, empty string table) followed by body. The body therefore starts at offset 4.
func wbtDoc(body ...byte) []byte {
	return append([]byte{0x03, 0x01, 0x6A, 0x00}, body...)
}

// wbtCat concatenates byte slices.
func wbtCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// wbtMb encodes v as a WBXML mb_u_int32, written independently of the library so the
// tests do not trust the code under test (checked against known vectors below).
func wbtMb(v uint32) []byte {
	out := []byte{byte(v & 0x7F)}
	for v >>= 7; v > 0; v >>= 7 {
		out = append([]byte{byte(v&0x7F) | 0x80}, out...)
	}
	return out
}

// wbtFSOpen opens <FolderSync> with content: SWITCH_PAGE 7, FolderSync|content at
// offsets 4, 5, 6 of a wbtDoc, so what follows starts at offset 7.
var wbtFSOpen = []byte{0x00, 0x07, 0x56}

// wbtMode is one way of feeding a document to a Decoder.
type wbtMode struct {
	name      string
	streaming bool
	open      func([]byte) *wbxml.Decoder
}

var wbtModes = []wbtMode{
	{"bytes", false, func(b []byte) *wbxml.Decoder { return wbxml.NewDecoderBytes(b) }},
	{"reader", true, func(b []byte) *wbxml.Decoder { return wbxml.NewDecoder(bytes.NewReader(b)) }},
	{"onebyte", true, func(b []byte) *wbxml.Decoder {
		return wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(b)))
	}},
	{"half", true, func(b []byte) *wbxml.Decoder { return wbxml.NewDecoder(iotest.HalfReader(bytes.NewReader(b))) }},
}

// wbtTok is a Token with its Data copied (Token.Data dies at the next call to Next).
type wbtTok struct {
	Kind    wbxml.Kind
	Tag     wbxml.Tag
	Content bool
	Data    string
	Offset  int64
}

func (t wbtTok) String() string {
	return fmt.Sprintf("%d:%s %s content=%v %q", t.Offset, t.Kind, t.Tag, t.Content, t.Data)
}

// wbtDrain reads the header and every token of d. It returns the tokens read and the
// error that ended the document (nil at a clean io.EOF). A decoder that produced more
// tokens than its input could hold is reported as an error instead of hanging the test.
func wbtDrain(d *wbxml.Decoder, inputLen int) ([]wbtTok, error) {
	if _, err := d.Header(); err != nil {
		return nil, err
	}
	var toks []wbtTok
	for {
		tok, err := d.Next()
		if err == io.EOF {
			return toks, nil
		}
		if err != nil {
			return toks, err
		}
		toks = append(toks, wbtTok{tok.Kind, tok.Tag, tok.Content, string(tok.Data), tok.Offset})
		if len(toks) > 2*inputLen+8 {
			return toks, fmt.Errorf("decoder produced %d tokens from %d bytes: it does not advance", len(toks), inputLen)
		}
	}
}

// requireSyntaxError checks that err is a *wbxml.SyntaxError of the kind at the offset.
func requireSyntaxError(t testing.TB, err error, kind error, offset int64) *wbxml.SyntaxError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind, "error %q", err)
	var se *wbxml.SyntaxError
	require.True(t, errors.As(err, &se), "want a *wbxml.SyntaxError, got %T: %v", err, err)
	assert.Same(t, kind, se.Err, "SyntaxError.Err is the kind itself")
	assert.Equal(t, offset, se.Offset, "offset of %q", err)
	assert.NotEmpty(t, se.Msg)
	assert.Contains(t, se.Error(), fmt.Sprintf("offset %d: ", se.Offset))
	return se
}

// wbtSharedCaptureFiles returns the WBXML bodies under ../shared/captures keyed by
// their path relative to it, or nil when the folder is absent (no skip: fuzz seeds
// use it and must still run).
func wbtSharedCaptureFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	dir := filepath.Join(testutil.RepoRoot(), "..", "shared", "captures")
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".wbxml", ".body", ".bin":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			out[filepath.ToSlash(rel)] = b
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("reading captures: %v", err)
	}
	return out
}

func TestMbUint32Helper(t *testing.T) {
	// Vectors from WBXML 1.3 section 5.1 and the cases below.
	assert.Equal(t, []byte{0x00}, wbtMb(0))
	assert.Equal(t, []byte{0x7F}, wbtMb(127))
	assert.Equal(t, []byte{0x81, 0x00}, wbtMb(128))
	assert.Equal(t, []byte{0x81, 0x69}, wbtMb(0xE9))
	assert.Equal(t, []byte{0x83, 0xB0, 0x00}, wbtMb(0xD800))
	assert.Equal(t, []byte{0x81, 0x80, 0x00}, wbtMb(16384))
	assert.Equal(t, []byte{0x8F, 0xFF, 0xFF, 0xFF, 0x7F}, wbtMb(0xFFFFFFFF))
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "StartElement", wbxml.StartElement.String())
	assert.Equal(t, "EndElement", wbxml.EndElement.String())
	assert.Equal(t, "Text", wbxml.Text.String())
	assert.Equal(t, "Opaque", wbxml.Opaque.String())
	assert.Equal(t, "Kind(0)", wbxml.Kind(0).String())
	assert.Equal(t, "Kind(9)", wbxml.Kind(9).String())
}

// decodeErrorCase is one malformed document and the error it must give.
type decodeErrorCase struct {
	name   string
	in     []byte
	limits wbxml.Limits
	kind   error
	offset int64
	// bytesOnly: the case depends on having the whole input (document-size limit).
	bytesOnly bool
}

// strTableDoc is a header with the string table "ab\x00" (7 bytes) then body, which
// therefore starts at offset 7.
func strTableDoc(body ...byte) []byte {
	return append([]byte{0x03, 0x01, 0x6A, 0x03, 'a', 'b', 0x00}, body...)
}

func decodeErrorCases() []decodeErrorCase {
	fs := func(rest ...byte) []byte { return wbtDoc(append(append([]byte{}, wbtFSOpen...), rest...)...) }
	hugeOpaque := fs(append([]byte{0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}, bytes.Repeat([]byte{'x'}, 10)...)...)
	nested := func(n int) []byte {
		b := wbtDoc(bytes.Repeat([]byte{0x45}, n)...) // AirSync:Sync with content, n deep
		return append(b, bytes.Repeat([]byte{0x01}, n)...)
	}
	cases := []decodeErrorCase{
		// Header.
		{name: "empty input", in: []byte{}, kind: wbxml.ErrTruncated, offset: 0},
		{name: "nil input", in: nil, kind: wbxml.ErrTruncated, offset: 0},
		{name: "version 0x00", in: []byte{0x00, 0x01, 0x6A, 0x00, 0x45, 0x01}, kind: wbxml.ErrUnsupportedVersion, offset: 0},
		{name: "version 0x04", in: []byte{0x04, 0x01, 0x6A, 0x00, 0x45, 0x01}, kind: wbxml.ErrUnsupportedVersion, offset: 0},
		{name: "version 0xFF", in: []byte{0xFF}, kind: wbxml.ErrUnsupportedVersion, offset: 0},
		{name: "text instead of WBXML", in: []byte("Unauthorized"), kind: wbxml.ErrUnsupportedVersion, offset: 0},
		{name: "truncated after version", in: []byte{0x03}, kind: wbxml.ErrTruncated, offset: 1},
		{name: "truncated inside public id", in: []byte{0x03, 0x81}, kind: wbxml.ErrTruncated, offset: 2},
		{name: "truncated before charset", in: []byte{0x03, 0x01}, kind: wbxml.ErrTruncated, offset: 2},
		{name: "truncated before string table length", in: []byte{0x03, 0x01, 0x6A}, kind: wbxml.ErrTruncated, offset: 3},
		{name: "truncated inside public id string index", in: []byte{0x03, 0x00}, kind: wbxml.ErrTruncated, offset: 2},
		{name: "charset ISO-8859-1 (4)", in: []byte{0x03, 0x01, 0x04, 0x00, 0x45, 0x01}, kind: wbxml.ErrUnsupportedCharset, offset: 2},
		{name: "charset 0 (unknown)", in: []byte{0x03, 0x01, 0x00, 0x00, 0x45, 0x01}, kind: wbxml.ErrUnsupportedCharset, offset: 2},
		{name: "charset UTF-16 (1015, two bytes)", in: wbtCat([]byte{0x03, 0x01}, wbtMb(1015), []byte{0x00, 0x45, 0x01}), kind: wbxml.ErrUnsupportedCharset, offset: 2},
		{name: "charset after a string public id", in: []byte{0x03, 0x00, 0x00, 0x04, 0x02, 'a', 0x00, 0x45, 0x01}, kind: wbxml.ErrUnsupportedCharset, offset: 3},
		{name: "charset mb_u_int32 truncated", in: []byte{0x03, 0x01, 0x80, 0xEA}, kind: wbxml.ErrTruncated, offset: 4},
		{name: "public id mb_u_int32 of 6 bytes", in: []byte{0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x6A, 0x00}, kind: wbxml.ErrHeader, offset: 1},
		{name: "public id overflows 32 bits", in: []byte{0x03, 0x90, 0x80, 0x80, 0x80, 0x00, 0x6A, 0x00}, kind: wbxml.ErrHeader, offset: 1},
		{name: "charset overflows 32 bits", in: []byte{0x03, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, kind: wbxml.ErrHeader, offset: 2},
		{name: "string table length of 6 bytes", in: []byte{0x03, 0x01, 0x6A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, kind: wbxml.ErrHeader, offset: 3},
		{name: "string table longer than the input", in: []byte{0x03, 0x01, 0x6A, 0x05, 'a', 'b', 0x00}, kind: wbxml.ErrTruncated, offset: 3},
		{name: "string table claims 4 GiB", in: []byte{0x03, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 'a', 0x00}, kind: wbxml.ErrLimit, offset: 3},
		{name: "string table over MaxStringTableSize", in: strTableDoc(0x00, 0x07, 0x16), limits: wbxml.Limits{MaxStringTableSize: 2}, kind: wbxml.ErrLimit, offset: 3},
		{name: "public id string index out of range", in: []byte{0x03, 0x00, 0x04, 0x6A, 0x04, 'a', 'b', 'c', 0x00, 0x00, 0x07, 0x16}, kind: wbxml.ErrStringTable, offset: 1},
		{name: "public id string index far out of range", in: []byte{0x03, 0x00, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x6A, 0x00, 0x00, 0x07, 0x16}, kind: wbxml.ErrStringTable, offset: 1},
		{name: "public id string without NUL", in: []byte{0x03, 0x00, 0x00, 0x6A, 0x03, 'a', 'b', 'c', 0x00, 0x07, 0x16}, kind: wbxml.ErrStringTable, offset: 1},
		{name: "public id string not UTF-8", in: []byte{0x03, 0x00, 0x00, 0x6A, 0x02, 0xFF, 0x00, 0x00, 0x07, 0x16}, kind: wbxml.ErrInvalidUTF8, offset: 1},

		// Body: an empty or unfinished document.
		{name: "header only", in: wbtDoc(), kind: wbxml.ErrTruncated, offset: 4},
		{name: "root never closed", in: wbtDoc(0x45), kind: wbxml.ErrTruncated, offset: 5},
		{name: "nested element never closed", in: wbtDoc(0x45, 0x4F, 0x01), kind: wbxml.ErrTruncated, offset: 7},
		{name: "truncated SWITCH_PAGE", in: wbtDoc(0x00), kind: wbxml.ErrTruncated, offset: 5},
		{name: "SWITCH_PAGE then nothing", in: wbtDoc(0x00, 0x07), kind: wbxml.ErrTruncated, offset: 6},

		// String table references.
		{name: "STR_T index out of range", in: strTableDoc(0x00, 0x07, 0x56, 0x83, 0x05, 0x01), kind: wbxml.ErrStringTable, offset: 10},
		{name: "STR_T index equal to table length", in: strTableDoc(0x00, 0x07, 0x56, 0x83, 0x03, 0x01), kind: wbxml.ErrStringTable, offset: 10},
		{name: "STR_T index 4 GiB", in: strTableDoc(0x00, 0x07, 0x56, 0x83, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01), kind: wbxml.ErrStringTable, offset: 10},
		{name: "STR_T with an empty string table", in: wbtDoc(0x00, 0x07, 0x56, 0x83, 0x00, 0x01), kind: wbxml.ErrStringTable, offset: 7},
		{name: "STR_T entry without NUL", in: []byte{0x03, 0x01, 0x6A, 0x02, 'a', 'b', 0x00, 0x07, 0x56, 0x83, 0x00, 0x01}, kind: wbxml.ErrStringTable, offset: 9},
		{name: "STR_T entry not UTF-8", in: []byte{0x03, 0x01, 0x6A, 0x02, 0xFF, 0x00, 0x00, 0x07, 0x56, 0x83, 0x00, 0x01}, kind: wbxml.ErrInvalidUTF8, offset: 9},
		{name: "STR_T index overflows 32 bits", in: strTableDoc(0x00, 0x07, 0x56, 0x83, 0x90, 0x80, 0x80, 0x80, 0x00, 0x01), kind: wbxml.ErrBadInteger, offset: 11},
		{name: "STR_T index truncated", in: strTableDoc(0x00, 0x07, 0x56, 0x83, 0x81), kind: wbxml.ErrTruncated, offset: 12},

		// Character entities.
		{name: "ENTITY surrogate U+D800", in: fs(wbtCat([]byte{0x02}, wbtMb(0xD800), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 7},
		{name: "ENTITY surrogate U+DFFF", in: fs(wbtCat([]byte{0x02}, wbtMb(0xDFFF), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 7},
		{name: "ENTITY U+110000", in: fs(wbtCat([]byte{0x02}, wbtMb(0x110000), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 7},
		{name: "ENTITY 0xFFFFFFFF", in: fs(wbtCat([]byte{0x02}, wbtMb(0xFFFFFFFF), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 7},
		{name: "ENTITY 0x80000000", in: fs(wbtCat([]byte{0x02}, wbtMb(0x80000000), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 7},
		// U+0000 is a scalar value, but no text can carry it: STR_I ends at NUL, the
		// Encoder refuses it and XML 1.0 has no NUL character.
		{name: "ENTITY U+0000", in: fs(0x02, 0x00, 0x01), kind: wbxml.ErrInvalidEntity, offset: 7},
		{name: "ENTITY overflows 32 bits", in: fs(0x02, 0x90, 0x80, 0x80, 0x80, 0x00, 0x01), kind: wbxml.ErrBadInteger, offset: 8},
		{name: "ENTITY truncated", in: fs(0x02, 0x81), kind: wbxml.ErrTruncated, offset: 9},
		{name: "ENTITY after a text run, surrogate", in: fs(wbtCat([]byte{0x03, 'a', 0x00, 0x02}, wbtMb(0xDBFF), []byte{0x01})...), kind: wbxml.ErrInvalidEntity, offset: 10},

		// Inline strings.
		{name: "STR_I invalid UTF-8 byte", in: fs(0x03, 'a', 0xFF, 'b', 0x00, 0x01, 0x01), kind: wbxml.ErrInvalidUTF8, offset: 9},
		{name: "STR_I cut UTF-8 sequence", in: fs(0x03, 'a', 'b', 0xE2, 0x82, 0x00, 0x01, 0x01), kind: wbxml.ErrInvalidUTF8, offset: 10},
		{name: "STR_I overlong NUL C0 80", in: fs(0x03, 0xC0, 0x80, 0x00, 0x01, 0x01), kind: wbxml.ErrInvalidUTF8, offset: 8},
		{name: "STR_I encoded surrogate ED A0 80", in: fs(0x03, 'x', 0xED, 0xA0, 0x80, 0x00, 0x01, 0x01), kind: wbxml.ErrInvalidUTF8, offset: 9},
		{name: "STR_I invalid after valid multibyte", in: fs(0x03, 0xC3, 0xA9, 0xA9, 0x00, 0x01, 0x01), kind: wbxml.ErrInvalidUTF8, offset: 10},
		{name: "STR_I without terminator", in: fs(0x03, 'a', 'b'), kind: wbxml.ErrTruncated, offset: 10},
		{name: "STR_I at the very end", in: fs(0x03), kind: wbxml.ErrTruncated, offset: 8},
		{name: "STR_I over MaxStringLength", in: fs(0x03, 'a', 'b', 'c', 'd', 0x00, 0x01), limits: wbxml.Limits{MaxStringLength: 3}, kind: wbxml.ErrLimit, offset: 7},
		{name: "STR_I unterminated over MaxStringLength", in: fs(0x03, 'a', 'b', 'c', 'd', 'e'), limits: wbxml.Limits{MaxStringLength: 3}, kind: wbxml.ErrLimit, offset: 7},

		// Opaque values.
		{name: "OPAQUE claims 4 GiB (default limit)", in: hugeOpaque, kind: wbxml.ErrLimit, offset: 7},
		{name: "OPAQUE claims 4 GiB (limit raised to 1 TiB)", in: hugeOpaque, limits: wbxml.Limits{MaxOpaqueLength: 1 << 40}, kind: wbxml.ErrTruncated, offset: 7},
		{name: "OPAQUE over MaxOpaqueLength", in: fs(0xC3, 0x03, 'a', 'b', 'c', 0x01, 0x01), limits: wbxml.Limits{MaxOpaqueLength: 2}, kind: wbxml.ErrLimit, offset: 7},
		{name: "OPAQUE longer than the rest", in: fs(0xC3, 0x05, 'a', 'b'), kind: wbxml.ErrTruncated, offset: 7},
		{name: "OPAQUE length truncated", in: fs(0xC3, 0x81), kind: wbxml.ErrTruncated, offset: 9},
		{name: "OPAQUE length overflows 32 bits", in: fs(0xC3, 0x90, 0x80, 0x80, 0x80, 0x00), kind: wbxml.ErrBadInteger, offset: 8},

		// Tokens ActiveSync never uses.
		{name: "tag with attributes and content 0xC5 as root", in: wbtDoc(0xC5, 0x01, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "tag with attributes 0x85 as root", in: wbtDoc(0x85, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "tag with attributes 0xCC inside FolderSync", in: fs(0xCC, 0x01, 0x01, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "tag with attributes 0xBF", in: fs(0xBF, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "LITERAL 0x04 as root", in: wbtDoc(0x04, 0x00), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "LITERAL_C 0x44 as root", in: wbtDoc(0x44, 0x00), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "LITERAL_A 0x84 as root", in: wbtDoc(0x84, 0x00), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "LITERAL_AC 0xC4 as root", in: wbtDoc(0xC4, 0x00), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "LITERAL 0x04 inside", in: fs(0x04, 0x00, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "LITERAL_C 0x44 inside", in: fs(0x44, 0x00, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "LITERAL_A 0x84 inside", in: fs(0x84, 0x00, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "LITERAL_AC 0xC4 inside", in: fs(0xC4, 0x00, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},
		{name: "PI 0x43 as root", in: wbtDoc(0x43, 0x05, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 4},
		{name: "PI 0x43 inside", in: fs(0x43, 0x05, 0x01, 0x01), kind: wbxml.ErrUnsupportedToken, offset: 7},

		// Code pages and tags.
		{name: "SWITCH_PAGE to page 26", in: wbtDoc(0x00, 26, 0x05), kind: wbxml.ErrUnknownPage, offset: 4},
		{name: "SWITCH_PAGE to page 255", in: wbtDoc(0x00, 255, 0x05), kind: wbxml.ErrUnknownPage, offset: 4},
		{name: "SWITCH_PAGE to page 26 inside", in: fs(0x00, 26, 0x05, 0x01), kind: wbxml.ErrUnknownPage, offset: 7},
		{name: "FolderHierarchy token 0x0B undefined", in: wbtDoc(0x00, 0x07, 0x4B, 0x01), kind: wbxml.ErrUnknownTag, offset: 6},
		{name: "FolderHierarchy token 0x0B without content", in: fs(0x0B, 0x01), kind: wbxml.ErrUnknownTag, offset: 7},
		{name: "AirSync token 0x11 undefined", in: wbtDoc(0x51, 0x01), kind: wbxml.ErrUnknownTag, offset: 4},
		{name: "AirSync token 0x3F undefined", in: wbtDoc(0x3F), kind: wbxml.ErrUnknownTag, offset: 4},
		{name: "AirNotify page 3 defines no tags", in: wbtDoc(0x00, 0x03, 0x45, 0x01), kind: wbxml.ErrUnknownTag, offset: 6},

		// Structure.
		{name: "END with no open element", in: wbtDoc(0x01), kind: wbxml.ErrStructure, offset: 4},
		{name: "END after SWITCH_PAGE with no open element", in: wbtDoc(0x00, 0x07, 0x01), kind: wbxml.ErrStructure, offset: 6},
		{name: "STR_I before the root", in: wbtDoc(0x03, 'a', 0x00, 0x45, 0x01), kind: wbxml.ErrStructure, offset: 4},
		{name: "STR_T before the root", in: strTableDoc(0x83, 0x00, 0x45, 0x01), kind: wbxml.ErrStructure, offset: 7},
		{name: "ENTITY before the root", in: wbtDoc(0x02, 0x41, 0x45, 0x01), kind: wbxml.ErrStructure, offset: 4},
		{name: "OPAQUE before the root", in: wbtDoc(0xC3, 0x00, 0x45, 0x01), kind: wbxml.ErrStructure, offset: 4},
		{name: "second root element (both empty)", in: wbtDoc(0x05, 0x05), kind: wbxml.ErrTrailingData, offset: 5},
		{name: "second root element (with content)", in: wbtDoc(0x45, 0x01, 0x45, 0x01), kind: wbxml.ErrTrailingData, offset: 6},
		{name: "trailing SWITCH_PAGE after root", in: wbtDoc(0x45, 0x01, 0x00, 0x00), kind: wbxml.ErrTrailingData, offset: 6},
		{name: "trailing END after root", in: wbtDoc(0x45, 0x01, 0x01), kind: wbxml.ErrTrailingData, offset: 6},
		{name: "trailing text after root", in: wbtDoc(0x45, 0x01, 0x03, 'a', 0x00), kind: wbxml.ErrTrailingData, offset: 6},
		{name: "trailing NUL after empty root", in: wbtDoc(0x05, 0x00), kind: wbxml.ErrTrailingData, offset: 5},

		// Limits.
		{name: "65 nested elements (default MaxDepth 64)", in: nested(65), kind: wbxml.ErrLimit, offset: 4 + 64},
		{name: "empty element at depth 65", in: append(wbtDoc(append(bytes.Repeat([]byte{0x45}, 64), 0x05)...), bytes.Repeat([]byte{0x01}, 64)...), kind: wbxml.ErrLimit, offset: 4 + 64},
		{name: "MaxDepth 2", in: nested(3), limits: wbxml.Limits{MaxDepth: 2}, kind: wbxml.ErrLimit, offset: 6},
		{name: "MaxDocumentSize", in: wbtDoc(0x45, 0x03, 'a', 0x00, 0x01), limits: wbxml.Limits{MaxDocumentSize: 8}, kind: wbxml.ErrLimit, offset: 8},
		{name: "MaxDocumentSize smaller than the header", in: wbtDoc(0x05), limits: wbxml.Limits{MaxDocumentSize: 2}, kind: wbxml.ErrLimit, offset: 2},
	}
	return cases
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrorCases() {
		for _, m := range wbtModes {
			if tc.bytesOnly && m.streaming {
				continue
			}
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				d := m.open(tc.in)
				d.Limits = tc.limits
				_, err := wbtDrain(d, len(tc.in))
				requireSyntaxError(t, err, tc.kind, tc.offset)

				// Errors are sticky: every later call returns the same error.
				_, err2 := d.Next()
				assert.Same(t, err, err2, "Next after an error")
				_, err3 := d.Next()
				assert.Same(t, err, err3)
			})
		}
		if tc.limits == (wbxml.Limits{}) {
			t.Run(tc.name+"/Unmarshal", func(t *testing.T) {
				doc, err := wbxml.Unmarshal(tc.in)
				assert.Nil(t, doc)
				requireSyntaxError(t, err, tc.kind, tc.offset)
			})
		}
	}
}

func TestDecodeErrorKindsAreCovered(t *testing.T) {
	// Every decode-side kind of errors.go appears in the table above.
	seen := map[error]bool{}
	for _, tc := range decodeErrorCases() {
		seen[tc.kind] = true
	}
	for _, k := range syntaxKinds {
		assert.True(t, seen[k], "no decode case for %v", k)
	}
	// The kinds are distinct values with distinct messages.
	msgs := map[string]bool{}
	for _, k := range append(syntaxKinds, wbxml.ErrInvalidInput) {
		assert.False(t, msgs[k.Error()], "duplicate message %q", k.Error())
		msgs[k.Error()] = true
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := wbxml.Unmarshal([]byte{0x04})
	var se *wbxml.SyntaxError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "offset 0: version byte 0x04: want 0x01-0x03 (WBXML 1.1-1.3; ActiveSync sends 0x03)", se.Error())
	assert.Equal(t, wbxml.ErrUnsupportedVersion, errors.Unwrap(se))
	assert.NotErrorIs(t, err, wbxml.ErrTruncated)
}

func TestDecodeEveryAttributeAndGlobalTokenIsRejected(t *testing.T) {
	// Every byte with the attribute flag, and every global token ActiveSync does not
	// use, is an ErrUnsupportedToken wherever it appears in the body.
	for b := 0; b < 256; b++ {
		var want error
		switch {
		case b == 0x00, b == 0x01, b == 0x02, b == 0x03, b == 0x83, b == 0xC3:
			continue // SWITCH_PAGE, END, ENTITY, STR_I, STR_T, OPAQUE
		case b == 0x04, b == 0x44, b == 0x84, b == 0xC4, b == 0x43,
			b >= 0x40 && b <= 0x42, b >= 0x80 && b <= 0x82, b >= 0xC0 && b <= 0xC2,
			b&0x80 != 0:
			want = wbxml.ErrUnsupportedToken
		default:
			continue // a tag token
		}
		in := wbtDoc(0x00, 0x07, 0x56, byte(b), 0x00, 0x01, 0x01)
		_, err := wbxml.Unmarshal(in)
		requireSyntaxError(t, err, want, 7)
	}
}

func TestDecodeEveryTagOfEveryPage(t *testing.T) {
	// Every (page, token): defined tags decode, the others are ErrUnknownTag; AirNotify
	// (page 3) has none.
	known := 0
	for page := 0; page < wbxml.NumPages; page++ {
		for tok := 0x05; tok <= 0x3F; tok++ {
			tag := wbxml.Tag{Page: uint8(page), Token: uint8(tok)}
			in := wbtDoc(0x00, byte(page), byte(tok))
			doc, err := wbxml.Unmarshal(in)
			if tag.Known() {
				known++
				require.NoError(t, err, tag.String())
				assert.Equal(t, tag, doc.Root.Tag)
				assert.NotEqual(t, 3, page, "AirNotify defines no tags")
			} else {
				requireSyntaxError(t, err, wbxml.ErrUnknownTag, 6)
			}
		}
	}
	assert.Greater(t, known, 400, "MS-ASWBXML defines 400+ tags")
}

func TestDecodeMaxDepthBoundary(t *testing.T) {
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			// 64 nested with the default limit: fine; the 64th may also be empty.
			in := wbtDoc(bytes.Repeat([]byte{0x45}, 64)...)
			in = append(in, bytes.Repeat([]byte{0x01}, 64)...)
			d := m.open(in)
			toks, err := wbtDrain(d, len(in))
			require.NoError(t, err)
			assert.Len(t, toks, 128)

			in = wbtDoc(append(bytes.Repeat([]byte{0x45}, 63), 0x05)...)
			in = append(in, bytes.Repeat([]byte{0x01}, 63)...)
			_, err = wbtDrain(m.open(in), len(in))
			require.NoError(t, err)

			// A raised limit admits deeper documents.
			in = wbtDoc(bytes.Repeat([]byte{0x45}, 200)...)
			in = append(in, bytes.Repeat([]byte{0x01}, 200)...)
			d = m.open(in)
			d.Limits.MaxDepth = 200
			_, err = wbtDrain(d, len(in))
			require.NoError(t, err)
		})
	}
}

func TestDecodeLimitBoundaries(t *testing.T) {
	doc := wbtDoc(0x00, 0x07, 0x56, 0x52, 0x03, 'a', 'b', 'c', 0x00, 0x01, 0x4C, 0xC3, 0x03, 1, 2, 3, 0x01, 0x01)
	tableDoc := []byte{0x03, 0x01, 0x6A, 0x04, 'a', 'b', 'c', 0x00, 0x00, 0x07, 0x56, 0x83, 0x00, 0x01}
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			ok := func(in []byte, l wbxml.Limits) {
				t.Helper()
				d := m.open(in)
				d.Limits = l
				_, err := wbtDrain(d, len(in))
				require.NoError(t, err)
			}
			fail := func(in []byte, l wbxml.Limits, off int64) {
				t.Helper()
				d := m.open(in)
				d.Limits = l
				_, err := wbtDrain(d, len(in))
				requireSyntaxError(t, err, wbxml.ErrLimit, off)
			}
			n := int64(len(doc))
			ok(doc, wbxml.Limits{MaxDocumentSize: n})
			fail(doc, wbxml.Limits{MaxDocumentSize: n - 1}, n-1)
			ok(doc, wbxml.Limits{MaxStringLength: 3})
			fail(doc, wbxml.Limits{MaxStringLength: 2}, 8) // at the STR_I token, like the OPAQUE limit
			ok(doc, wbxml.Limits{MaxOpaqueLength: 3})
			fail(doc, wbxml.Limits{MaxOpaqueLength: 2}, 15)
			ok(tableDoc, wbxml.Limits{MaxStringTableSize: 4})
			fail(tableDoc, wbxml.Limits{MaxStringTableSize: 3}, 3)
			// Negative values mean the default, like zero.
			ok(doc, wbxml.Limits{MaxDepth: -1, MaxDocumentSize: -1, MaxStringLength: -1, MaxOpaqueLength: -1, MaxStringTableSize: -1})
		})
	}
}

func TestDefaultLimits(t *testing.T) {
	assert.Equal(t, wbxml.Limits{
		MaxDepth:           64,
		MaxDocumentSize:    64 << 20,
		MaxStringLength:    16 << 20,
		MaxOpaqueLength:    32 << 20,
		MaxStringTableSize: 1 << 20,
	}, wbxml.DefaultLimits)
}

// TestDecodeHugeOpaqueClaim checks that a 4 GiB OPAQUE length in a 20-byte body is
// refused without allocating 4 GiB, whatever the input mode and even with the limit
// lifted out of the way.
func TestDecodeHugeOpaqueClaim(t *testing.T) {
	in := wbtDoc(append([]byte{0x00, 0x07, 0x56, 0x4C, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F}, bytes.Repeat([]byte{'z'}, 10)...)...)
	require.Less(t, len(in), 32)
	open := map[string]func() *wbxml.Decoder{
		"bytes":   func() *wbxml.Decoder { return wbxml.NewDecoderBytes(in) },
		"reader":  func() *wbxml.Decoder { return wbxml.NewDecoder(bytes.NewReader(in)) },
		"onebyte": func() *wbxml.Decoder { return wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(in))) },
	}
	for _, name := range []string{"bytes", "reader", "onebyte"} {
		t.Run(name, func(t *testing.T) {
			// Default limit: refused as too large, at the OPAQUE token.
			_, err := wbxml.ReadDocument(open[name]())
			requireSyntaxError(t, err, wbxml.ErrLimit, 8)

			// Limit raised to 1 TiB: refused as truncated.
			run := func() error {
				d := open[name]()
				d.Limits.MaxOpaqueLength = 1 << 40
				_, err := wbxml.ReadDocument(d)
				return err
			}
			err = run()
			// At the claim, in memory and streaming alike.
			requireSyntaxError(t, err, wbxml.ErrTruncated, 8)

			// And without allocating the claim: a decode allocates far below one MiB
			// (one 4 GiB allocation would show, and would likely fail). A streaming
			// Decoder may grow its window to 64 KiB ahead of a long token.
			const runs = 20
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < runs; i++ {
				require.Error(t, run())
			}
			runtime.ReadMemStats(&after)
			perRun := (after.TotalAlloc - before.TotalAlloc) / runs
			assert.Less(t, perRun, uint64(1<<20), "one decode allocated %d bytes", perRun)

			allocs := testing.AllocsPerRun(10, func() { _ = run() })
			assert.Less(t, allocs, 40.0, "allocations per decode")
		})
	}
}

// TestDecodeTruncatedAtEveryOffset cuts a real document at every length and checks
// each prefix fails as truncated, in bytes and in streaming mode, without panicking.
func TestDecodeTruncatedAtEveryOffset(t *testing.T) {
	docs := map[string][]byte{}
	if b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), "..", "shared", "captures", "sogo", "foldersync-initial.resp.wbxml")); err == nil {
		docs["sogo capture"] = b
	}
	gen, err := wbxml.Marshal(testutil.FolderSyncTree(12, 7, true))
	require.NoError(t, err)
	docs["generated"] = gen
	// A document with every body token kind: string table, STR_T, ENTITY, OPAQUE,
	// page switches and an empty element.
	docs["all tokens"] = []byte{
		0x03, 0x01, 0x6A, 0x04, 'a', 'b', 'c', 0x00,
		0x45,                   // Sync
		0x00, 0x11, 0x45, 0x46, // BodyPreference, Type
		0x83, 0x00, 0x02, 0x81, 0x69, 0x03, 'x', 0x00, 0x01, // STR_T, ENTITY, STR_I
		0x07, // empty TruncationSize (page 17, 0x07)
		0x01, 0x00, 0x00, 0x4C, 0xC3, 0x82, 0x00,
	}
	docs["all tokens"] = append(docs["all tokens"], bytes.Repeat([]byte{0xAB}, 256)...)
	docs["all tokens"] = append(docs["all tokens"], 0x01, 0x01)
	for name, full := range docs {
		t.Run(name, func(t *testing.T) {
			_, err := wbxml.Unmarshal(full)
			require.NoError(t, err, "the whole document decodes")
			for n := 0; n < len(full); n++ {
				prefix := full[:n:n]
				for _, m := range []wbtMode{wbtModes[0], wbtModes[2]} {
					var err error
					require.NotPanics(t, func() { _, err = wbxml.ReadDocument(m.open(prefix)) }, "prefix %d (%s)", n, m.name)
					require.Error(t, err, "prefix of %d bytes (%s)", n, m.name)
					require.ErrorIs(t, err, wbxml.ErrTruncated, "prefix of %d bytes (%s): %v", n, m.name, err)
					var se *wbxml.SyntaxError
					require.ErrorAs(t, err, &se)
					require.LessOrEqual(t, se.Offset, int64(n), "offset within the input")
				}
			}
		})
	}
}

func TestDecodeTokens(t *testing.T) {
	// <FolderSync><Status>1</Status><SyncKey/><Changes><Count>OPAQUE(AB CD)</Count></Changes></FolderSync>
	in := wbtDoc(
		0x00, 0x07, 0x56, // 4: SWITCH_PAGE 7, 6: FolderSync+content
		0x4C, 0x03, '1', 0x00, 0x01, // 7: Status, 8: STR_I "1", 11: END
		0x12,                   // 12: SyncKey without content
		0x4E,                   // 13: Changes
		0x57,                   // 14: Count
		0xC3, 0x02, 0xAB, 0xCD, // 15: OPAQUE
		0x01, 0x01, 0x01, // 19, 20, 21: END END END
	)
	want := []wbtTok{
		{wbxml.StartElement, wbtFolderSync, true, "", 6},
		{wbxml.StartElement, wbtFHStatus, true, "", 7},
		{wbxml.Text, wbxml.Tag{}, false, "1", 8},
		{wbxml.EndElement, wbtFHStatus, false, "", 11},
		{wbxml.StartElement, wbtFHSyncKey, false, "", 12},
		{wbxml.EndElement, wbtFHSyncKey, false, "", 12}, // synthetic
		{wbxml.StartElement, wbtFHChanges, true, "", 13},
		{wbxml.StartElement, wbtFHCount, true, "", 14},
		{wbxml.Opaque, wbxml.Tag{}, false, "\xAB\xCD", 15},
		{wbxml.EndElement, wbtFHCount, false, "", 19},
		{wbxml.EndElement, wbtFHChanges, false, "", 20},
		{wbxml.EndElement, wbtFolderSync, false, "", 21},
	}
	depths := []int{1, 2, 2, 1, 1, 1, 2, 3, 3, 2, 1, 0}
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			d := m.open(in)
			assert.Equal(t, 0, d.Depth())
			for i, w := range want {
				tok, err := d.Next()
				require.NoError(t, err, "token %d", i)
				got := wbtTok{tok.Kind, tok.Tag, tok.Content, string(tok.Data), tok.Offset}
				require.Equal(t, w, got, "token %d", i)
				assert.Equal(t, depths[i], d.Depth(), "depth after token %d", i)
			}
			assert.Equal(t, int64(len(in)), d.Offset())
			for i := 0; i < 3; i++ {
				_, err := d.Next()
				require.Equal(t, io.EOF, err, "io.EOF at the end, every time")
			}
			h, err := d.Header()
			require.NoError(t, err, "the header stays available after the end of the document")
			assert.Equal(t, byte(3), h.Version)
		})
	}
}

func TestDecodeTextForms(t *testing.T) {
	table := []byte{0x03, 0x01, 0x6A, 0x06, 'a', 'b', 0x00, 'c', 0x00, 0x00} // "ab", "c", ""
	cases := []struct {
		name string
		in   []byte
		text string
	}{
		{"STR_I", wbtDoc(0x00, 0x07, 0x56, 0x03, 'h', 'i', 0x00, 0x01), "hi"},
		{"STR_I UTF-8", wbtDoc(0x00, 0x07, 0x56, 0x03, 0xE5, 0x8F, 0x97, 0xF0, 0x9F, 0x93, 0x81, 0x00, 0x01), "受📁"},
		{"STR_T index 0", append(table, 0x00, 0x07, 0x56, 0x83, 0x00, 0x01), "ab"},
		{"STR_T inside an entry", append(table, 0x00, 0x07, 0x56, 0x83, 0x01, 0x01), "b"},
		{"STR_T second entry", append(table, 0x00, 0x07, 0x56, 0x83, 0x03, 0x01), "c"},
		{"STR_T STR_I STR_T merge", append(table, 0x00, 0x07, 0x56, 0x83, 0x03, 0x03, '-', 0x00, 0x83, 0x00, 0x01), "c-ab"},
		{"ENTITY U+00E9", wbtDoc(0x00, 0x07, 0x56, 0x02, 0x81, 0x69, 0x01), "é"},
		{"ENTITY U+0041", wbtDoc(0x00, 0x07, 0x56, 0x02, 0x41, 0x01), "A"},
		{"ENTITY U+1F600", wbtCat(wbtDoc(0x00, 0x07, 0x56, 0x02), wbtMb(0x1F600), []byte{0x01}), "😀"},
		{"ENTITY U+10FFFF", wbtCat(wbtDoc(0x00, 0x07, 0x56, 0x02), wbtMb(0x10FFFF), []byte{0x01}), "\U0010FFFF"},
		{"ENTITY U+FFFE", wbtCat(wbtDoc(0x00, 0x07, 0x56, 0x02), wbtMb(0xFFFE), []byte{0x01}), "\uFFFE"},
		{"ENTITY non-minimal mb_u_int32", wbtDoc(0x00, 0x07, 0x56, 0x02, 0x80, 0x80, 0x41, 0x01), "A"},
		{"STR_I and ENTITY merge", wbtDoc(0x00, 0x07, 0x56, 0x03, 'c', 'a', 'f', 0x00, 0x02, 0x81, 0x69, 0x01), "café"},
		{"two ENTITY in a row", wbtDoc(0x00, 0x07, 0x56, 0x02, 0x81, 0x69, 0x02, 0x81, 0x68, 0x01), "éè"},
	}
	for _, tc := range cases {
		for _, m := range wbtModes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				doc, err := wbxml.ReadDocument(m.open(tc.in))
				require.NoError(t, err)
				assert.Equal(t, tc.text, doc.Root.Text())
				require.Len(t, doc.Root.Children, 1, "adjacent text pieces merge into one node")
				assert.Equal(t, wbxml.TextNode, doc.Root.Children[0].Kind)
			})
		}
	}
}

func TestDecodeEmptyTextIsNotANode(t *testing.T) {
	// An empty STR_I, or a STR_T naming an empty table entry, carries no text: the
	// tree has no empty TextNode (which the Encoder could not write back).
	table := []byte{0x03, 0x01, 0x6A, 0x01, 0x00}
	for name, in := range map[string][]byte{
		"STR_I only":          wbtDoc(0x00, 0x07, 0x56, 0x03, 0x00, 0x01),
		"STR_T only":          append(table, 0x00, 0x07, 0x56, 0x83, 0x00, 0x01),
		"STR_I between elems": wbtDoc(0x00, 0x07, 0x56, 0x12, 0x03, 0x00, 0x12, 0x01),
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := wbxml.Unmarshal(in)
			require.NoError(t, err)
			for _, c := range doc.Root.Children {
				assert.NotEqual(t, wbxml.TextNode, c.Kind, "no empty text node")
			}
			out, err := wbxml.Marshal(doc.Root)
			require.NoError(t, err)
			again, err := wbxml.Unmarshal(out)
			require.NoError(t, err)
			assert.Equal(t, doc.Root, again.Root)
		})
	}
}

func TestDecodeHeader(t *testing.T) {
	body := []byte{0x00, 0x07, 0x16}
	cases := []struct {
		name string
		in   []byte
		want wbxml.Header
	}{
		{"canonical", wbtDoc(body...), wbxml.Header{Version: 3, PublicID: 1, Charset: 106, StringTable: []byte{}}},
		{"WBXML 1.1", append([]byte{0x01, 0x01, 0x6A, 0x00}, body...), wbxml.Header{Version: 1, PublicID: 1, Charset: 106, StringTable: []byte{}}},
		{"WBXML 1.2", append([]byte{0x02, 0x01, 0x6A, 0x00}, body...), wbxml.Header{Version: 2, PublicID: 1, Charset: 106, StringTable: []byte{}}},
		{"public id 0xFFFFFFFF", append([]byte{0x03, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x6A, 0x00}, body...), wbxml.Header{Version: 3, PublicID: 0xFFFFFFFF, Charset: 106, StringTable: []byte{}}},
		{"public id non-minimal", append([]byte{0x03, 0x80, 0x80, 0x01, 0x6A, 0x00}, body...), wbxml.Header{Version: 3, PublicID: 1, Charset: 106, StringTable: []byte{}}},
		{"charset non-minimal", append([]byte{0x03, 0x01, 0x80, 0x6A, 0x00}, body...), wbxml.Header{Version: 3, PublicID: 1, Charset: 106, StringTable: []byte{}}},
		{"public id in the string table", append([]byte{0x03, 0x00, 0x00, 0x6A, 0x04, 'a', 'b', 'c', 0x00}, body...),
			wbxml.Header{Version: 3, PublicID: 0, PublicIDString: "abc", Charset: 106, StringTable: []byte("abc\x00")}},
		{"public id at a later string", append([]byte{0x03, 0x00, 0x02, 0x6A, 0x06, 'x', 0x00, 'I', 'D', 0x00, 'z'}, body...),
			wbxml.Header{Version: 3, PublicID: 0, PublicIDString: "ID", Charset: 106, StringTable: []byte("x\x00ID\x00z")}},
		{"public id empty string", append([]byte{0x03, 0x00, 0x00, 0x6A, 0x01, 0x00}, body...),
			wbxml.Header{Version: 3, PublicID: 0, PublicIDString: "", Charset: 106, StringTable: []byte{0}}},
	}
	for _, tc := range cases {
		for _, m := range wbtModes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				d := m.open(tc.in)
				h, err := d.Header()
				require.NoError(t, err)
				assert.Equal(t, tc.want, h)
				h2, err := d.Header()
				require.NoError(t, err)
				assert.Equal(t, h, h2, "Header is idempotent")
				toks, err := wbtDrain(d, len(tc.in))
				require.NoError(t, err)
				assert.Len(t, toks, 2)
			})
		}
	}
	t.Run("Header before Next is optional", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(body...))
		tok, err := d.Next()
		require.NoError(t, err)
		assert.Equal(t, wbtFolderSync, tok.Tag)
		h, err := d.Header()
		require.NoError(t, err)
		assert.Equal(t, byte(3), h.Version)
	})
	t.Run("Header after a body error", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x01))
		_, err := d.Next()
		requireSyntaxError(t, err, wbxml.ErrStructure, 4)
		h, err := d.Header()
		require.NoError(t, err, "the header was fine")
		assert.Equal(t, uint32(106), h.Charset)
	})
	t.Run("Header error is sticky", func(t *testing.T) {
		d := wbxml.NewDecoderBytes([]byte{0x03, 0x01, 0x04, 0x00})
		_, err := d.Header()
		requireSyntaxError(t, err, wbxml.ErrUnsupportedCharset, 2)
		_, err2 := d.Next()
		assert.Same(t, err, err2)
		_, err3 := d.Header()
		assert.Same(t, err, err3)
	})
	t.Run("Document.Header", func(t *testing.T) {
		doc, err := wbxml.Unmarshal(append([]byte{0x03, 0x00, 0x00, 0x6A, 0x02, 'P', 0x00}, body...))
		require.NoError(t, err)
		assert.Equal(t, "P", doc.Header.PublicIDString)
	})
}

func TestDecodeStreamingStringTableOutlivesWindow(t *testing.T) {
	// In streaming mode the buffer slides; the string table and STR_T text must not
	// be overwritten by later input.
	var in []byte
	in = append(in, 0x03, 0x01, 0x6A)
	table := []byte("first\x00second\x00")
	in = append(in, wbtMb(uint32(len(table)))...)
	in = append(in, table...)
	in = append(in, 0x00, 0x07, 0x56)
	long := strings.Repeat("L", 100000)
	var want strings.Builder
	for i := 0; i < 5; i++ {
		in = append(in, 0x47, 0x03) // DisplayName, STR_I
		in = append(in, long...)
		in = append(in, 0x00, 0x83, 0x06, 0x01) // STR_T "second", END
		want.WriteString(long + "second")
	}
	in = append(in, 0x01)
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			d := m.open(in)
			doc, err := wbxml.ReadDocument(d)
			require.NoError(t, err)
			var got strings.Builder
			for _, c := range doc.Root.Children {
				got.WriteString(c.Text())
			}
			assert.Equal(t, want.String(), got.String())
			assert.Equal(t, table, doc.Header.StringTable)
		})
	}
}

func TestDecodeLargeValuesStreaming(t *testing.T) {
	// Values far larger than the initial window: the buffer must grow as data
	// arrives and hand out the value intact.
	opaque := make([]byte, 300000)
	for i := range opaque {
		opaque[i] = byte(i * 7)
	}
	text := strings.Repeat("Grüße ", 40000)
	n := wbxml.NewElement(wbtSync,
		wbxml.NewOpaqueElement(wbtClientID, opaque),
		wbxml.NewTextElement(wbtSyncKey, text),
	)
	in, err := wbxml.Marshal(n)
	require.NoError(t, err)
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			doc, err := wbxml.ReadDocument(m.open(in))
			require.NoError(t, err)
			assert.Equal(t, n, doc.Root)
		})
	}
}

func TestDecodeReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	doc := wbtDoc(0x00, 0x07, 0x56, 0x4C, 0x03, '1', 0x00, 0x01, 0x01)

	t.Run("error at once", func(t *testing.T) {
		d := wbxml.NewDecoder(iotest.ErrReader(boom))
		_, err := d.Header()
		require.ErrorIs(t, err, boom)
		var se *wbxml.SyntaxError
		assert.False(t, errors.As(err, &se), "an I/O error is not a syntax error")
	})
	t.Run("error mid-document", func(t *testing.T) {
		d := wbxml.NewDecoder(io.MultiReader(bytes.NewReader(doc[:8]), iotest.ErrReader(boom)))
		toks, err := wbtDrain(d, len(doc))
		require.ErrorIs(t, err, boom)
		assert.Contains(t, err.Error(), "offset 8")
		assert.NotEmpty(t, toks)
		_, err2 := d.Next()
		assert.Same(t, err, err2, "sticky")
	})
	t.Run("timeout", func(t *testing.T) {
		d := wbxml.NewDecoder(iotest.TimeoutReader(bytes.NewReader(doc)))
		_, err := wbtDrain(d, len(doc))
		require.ErrorIs(t, err, iotest.ErrTimeout)
	})
	t.Run("data with EOF", func(t *testing.T) {
		d := wbxml.NewDecoder(iotest.DataErrReader(bytes.NewReader(doc)))
		toks, err := wbtDrain(d, len(doc))
		require.NoError(t, err)
		assert.Len(t, toks, 5)
	})
	t.Run("document then EOF error with data", func(t *testing.T) {
		d := wbxml.NewDecoder(iotest.DataErrReader(iotest.OneByteReader(bytes.NewReader(doc))))
		_, err := wbtDrain(d, len(doc))
		require.NoError(t, err)
	})
}

func TestDecodeSkip(t *testing.T) {
	in := wbtDoc(
		0x00, 0x07, 0x56, // FolderSync
		0x4C, 0x03, '1', 0x00, 0x01, // Status "1"
		0x12,                                                                             // SyncKey (empty)
		0x4E, 0x57, 0x03, '2', 0x00, 0x01, 0x4F, 0x48, 0x03, 'x', 0x00, 0x01, 0x01, 0x01, // Changes
		0x4C, 0x03, '9', 0x00, 0x01, // Status "9"
		0x01,
	)
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			d := m.open(in)
			next := func() wbtTok {
				t.Helper()
				tok, err := d.Next()
				require.NoError(t, err)
				return wbtTok{tok.Kind, tok.Tag, tok.Content, string(tok.Data), tok.Offset}
			}
			assert.Equal(t, wbtFolderSync, next().Tag)
			assert.Equal(t, wbtFHStatus, next().Tag)
			require.NoError(t, d.Skip()) // rest of Status
			tok := next()
			assert.Equal(t, wbtTok{wbxml.StartElement, wbtFHSyncKey, false, "", 12}, tok)
			require.NoError(t, d.Skip()) // the synthetic EndElement of SyncKey
			tok = next()
			assert.Equal(t, wbtFHChanges, tok.Tag)
			require.NoError(t, d.Skip()) // Changes with nested elements
			assert.Equal(t, 1, d.Depth())
			tok = next()
			assert.Equal(t, wbtTok{wbxml.StartElement, wbtFHStatus, true, "", 27}, tok)
			assert.Equal(t, "9", next().Data)
			assert.Equal(t, wbxml.EndElement, next().Kind)
			tok = next()
			assert.Equal(t, wbtTok{wbxml.EndElement, wbtFolderSync, false, "", int64(len(in) - 1)}, tok)
			_, err := d.Next()
			assert.Equal(t, io.EOF, err)
		})
	}
	t.Run("skip the root", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(in)
		_, err := d.Next()
		require.NoError(t, err)
		require.NoError(t, d.Skip())
		_, err = d.Next()
		assert.Equal(t, io.EOF, err)
	})
	t.Run("skip into a malformed element", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x4C, 0x03, 0xFF, 0x00, 0x01, 0x01))
		_, err := d.Next()
		require.NoError(t, err)
		err = d.Skip()
		requireSyntaxError(t, err, wbxml.ErrInvalidUTF8, 9)
	})
	t.Run("skip into a truncated element", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x4C, 0x03, '1', 0x00))
		_, err := d.Next()
		require.NoError(t, err)
		err = d.Skip()
		requireSyntaxError(t, err, wbxml.ErrTruncated, 11)
	})
}

func TestDecodeAllowUnknownTags(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		tags []wbxml.Tag
	}{
		{"undefined token on a known page", wbtDoc(0x00, 0x07, 0x4B, 0x01), []wbxml.Tag{{Page: 7, Token: 0x0B}}},
		{"AirNotify", wbtDoc(0x00, 0x03, 0x45, 0x06, 0x01), []wbxml.Tag{{Page: 3, Token: 5}, {Page: 3, Token: 6}}},
		{"page 26", wbtDoc(0x00, 26, 0x05), []wbxml.Tag{{Page: 26, Token: 5}}},
		{"page 255 token 0x3F", wbtDoc(0x00, 255, 0x7F, 0x00, 0x07, 0x16, 0x01), []wbxml.Tag{{Page: 255, Token: 0x3F}, wbtFolderSync}},
	}
	for _, tc := range cases {
		for _, m := range wbtModes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				_, err := wbxml.ReadDocument(m.open(tc.in))
				require.Error(t, err, "rejected by default")

				d := m.open(tc.in)
				d.AllowUnknownTags = true
				toks, err := wbtDrain(d, len(tc.in))
				require.NoError(t, err)
				var starts []wbxml.Tag
				for _, tok := range toks {
					if tok.Kind == wbxml.StartElement {
						starts = append(starts, tok.Tag)
					}
				}
				assert.Equal(t, tc.tags, starts)
			})
		}
	}
	t.Run("unknown tag names", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x0B))
		d.AllowUnknownTags = true
		tok, err := d.Next()
		require.NoError(t, err)
		assert.False(t, tok.Tag.Known())
		assert.Equal(t, "page 7 token 0x0B", tok.Tag.String())
		assert.Equal(t, "", tok.Tag.Name())
		assert.Equal(t, "FolderHierarchy", tok.Tag.Namespace())
	})
	t.Run("still no attributes or literals", func(t *testing.T) {
		for _, b := range []byte{0xC5, 0x85, 0x04, 0x43, 0xC0} {
			d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x30, b, 0x01))
			d.AllowUnknownTags = true
			_, err := wbtDrain(d, 8)
			requireSyntaxError(t, err, wbxml.ErrUnsupportedToken, 6)
		}
	})
}

// TestDecodeCapturesStreamingMatchesBytes decodes every capture in bytes mode and in
// three streaming modes: the tokens (kind, tag, content flag, data, offset), the
// header and the final error must be identical.
func TestDecodeCapturesStreamingMatchesBytes(t *testing.T) {
	testutil.SharedDir(t)
	files := wbtSharedCaptureFiles(t)
	require.NotEmpty(t, files)
	var docs, tokens int
	for rel, data := range files {
		t.Run(rel, func(t *testing.T) {
			for _, allow := range []bool{false, true} {
				open := func(m wbtMode) *wbxml.Decoder {
					d := m.open(data)
					d.AllowUnknownTags = allow
					return d
				}
				ref := open(wbtModes[0])
				refToks, refErr := wbtDrain(ref, len(data))
				refHdr, refHdrErr := ref.Header()
				for _, m := range wbtModes[1:] {
					d := open(m)
					toks, err := wbtDrain(d, len(data))
					require.Equal(t, refToks, toks, "%s tokens (AllowUnknownTags %v)", m.name, allow)
					if refErr == nil {
						require.NoError(t, err, m.name)
					} else {
						var a, b *wbxml.SyntaxError
						require.ErrorAs(t, refErr, &a)
						require.ErrorAs(t, err, &b, m.name)
						assert.Equal(t, *a, *b, "%s error", m.name)
					}
					hdr, hdrErr := d.Header()
					assert.Equal(t, refHdrErr == nil, hdrErr == nil)
					assert.Equal(t, refHdr, hdr)
				}
				if refErr == nil && !allow {
					docs++
					tokens += len(refToks)
				}
			}
		})
	}
	t.Logf("%d captures, %d of them ActiveSync documents with %d tokens, identical in all modes", len(files), docs, tokens)
}

// TestDecodeSharedFolderSyncCapture reads a real FolderSync response through the tree API.
func TestDecodeSharedFolderSyncCapture(t *testing.T) {
	dir := testutil.SharedDir(t)
	in, err := os.ReadFile(filepath.Join(dir, "captures", "sogo", "foldersync-initial.resp.wbxml"))
	require.NoError(t, err)
	doc, err := wbxml.Unmarshal(in)
	require.NoError(t, err)
	assert.Equal(t, wbtFolderSync, doc.Root.Tag)
	assert.Equal(t, "1", doc.Root.Child(wbtFHStatus).Text())
	assert.Equal(t, "vm_2061_30b25ace_0", doc.Root.Child(wbtFHSyncKey).Text())
	changes := doc.Root.Child(wbtFHChanges)
	require.NotNil(t, changes)
	assert.Equal(t, "9", changes.Child(wbtFHCount).Text())
	adds := changes.Elements(wbxml.MustTag("FolderHierarchy", "Add"))
	require.Len(t, adds, 9)
	assert.Equal(t, "INBOX", adds[0].Child(wbxml.MustTag("FolderHierarchy", "DisplayName")).Text())
	assert.Nil(t, doc.Root.Child(wbtSync))
	assert.Empty(t, doc.Root.Elements(wbtSync))
}

func TestDecodeReadTokenReuse(t *testing.T) {
	// One Token reused across ReadToken calls: a data-less token must not keep the
	// previous token's Data.
	in := wbtDoc(0x00, 0x07, 0x56, 0x4C, 0x03, 'a', 0x00, 0x01, 0x12, 0x4E, 0xC3, 0x01, 0x07, 0x01, 0x01)
	for _, m := range wbtModes {
		t.Run(m.name, func(t *testing.T) {
			want, err := wbtDrain(m.open(in), len(in))
			require.NoError(t, err)
			d := m.open(in)
			var tok wbxml.Token
			var got []wbtTok
			for {
				err := d.ReadToken(&tok)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				if tok.Kind == wbxml.StartElement || tok.Kind == wbxml.EndElement {
					assert.Nil(t, tok.Data, "%v carries no data", tok.Kind)
				}
				got = append(got, wbtTok{tok.Kind, tok.Tag, tok.Content, string(tok.Data), tok.Offset})
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestDecodeReadElementText(t *testing.T) {
	table := []byte{0x03, 0x01, 0x6A, 0x04, 'a', 'b', 'c', 0x00}
	cases := []struct {
		name string
		in   []byte // <FolderSync><DisplayName>...</DisplayName><Count/></FolderSync>: the DisplayName content
		text string
	}{
		{"one STR_I", wbtDoc(0x03, 'I', 'n', 'b', 'o', 'x', 0x00), "Inbox"},
		{"empty content", wbtDoc(), ""},
		{"empty STR_I", wbtDoc(0x03, 0x00), ""},
		{"two STR_I", wbtDoc(0x03, 'a', 0x00, 0x03, 'b', 0x00), "ab"},
		{"two ENTITY", wbtDoc(0x02, 0x81, 0x69, 0x02, 0x81, 0x68), "éè"},
		{"STR_I ENTITY STR_I", wbtDoc(0x03, 'c', 'a', 'f', 0x00, 0x02, 0x81, 0x69, 0x03, '!', 0x00), "café!"},
		{"STR_T", append(append([]byte{}, table...), 0x83, 0x01), "bc"},
		{"STR_T STR_T", append(append([]byte{}, table...), 0x83, 0x00, 0x83, 0x02), "abcc"},
		{"OPAQUE", wbtDoc(0xC3, 0x02, 'o', 'k'), "ok"},
		{"non-ASCII STR_I", wbtDoc(0x03, 0xE5, 0x8F, 0x97, 0x00), "受"},
	}
	for _, tc := range cases {
		// Wrap the content: FolderSync > DisplayName(content) > ... END, Count(empty), END.
		body := append([]byte{}, tc.in...)
		header := body[:4]
		if body[3] != 0x00 {
			header = body[:8]
		}
		content := body[len(header):]
		doc := append(append([]byte{}, header...), 0x00, 0x07, 0x56, 0x47)
		doc = append(doc, content...)
		doc = append(doc, 0x01, 0x17, 0x01)
		for _, m := range wbtModes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				d := m.open(doc)
				tok, err := d.Next()
				require.NoError(t, err)
				require.Equal(t, wbtFolderSync, tok.Tag)
				tok, err = d.Next()
				require.NoError(t, err)
				require.Equal(t, fh("DisplayName"), tok.Tag)
				got, err := d.ReadElementText()
				require.NoError(t, err)
				assert.Equal(t, tc.text, string(got))
				assert.Equal(t, 1, d.Depth())

				tok, err = d.Next()
				require.NoError(t, err)
				require.Equal(t, wbtFHCount, tok.Tag)
				require.False(t, tok.Content)
				got, err = d.ReadElementText() // content-less: the synthetic END
				require.NoError(t, err)
				assert.Empty(t, got)

				tok, err = d.Next()
				require.NoError(t, err)
				assert.Equal(t, wbxml.EndElement, tok.Kind)
				assert.Equal(t, wbtFolderSync, tok.Tag)
				_, err = d.Next()
				assert.Equal(t, io.EOF, err)
			})
		}
	}
	t.Run("root text", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x03, 'x', 0x00, 0x01))
		_, err := d.Next()
		require.NoError(t, err)
		got, err := d.ReadElementText()
		require.NoError(t, err)
		assert.Equal(t, "x", string(got))
		_, err = d.Next()
		assert.Equal(t, io.EOF, err)
	})
	t.Run("child element", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x03, 'x', 0x00, 0x52, 0x01, 0x01))
		_, err := d.Next()
		require.NoError(t, err)
		_, err = d.ReadElementText()
		requireSyntaxError(t, err, wbxml.ErrStructure, 10)
		_, err2 := d.Next()
		assert.Same(t, err, err2, "sticky")
	})
	t.Run("malformed text", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x03, 'x', 0xFF, 0x00, 0x01))
		_, err := d.Next()
		require.NoError(t, err)
		_, err = d.ReadElementText()
		requireSyntaxError(t, err, wbxml.ErrInvalidUTF8, 9)
	})
	t.Run("truncated", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x03, 'x', 0x00))
		_, err := d.Next()
		require.NoError(t, err)
		_, err = d.ReadElementText()
		requireSyntaxError(t, err, wbxml.ErrTruncated, 10)
	})
	t.Run("STR_I over MaxStringLength", func(t *testing.T) {
		d := wbxml.NewDecoderBytes(wbtDoc(0x00, 0x07, 0x56, 0x03, 'a', 'b', 'c', 0x00, 0x01))
		d.Limits.MaxStringLength = 2
		_, err := d.Next()
		require.NoError(t, err)
		_, err = d.ReadElementText()
		requireSyntaxError(t, err, wbxml.ErrLimit, 7) // at the STR_I token
	})
}

func TestDecodeRemaining(t *testing.T) {
	in := wbtDoc(0x00, 0x07, 0x56, 0x01)
	d := wbxml.NewDecoderBytes(in)
	assert.Equal(t, int64(len(in)), d.Remaining())
	_, err := d.Next()
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Remaining())
	_, err = d.Next()
	require.NoError(t, err)
	assert.Equal(t, int64(0), d.Remaining())
	assert.Equal(t, int64(-1), wbxml.NewDecoder(bytes.NewReader(in)).Remaining())
}

// Review finding: ReadDocument on a Decoder that already returned tokens used to
// panic; it is now an error.
func TestReadDocumentAfterTokensIsAnError(t *testing.T) {
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01}
	d := wbxml.NewDecoderBytes(body)
	_, err := d.Next()
	require.NoError(t, err)
	_, err = wbxml.ReadDocument(d)
	requireSyntaxError(t, err, wbxml.ErrStructure, 7)

	d = wbxml.NewDecoderBytes([]byte{0x03, 0x01, 0x6A, 0x00, 0x45})
	_, err = d.Next() // a content-less root: its EndElement is pending
	require.NoError(t, err)
	_, err = wbxml.ReadDocument(d)
	assert.ErrorIs(t, err, wbxml.ErrStructure)
}
