package wbxml_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/wbxml"
)

// encStep is one call on an Encoder.
type encStep func(e *wbxml.Encoder) error

func encStart(t wbxml.Tag) encStep { return func(e *wbxml.Encoder) error { return e.StartElement(t) } }
func encEnd() encStep              { return func(e *wbxml.Encoder) error { return e.EndElement() } }
func encText(s string) encStep     { return func(e *wbxml.Encoder) error { return e.TextString(s) } }
func encBytes(b []byte) encStep    { return func(e *wbxml.Encoder) error { return e.Text(b) } }
func encOpaque(b []byte) encStep   { return func(e *wbxml.Encoder) error { return e.Opaque(b) } }

// encRun applies the steps and closes the encoder, failing the test on any error.
func encRun(t *testing.T, steps ...encStep) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := wbxml.NewEncoder(&buf)
	for i, s := range steps {
		require.NoError(t, s(e), "step %d", i)
	}
	require.NoError(t, e.Close())
	return buf.Bytes()
}

func TestEncodeExactBytes(t *testing.T) {
	fhAdd := wbxml.MustTag("FolderHierarchy", "Add")
	fhDisplayName := wbxml.MustTag("FolderHierarchy", "DisplayName")
	cases := []struct {
		name  string
		steps []encStep
		want  []byte
	}{
		{
			name:  "empty root on page 7",
			steps: []encStep{encStart(wbtFolderSync), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x16},
		},
		{
			name:  "empty root on page 0: no SWITCH_PAGE",
			steps: []encStep{encStart(wbtSync), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x05},
		},
		{
			name:  "FolderSync request SyncKey 0",
			steps: []encStep{encStart(wbtFolderSync), encStart(wbtFHSyncKey), encText("0"), encEnd(), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01},
		},
		{
			name: "empty text writes nothing and sets no content flag",
			steps: []encStep{
				encStart(wbtFolderSync),
				encStart(wbtFHSyncKey), encText(""), encBytes(nil), encBytes([]byte{}), encEnd(),
				encEnd(),
			},
			want: []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x12, 0x01},
		},
		{
			name: "empty text on the root",
			steps: []encStep{
				encStart(wbtFolderSync), encText(""), encEnd(),
			},
			want: []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x16},
		},
		{
			name: "content flag only with content",
			steps: []encStep{
				encStart(wbtFolderSync),
				encStart(wbtFHStatus), encEnd(), // no content
				encStart(wbtFHChanges), encStart(wbtFHCount), encText("1"), encEnd(), encEnd(), // content
				encEnd(),
			},
			want: []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x0C, 0x4E, 0x57, 0x03, '1', 0x00, 0x01, 0x01, 0x01},
		},
		{
			name: "SWITCH_PAGE only on change, and back",
			steps: []encStep{
				encStart(wbtSync), // page 0: the initial page, no switch
				encStart(wbtSyncKey), encText("1"), encEnd(),
				encStart(wbtBodyPref), // page 17
				encStart(wbtBodyPrefTyp), encText("2"), encEnd(),
				encEnd(),
				encStart(wbtWindowSize), encText("5"), encEnd(), // back to page 0
				encStart(wbtCollection), encEnd(), // still page 0
				encEnd(),
			},
			want: []byte{
				0x03, 0x01, 0x6A, 0x00,
				0x45,
				0x4B, 0x03, '1', 0x00, 0x01,
				0x00, 0x11, 0x45,
				0x46, 0x03, '2', 0x00, 0x01,
				0x01,
				0x00, 0x00, 0x55, 0x03, '5', 0x00, 0x01,
				0x0F,
				0x01,
			},
		},
		{
			name: "switching to the same page twice in a row writes one SWITCH_PAGE",
			steps: []encStep{
				encStart(wbtFolderSync),
				encStart(fhAdd), encStart(fhDisplayName), encText("x"), encEnd(), encEnd(),
				encStart(fhAdd), encEnd(),
				encEnd(),
			},
			want: []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x4F, 0x47, 0x03, 'x', 0x00, 0x01, 0x01, 0x0F, 0x01},
		},
		{
			name:  "UTF-8 text is written as is",
			steps: []encStep{encStart(wbtFolderSync), encStart(fhDisplayName), encText("Éléments 受信 📁"), encEnd(), encEnd()},
			want:  append(append([]byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x47, 0x03}, "Éléments 受信 📁"...), 0x00, 0x01, 0x01),
		},
		{
			name:  "two text pieces are two STR_I",
			steps: []encStep{encStart(wbtSync), encText("a"), encBytes([]byte("b")), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, 'a', 0x00, 0x03, 'b', 0x00, 0x01},
		},
		{
			name:  "mixed content",
			steps: []encStep{encStart(wbtSync), encText("a"), encStart(wbtSyncKey), encEnd(), encOpaque([]byte{9}), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x03, 'a', 0x00, 0x0B, 0xC3, 0x01, 0x09, 0x01},
		},
		{
			name:  "OPAQUE of length 0",
			steps: []encStep{encStart(wbtSync), encStart(wbtClientID), encOpaque(nil), encEnd(), encEnd()},
			want:  []byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x4C, 0xC3, 0x00, 0x01, 0x01},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, encRun(t, tc.steps...))
		})
	}
}

func TestEncodeOpaqueLengths(t *testing.T) {
	for _, tc := range []struct {
		n      int
		length []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x01}},
		{127, []byte{0x7F}},
		{128, []byte{0x81, 0x00}},
		{300, []byte{0x82, 0x2C}},
		{16383, []byte{0xFF, 0x7F}},
		{16384, []byte{0x81, 0x80, 0x00}},
		{1 << 21, []byte{0x81, 0x80, 0x80, 0x00}},
	} {
		data := bytes.Repeat([]byte{0xA5}, tc.n)
		got := encRun(t, encStart(wbtSync), encStart(wbtClientID), encOpaque(data), encEnd(), encEnd())
		want := wbtCat([]byte{0x03, 0x01, 0x6A, 0x00, 0x45, 0x4C, 0xC3}, tc.length, data, []byte{0x01, 0x01})
		require.Equal(t, want, got, "length %d", tc.n)
		assert.Equal(t, tc.length, wbtMb(uint32(tc.n)))

		doc, err := wbxml.Unmarshal(got)
		require.NoError(t, err)
		assert.Equal(t, data, []byte(doc.Root.Children[0].Text()))
		assert.Equal(t, wbxml.OpaqueNode, doc.Root.Children[0].Children[0].Kind)
	}
}

func TestEncodeMarshalMatchesEncoder(t *testing.T) {
	tree := wbxml.NewElement(wbtSync,
		wbxml.NewTextElement(wbtSyncKey, "1"),
		wbxml.NewElement(wbtBodyPref, wbxml.NewTextElement(wbtBodyPrefTyp, "2")),
		wbxml.NewTextElement(wbtWindowSize, ""), // empty text: no child at all
		wbxml.NewOpaqueElement(wbtClientID, []byte{1, 2}),
	)
	got, err := wbxml.Marshal(tree)
	require.NoError(t, err)
	want := encRun(t,
		encStart(wbtSync),
		encStart(wbtSyncKey), encText("1"), encEnd(),
		encStart(wbtBodyPref), encStart(wbtBodyPrefTyp), encText("2"), encEnd(), encEnd(),
		encStart(wbtWindowSize), encEnd(),
		encStart(wbtClientID), encOpaque([]byte{1, 2}), encEnd(),
		encEnd(),
	)
	assert.Equal(t, want, got)
	assert.Nil(t, wbxml.NewTextElement(wbtWindowSize, "").Children)

	// EncodeNode onto an existing Encoder is what Marshal does.
	var buf bytes.Buffer
	e := wbxml.NewEncoder(&buf)
	e.Grow(len(want))
	require.NoError(t, wbxml.EncodeNode(e, tree))
	require.NoError(t, e.Close())
	assert.Equal(t, want, buf.Bytes())
}

func TestEncodeTokenRoundTrip(t *testing.T) {
	// Tokens from the Decoder, fed back through EncodeToken, give the same bytes;
	// the synthetic EndElement of a content-less start tag is passed too.
	in := wbtDoc(
		0x00, 0x07, 0x56,
		0x4C, 0x03, '1', 0x00, 0x01,
		0x12,
		0x4E, 0x57, 0xC3, 0x02, 0xAB, 0xCD, 0x01, 0x01,
		0x00, 0x11, 0x4A, 0x03, 'b', 0x00, 0x01, // AirSyncBase:Body
		0x01,
	)
	d := wbxml.NewDecoderBytes(in)
	var buf bytes.Buffer
	e := wbxml.NewEncoder(&buf)
	for {
		tok, err := d.Next()
		if err != nil {
			require.Equal(t, "EOF", err.Error())
			break
		}
		require.NoError(t, e.EncodeToken(tok))
	}
	require.NoError(t, e.Close())
	assert.Equal(t, in, buf.Bytes())

	t.Run("unknown kind", func(t *testing.T) {
		e := wbxml.NewEncoder(&bytes.Buffer{})
		require.NoError(t, e.StartElement(wbtSync))
		err := e.EncodeToken(wbxml.Token{Kind: wbxml.Kind(42)})
		requireEncodeError(t, err, wbxml.ErrInvalidInput)
		assert.Same(t, err, e.EndElement(), "sticky")
	})
}

// requireEncodeError checks err is a *wbxml.EncodeError of the kind.
func requireEncodeError(t *testing.T, err error, kind error) *wbxml.EncodeError {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, kind, "error %q", err)
	var ee *wbxml.EncodeError
	require.True(t, errors.As(err, &ee), "want a *wbxml.EncodeError, got %T", err)
	assert.Same(t, kind, ee.Err)
	assert.True(t, strings.HasPrefix(ee.Error(), "wbxml: encode: "), ee.Error())
	assert.Equal(t, "wbxml: encode: "+ee.Msg, ee.Error())
	var se *wbxml.SyntaxError
	assert.False(t, errors.As(err, &se), "an encode error is not a syntax error")
	return ee
}

func TestEncodeErrors(t *testing.T) {
	open := []encStep{encStart(wbtFolderSync)}
	done := []encStep{encStart(wbtFolderSync), encEnd()}
	cases := []struct {
		name  string
		allow bool
		setup []encStep
		fail  encStep // the call that must fail (nil: Close)
		kind  error
	}{
		{name: "unknown tag on a known page", fail: encStart(wbxml.Tag{Page: 7, Token: 0x0B}), kind: wbxml.ErrUnknownTag},
		{name: "tag on AirNotify", fail: encStart(wbxml.Tag{Page: 3, Token: 0x05}), kind: wbxml.ErrUnknownTag},
		{name: "tag on page 26", fail: encStart(wbxml.Tag{Page: 26, Token: 0x05}), kind: wbxml.ErrUnknownTag},
		{name: "zero Tag", fail: encStart(wbxml.Tag{}), kind: wbxml.ErrUnknownTag},
		{name: "unknown child tag", setup: open, fail: encStart(wbxml.Tag{Page: 7, Token: 0x3F}), kind: wbxml.ErrUnknownTag},
		{name: "global token as tag with AllowUnknownTags", allow: true, fail: encStart(wbxml.Tag{Page: 7, Token: 0x04}), kind: wbxml.ErrInvalidInput},
		{name: "token 0 with AllowUnknownTags", allow: true, fail: encStart(wbxml.Tag{Page: 0, Token: 0x00}), kind: wbxml.ErrInvalidInput},
		{name: "token with flag bits with AllowUnknownTags", allow: true, fail: encStart(wbxml.Tag{Page: 7, Token: 0x56}), kind: wbxml.ErrInvalidInput},
		{name: "text with NUL", setup: open, fail: encText("a\x00b"), kind: wbxml.ErrInvalidInput},
		{name: "text bytes with NUL", setup: open, fail: encBytes([]byte{0}), kind: wbxml.ErrInvalidInput},
		{name: "text not UTF-8", setup: open, fail: encText("a\xffb"), kind: wbxml.ErrInvalidUTF8},
		{name: "text bytes not UTF-8", setup: open, fail: encBytes([]byte{0xC0, 0x80}), kind: wbxml.ErrInvalidUTF8},
		{name: "text encoded surrogate", setup: open, fail: encText("\xed\xa0\x80"), kind: wbxml.ErrInvalidUTF8},
		{name: "text before the root", fail: encText("x"), kind: wbxml.ErrStructure},
		{name: "text after the root", setup: done, fail: encText("x"), kind: wbxml.ErrStructure},
		{name: "opaque before the root", fail: encOpaque([]byte{1}), kind: wbxml.ErrStructure},
		{name: "empty opaque before the root", fail: encOpaque(nil), kind: wbxml.ErrStructure},
		{name: "opaque after the root", setup: done, fail: encOpaque([]byte{1}), kind: wbxml.ErrStructure},
		{name: "second root", setup: done, fail: encStart(wbtFolderSync), kind: wbxml.ErrStructure},
		{name: "second root after a content-less root", setup: []encStep{encStart(wbtSync), encEnd()}, fail: encStart(wbtSync), kind: wbxml.ErrStructure},
		{name: "second root after a root with content", setup: []encStep{encStart(wbtSync), encText("x"), encEnd()}, fail: encStart(wbtSync), kind: wbxml.ErrStructure},
		{name: "EndElement with nothing open", fail: encEnd(), kind: wbxml.ErrStructure},
		{name: "EndElement after the root", setup: done, fail: encEnd(), kind: wbxml.ErrStructure},
		{name: "Close with the root pending", setup: open, kind: wbxml.ErrStructure},
		{name: "Close with elements open", setup: []encStep{encStart(wbtFolderSync), encStart(wbtFHChanges), encText("x")}, kind: wbxml.ErrStructure},
		{name: "Close on an empty document", kind: wbxml.ErrStructure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := wbxml.NewEncoder(&buf)
			e.AllowUnknownTags = tc.allow
			for i, s := range tc.setup {
				require.NoError(t, s(e), "setup step %d", i)
			}
			var err error
			if tc.fail != nil {
				err = tc.fail(e)
			} else {
				err = e.Close()
			}
			requireEncodeError(t, err, tc.kind)

			// Sticky: every later call returns the very same error, and nothing
			// more is written.
			assert.Same(t, err, e.StartElement(wbtSync))
			assert.Same(t, err, e.EndElement())
			assert.Same(t, err, e.TextString("x"))
			assert.Same(t, err, e.Text([]byte("x")))
			assert.Same(t, err, e.Opaque([]byte("x")))
			assert.Same(t, err, e.EncodeToken(wbxml.Token{Kind: wbxml.EndElement}))
			assert.Same(t, err, e.Flush())
			assert.Same(t, err, e.Close())
			assert.Empty(t, buf.Bytes(), "a failed document is never written")
		})
	}
	t.Run("messages", func(t *testing.T) {
		e := wbxml.NewEncoder(&bytes.Buffer{})
		require.NoError(t, e.StartElement(wbtFolderSync))
		err := e.TextString("ab\x00")
		assert.Contains(t, err.Error(), "index 2")
		e = wbxml.NewEncoder(&bytes.Buffer{})
		err = e.StartElement(wbxml.Tag{Page: 7, Token: 0x0B})
		assert.Contains(t, err.Error(), "page 7 token 0x0B")
		e = wbxml.NewEncoder(&bytes.Buffer{})
		require.NoError(t, e.StartElement(wbtFolderSync))
		err = e.TextString("abc\xff")
		assert.Contains(t, err.Error(), "index 3")
	})
}

func TestEncodeAllowUnknownTags(t *testing.T) {
	var buf bytes.Buffer
	e := wbxml.NewEncoder(&buf)
	e.AllowUnknownTags = true
	require.NoError(t, e.StartElement(wbxml.Tag{Page: 7, Token: 0x0B}))
	require.NoError(t, e.StartElement(wbxml.Tag{Page: 200, Token: 0x3F}))
	require.NoError(t, e.EndElement())
	require.NoError(t, e.StartElement(wbxml.Tag{Page: 3, Token: 0x05}))
	require.NoError(t, e.TextString("n"))
	require.NoError(t, e.EndElement())
	require.NoError(t, e.EndElement())
	require.NoError(t, e.Close())
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x4B, 0x00, 200, 0x3F, 0x00, 0x03, 0x45, 0x03, 'n', 0x00, 0x01, 0x01}, buf.Bytes())

	d := wbxml.NewDecoderBytes(buf.Bytes())
	d.AllowUnknownTags = true
	doc, err := wbxml.ReadDocument(d)
	require.NoError(t, err)
	out, err := func() ([]byte, error) {
		var b bytes.Buffer
		e := wbxml.NewEncoder(&b)
		e.AllowUnknownTags = true
		if err := wbxml.EncodeNode(e, doc.Root); err != nil {
			return nil, err
		}
		err := e.Close()
		return b.Bytes(), err
	}()
	require.NoError(t, err)
	assert.Equal(t, buf.Bytes(), out)

	_, err = wbxml.Marshal(doc.Root)
	requireEncodeError(t, err, wbxml.ErrUnknownTag)
}

func TestEncodeFlush(t *testing.T) {
	var buf bytes.Buffer
	e := wbxml.NewEncoder(&buf)
	require.NoError(t, e.Flush(), "Flush of nothing")
	assert.Empty(t, buf.Bytes())

	require.NoError(t, e.StartElement(wbtFolderSync))
	require.NoError(t, e.Flush())
	// The start tag waits for its content flag; everything before it is written.
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07}, buf.Bytes())

	require.NoError(t, e.StartElement(wbtFHSyncKey))
	require.NoError(t, e.Flush())
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56}, buf.Bytes(), "FolderSync now has content")

	require.NoError(t, e.TextString("0"))
	require.NoError(t, e.Flush())
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00}, buf.Bytes())
	require.NoError(t, e.Flush(), "Flush twice")

	require.NoError(t, e.EndElement())
	require.NoError(t, e.EndElement())
	require.NoError(t, e.Close())
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01}, buf.Bytes())
	require.NoError(t, e.Close(), "Close twice")
	assert.Len(t, buf.Bytes(), 13, "nothing written twice")

	t.Run("pending start tag after a flush", func(t *testing.T) {
		// Flushing between every call gives the same bytes as not flushing.
		var buf bytes.Buffer
		e := wbxml.NewEncoder(&buf)
		steps := []encStep{
			encStart(wbtSync), encStart(wbtBodyPref), encStart(wbtBodyPrefTyp), encEnd(), encEnd(),
			encStart(wbtSyncKey), encEnd(), encStart(wbtClientID), encOpaque([]byte{1}), encEnd(), encEnd(),
		}
		for _, s := range steps {
			require.NoError(t, s(e))
			require.NoError(t, e.Flush())
		}
		require.NoError(t, e.Close())
		assert.Equal(t, encRun(t, steps...), buf.Bytes())
	})
}

type wbtFailWriter struct{ err error }

func (w wbtFailWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncodeWriterError(t *testing.T) {
	boom := errors.New("disk full")
	e := wbxml.NewEncoder(wbtFailWriter{boom})
	require.NoError(t, e.StartElement(wbtSync))
	require.NoError(t, e.EndElement())
	err := e.Close()
	require.ErrorIs(t, err, boom)
	assert.ErrorIs(t, e.Flush(), boom, "sticky")
	assert.ErrorIs(t, e.StartElement(wbtSync), boom)
}

func TestCodePageTags(t *testing.T) {
	fs := wbxml.Tag{Page: 7, Token: 0x16}
	assert.Equal(t, wbtFolderSync, fs)
	assert.True(t, fs.Known())
	assert.Equal(t, "FolderSync", fs.Name())
	assert.Equal(t, "FolderHierarchy", fs.Namespace())
	assert.Equal(t, "FolderHierarchy:FolderSync", fs.String())
	assert.Equal(t, wbxml.AllVersions, fs.Versions())
	assert.Equal(t, "All", fs.Versions().String())

	folders := wbxml.MustTag("FolderHierarchy", "Folders") // 2.5, 12.0, 12.1 only
	assert.Equal(t, wbxml.Tag{Page: 7, Token: 0x05}, folders)
	assert.Equal(t, "2.5, 12.0, 12.1", folders.Versions().String())
	assert.True(t, folders.Versions().Has(wbxml.V12_1))
	assert.False(t, folders.Versions().Has(wbxml.V14_0))

	trunc := wbxml.MustTag("AirSync", "Truncation")
	assert.Equal(t, "2.5", trunc.Versions().String())
	assert.Equal(t, "16.1", wbxml.MustTag("Find", "Find").Versions().String())

	for _, unknown := range []wbxml.Tag{{Page: 7, Token: 0x0B}, {Page: 3, Token: 0x05}, {Page: 26, Token: 0x05}, {Page: 255, Token: 0xFF}, {Page: 0, Token: 0x00}, {Page: 7, Token: 0x56}} {
		assert.False(t, unknown.Known(), unknown.String())
		assert.Equal(t, "", unknown.Name())
		assert.Equal(t, wbxml.Versions(0), unknown.Versions())
	}
	assert.Equal(t, "page 7 token 0x0B", wbxml.Tag{Page: 7, Token: 0x0B}.String())
	assert.Equal(t, "page 26 token 0x05", wbxml.Tag{Page: 26, Token: 0x05}.String())
	assert.Equal(t, "page 255 token 0xFF", wbxml.Tag{Page: 255, Token: 0xFF}.String())
	assert.Equal(t, "FolderHierarchy", wbxml.Tag{Page: 7, Token: 0x0B}.Namespace())
	assert.Equal(t, "AirNotify", wbxml.Tag{Page: 3, Token: 0x05}.Namespace())
	assert.Equal(t, "", wbxml.Tag{Page: 26, Token: 0x05}.Namespace())
	assert.Equal(t, "", wbxml.PageNamespace(26))
	assert.Equal(t, "Find", wbxml.PageNamespace(25))
	assert.Equal(t, "AirSync", wbxml.PageNamespace(0))
}

func TestCodePageLookup(t *testing.T) {
	for _, ns := range []string{"FolderHierarchy", "FolderHierarchy:"} {
		tag, ok := wbxml.LookupTag(ns, "FolderSync")
		assert.True(t, ok, ns)
		assert.Equal(t, wbtFolderSync, tag, ns)
		assert.Equal(t, wbtFolderSync, wbxml.MustTag(ns, "FolderSync"), ns)
		p, ok := wbxml.PageOf(ns)
		assert.True(t, ok)
		assert.Equal(t, uint8(7), p)
	}
	for _, tc := range []struct{ ns, name string }{
		{"FolderHierarchy", "Nope"},
		{"FolderHierarchy", "foldersync"}, // case matters
		{"folderhierarchy", "FolderSync"},
		{"FolderHierarchy::", "FolderSync"},
		{"", "FolderSync"},
		{"AirNotify", "Notify"},
		{"Bogus", "FolderSync"},
		{"AirSync", "FolderSync"}, // right name, wrong page
	} {
		_, ok := wbxml.LookupTag(tc.ns, tc.name)
		assert.False(t, ok, "%s:%s", tc.ns, tc.name)
	}
	// Same name on different pages resolves by namespace.
	assert.Equal(t, wbxml.Tag{Page: 0, Token: 0x0B}, wbxml.MustTag("AirSync", "SyncKey"))
	assert.Equal(t, wbxml.Tag{Page: 7, Token: 0x12}, wbxml.MustTag("FolderHierarchy", "SyncKey"))
	assert.Equal(t, wbxml.Tag{Page: 24, Token: 0x05}, wbxml.MustTag("RightsManagement:", "RightsManagementSupport"))

	for p := 0; p < wbxml.NumPages; p++ {
		ns := wbxml.PageNamespace(uint8(p))
		require.NotEmpty(t, ns)
		got, ok := wbxml.PageOf(ns)
		assert.True(t, ok)
		assert.Equal(t, uint8(p), got)
		got, ok = wbxml.PageOf(ns + ":")
		assert.True(t, ok)
		assert.Equal(t, uint8(p), got)
	}
	for _, ns := range []string{"", ":", "Bogus", "airsync", "AirSync::", "urn:easkit:wbxml"} {
		_, ok := wbxml.PageOf(ns)
		assert.False(t, ok, ns)
	}

	// Every defined tag is found again by its namespace and name: no name is
	// defined twice on a page.
	n := 0
	for p := 0; p < 256; p++ {
		for tok := 0; tok < 64; tok++ {
			tag := wbxml.Tag{Page: uint8(p), Token: uint8(tok)}
			if !tag.Known() {
				continue
			}
			n++
			assert.GreaterOrEqual(t, tok, 0x05, tag.String())
			assert.Less(t, p, wbxml.NumPages)
			got, ok := wbxml.LookupTag(tag.Namespace(), tag.Name())
			assert.True(t, ok, tag.String())
			assert.Equal(t, tag, got, tag.String())
			assert.Equal(t, tag.Namespace()+":"+tag.Name(), tag.String())
			assert.NotZero(t, tag.Versions(), tag.String())
			assert.Zero(t, tag.Versions()&^wbxml.AllVersions, tag.String())
		}
	}
	assert.Greater(t, n, 400)
}

func TestMustTagPanics(t *testing.T) {
	assert.PanicsWithValue(t, "wbxml: no tag FolderHierarchy:Nope", func() { wbxml.MustTag("FolderHierarchy", "Nope") })
	assert.PanicsWithValue(t, "wbxml: no tag Bogus:FolderSync", func() { wbxml.MustTag("Bogus", "FolderSync") })
	assert.NotPanics(t, func() { wbxml.MustTag("FolderHierarchy:", "FolderSync") })
}

func TestVersions(t *testing.T) {
	names := []string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}
	consts := []wbxml.Version{wbxml.V2_5, wbxml.V12_0, wbxml.V12_1, wbxml.V14_0, wbxml.V14_1, wbxml.V16_0, wbxml.V16_1}
	for i, name := range names {
		v, err := wbxml.ParseVersion(name)
		require.NoError(t, err, name)
		assert.Equal(t, consts[i], v)
		assert.Equal(t, name, v.String())
		assert.True(t, wbxml.AllVersions.Has(v))
		assert.Equal(t, name, wbxml.Versions(1<<i).String())
	}
	for _, bad := range []string{"", "16", "14.2", " 14.1", "14.1 ", "v14.1", "14,1", "2.50", "Version(7)"} {
		_, err := wbxml.ParseVersion(bad)
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "unknown ActiveSync protocol version")
		assert.Contains(t, err.Error(), "2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1")
	}
	assert.Equal(t, "Version(7)", wbxml.Version(7).String())
	assert.Equal(t, "Version(255)", wbxml.Version(255).String())

	assert.Equal(t, "All", wbxml.AllVersions.String())
	assert.Equal(t, wbxml.Versions(0x7F), wbxml.AllVersions)
	assert.Equal(t, "", wbxml.Versions(0).String())
	assert.Equal(t, "2.5, 16.1", wbxml.Versions(1|1<<6).String())
	assert.Equal(t, "12.1, 14.0, 14.1, 16.0, 16.1", wbxml.Versions(0b1111100).String())
	assert.False(t, wbxml.Versions(0).Has(wbxml.V2_5))
}

func TestNewAppendEncoder(t *testing.T) {
	enc := wbxml.NewAppendEncoder([]byte{0xAA})
	require.NoError(t, enc.StartElement(wbxml.MustTag("FolderHierarchy", "SyncKey")))
	require.NoError(t, enc.TextString("é"))
	require.NoError(t, enc.EndElement())
	require.NoError(t, enc.Close())
	assert.Equal(t, []byte{0xAA, 0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x52, 0x03, 0xC3, 0xA9, 0x00, 0x01}, enc.Bytes())

	// Non-ASCII text is still validated; ASCII skips it.
	enc = wbxml.NewAppendEncoder(nil)
	require.NoError(t, enc.StartElement(wbxml.MustTag("FolderHierarchy", "SyncKey")))
	assert.ErrorIs(t, enc.TextString("ab\xffcdefghij"), wbxml.ErrInvalidUTF8)
	enc = wbxml.NewAppendEncoder(nil)
	require.NoError(t, enc.StartElement(wbxml.MustTag("FolderHierarchy", "SyncKey")))
	assert.ErrorIs(t, enc.TextString("abcdefghij\x00k"), wbxml.ErrInvalidInput, "NUL found in the second word")
}
