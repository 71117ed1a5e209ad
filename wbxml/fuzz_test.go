package wbxml_test

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"testing"
	"testing/iotest"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
)

// syntaxKinds are the kinds a *SyntaxError may carry; the decoder tests check each
// has a case, and the fuzz targets that every error is one of them.
var syntaxKinds = []error{
	wbxml.ErrTruncated, wbxml.ErrHeader, wbxml.ErrUnsupportedVersion, wbxml.ErrUnsupportedCharset,
	wbxml.ErrUnsupportedToken, wbxml.ErrUnknownPage, wbxml.ErrUnknownTag, wbxml.ErrInvalidUTF8,
	wbxml.ErrInvalidEntity, wbxml.ErrStringTable, wbxml.ErrStructure, wbxml.ErrTrailingData, wbxml.ErrLimit,
	wbxml.ErrBadInteger,
}

// fuzzSeeds adds every capture body (when ../shared is there; without it the targets
// still run, on the hand-made seeds only) and documents built to reach each branch.
func fuzzSeeds(f *testing.F) {
	captures := wbtSharedCaptureFiles(f)
	names := make([]string, 0, len(captures))
	for name := range captures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f.Add(captures[name])
	}
	for _, n := range []*wbxml.Node{
		testutil.FolderSyncTree(6, 1, true),
		testutil.FolderSyncShapes()["request-emptykey"],
		wbxml.NewElement(wbtSync,
			wbxml.NewElement(wbtBodyPref, wbxml.NewTextElement(wbtBodyPrefTyp, "2")),
			wbxml.NewOpaqueElement(wbtClientID, []byte{0, 1, 0xFF}),
			wbxml.NewTextElement(wbtSyncKey, "bell\x07 \uFFFE <&>"),
			&wbxml.Node{Kind: wbxml.TextNode, Data: []byte(" mixed ")},
		),
	} {
		b, err := wbxml.Marshal(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	deep := wbtDoc(bytes.Repeat([]byte{0x45}, 64)...)
	deep = append(deep, bytes.Repeat([]byte{0x01}, 64)...)
	for _, b := range [][]byte{
		{},
		wbtDoc(),
		wbtDoc(0x05),
		wbtDoc(0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01),
		// String table: public id by index, STR_T, a STR_T to an empty entry.
		{0x03, 0x00, 0x00, 0x6A, 0x07, 'I', 'D', 0x00, 'a', 'b', 0x00, 0x00, 0x00, 0x07, 0x56, 0x83, 0x03, 0x83, 0x06, 0x01},
		// ENTITY, STR_I, empty STR_I, ENTITY U+0000, a surrogate.
		wbtDoc(0x00, 0x07, 0x56, 0x02, 0x81, 0x69, 0x03, 'x', 0x00, 0x03, 0x00, 0x01),
		wbtDoc(0x00, 0x07, 0x56, 0x02, 0x00, 0x01),
		wbtDoc(0x00, 0x07, 0x56, 0x02, 0x83, 0xB0, 0x00, 0x01),
		// OPAQUE: empty, huge claims.
		wbtDoc(0x4C, 0xC3, 0x00, 0x01),
		wbtDoc(0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x01),
		{0x03, 0x01, 0x6A, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00},
		// Page switches, back and forth; unknown pages and tags.
		wbtDoc(0x45, 0x00, 0x11, 0x45, 0x06, 0x01, 0x00, 0x00, 0x0B, 0x01),
		wbtDoc(0x00, 0x1A, 0x05),
		wbtDoc(0x00, 0x03, 0x05),
		wbtDoc(0x00, 0x07, 0x4B, 0x57, 0x03, '1', 0x00, 0x01, 0x00, 0x1A, 0x3F, 0x01), // unknown root with known children
		// Found by FuzzXMLRoundTrip: whitespace-only text beside elements, nothing
		// else needing the bridge namespace.
		[]byte("\x030j\x00\x00\x14XX\x00\x11X\x03  \x00 X\x01\x01\x01\x01"),
		// Unused tokens, structure errors.
		wbtDoc(0xC5, 0x01), wbtDoc(0x04, 0x00), wbtDoc(0x43), wbtDoc(0x80), wbtDoc(0x01),
		wbtDoc(0x05, 0x05), wbtDoc(0x45, 0x01, 0x00),
		// Mixed content and empty content-flagged elements.
		wbtDoc(0x45, 0x03, ' ', 0x00, 0x4B, 0x01, 0x03, '\n', 0x00, 0x0B, 0xC3, 0x01, 0x00, 0x01),
		deep,
		// WBXML 1.1 and an overlong mb_u_int32.
		{0x01, 0x01, 0x6A, 0x00, 0x05},
		{0x03, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
		[]byte("<?xml version=\"1.0\"?>"),
	} {
		f.Add(b)
	}
}

// fuzzUnmarshalAny decodes with AllowUnknownTags: any WBXML vocabulary.
func fuzzUnmarshalAny(data []byte) (*wbxml.Document, error) {
	d := wbxml.NewDecoderBytes(data)
	d.AllowUnknownTags = true
	return wbxml.ReadDocument(d)
}

// fuzzMarshalAny encodes with AllowUnknownTags.
func fuzzMarshalAny(n *wbxml.Node) ([]byte, error) {
	var b bytes.Buffer
	e := wbxml.NewEncoder(&b)
	e.AllowUnknownTags = true
	if err := wbxml.EncodeNode(e, n); err != nil {
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fuzzCheckError checks that a decode error is a well-formed *SyntaxError and
// returns it.
func fuzzCheckError(t *testing.T, err error, n int) *wbxml.SyntaxError {
	t.Helper()
	var se *wbxml.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("decode error is %T, not *wbxml.SyntaxError: %v", err, err)
	}
	found := 0
	for _, k := range syntaxKinds {
		if errors.Is(err, k) {
			found++
		}
	}
	if found != 1 || se.Err == nil {
		t.Fatalf("error %v matches %d kinds, want exactly one", err, found)
	}
	if se.Offset < 0 || se.Offset > int64(n) {
		t.Fatalf("error offset %d outside the %d-byte input: %v", se.Offset, n, err)
	}
	return se
}

// FuzzDecode: arbitrary bytes never panic; a document that decodes re-encodes, the
// re-encoding decodes to the same tree, and encoding is idempotent.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// With AllowUnknownTags (tags of any page): the same stability.
		if anyDoc, err := fuzzUnmarshalAny(data); err == nil {
			out, err := fuzzMarshalAny(anyDoc.Root)
			if err != nil {
				t.Fatalf("decoded tree (unknown tags allowed) does not encode: %v\n%s", err, wbtDump(anyDoc.Root))
			}
			again, err := fuzzUnmarshalAny(out)
			if err != nil {
				t.Fatalf("re-encoding (unknown tags allowed) does not decode: %v\n% x", err, out)
			}
			if a, b := wbtDump(anyDoc.Root), wbtDump(again.Root); a != b {
				t.Fatalf("decode -> encode -> decode changed the tree (unknown tags allowed)\nfirst:\n%s\nsecond:\n%s", a, b)
			}
		} else {
			fuzzCheckError(t, err, len(data))
		}

		doc, err := wbxml.Unmarshal(data)
		if err != nil {
			fuzzCheckError(t, err, len(data))
			return
		}
		if doc.Root == nil {
			t.Fatal("Unmarshal succeeded without a root")
		}
		out, err := wbxml.Marshal(doc.Root)
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v\n%s", err, wbtDump(doc.Root))
		}
		again, err := wbxml.Unmarshal(out)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v\n% x", err, out)
		}
		if a, b := wbtDump(doc.Root), wbtDump(again.Root); a != b {
			t.Fatalf("decode -> encode -> decode changed the tree\nfirst:\n%s\nsecond:\n%s", a, b)
		}
		out2, err := wbxml.Marshal(again.Root)
		if err != nil {
			t.Fatalf("second encoding failed: %v", err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not idempotent:\n% x\n% x", out, out2)
		}
		if !bytes.HasPrefix(out, []byte{0x03, 0x01, 0x6A, 0x00}) {
			t.Fatalf("Marshal wrote a non-canonical header: % x", out[:min(len(out), 4)])
		}
		// ReadElementText (with its fast paths) agrees with the tree on every leaf.
		fuzzCheckElementText(t, wbxml.NewDecoderBytes(data), doc.Root)
		fuzzCheckElementText(t, wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(data))), doc.Root)
	})
}

// fuzzCheckElementText walks d's document beside the tree decoded from the same
// input, reading every element without child elements with ReadElementText, and
// checks the text equals the tree's.
func fuzzCheckElementText(t *testing.T, d *wbxml.Decoder, root *wbxml.Node) {
	t.Helper()
	type frame struct {
		n    *wbxml.Node
		next int // index in n.Children of the next child to look at
	}
	stack := []*frame{{n: &wbxml.Node{Kind: wbxml.ElementNode, Children: []*wbxml.Node{root}}}}
	nextElement := func(f *frame) *wbxml.Node {
		for f.next < len(f.n.Children) {
			c := f.n.Children[f.next]
			f.next++
			if c.Kind == wbxml.ElementNode {
				return c
			}
		}
		return nil
	}
	for {
		tok, err := d.Next()
		if err == io.EOF {
			if len(stack) != 1 {
				t.Fatalf("io.EOF with %d elements open", len(stack)-1)
			}
			return
		}
		if err != nil {
			t.Fatalf("token walk failed where Unmarshal succeeded: %v", err)
		}
		switch tok.Kind {
		case wbxml.StartElement:
			n := nextElement(stack[len(stack)-1])
			if n == nil || n.Tag != tok.Tag {
				t.Fatalf("token walk out of step with the tree at offset %d", tok.Offset)
			}
			leaf := true
			for _, c := range n.Children {
				if c.Kind == wbxml.ElementNode {
					leaf = false
				}
			}
			if !leaf {
				stack = append(stack, &frame{n: n})
				continue
			}
			text, err := d.ReadElementText()
			if err != nil {
				t.Fatalf("ReadElementText of <%s> at offset %d: %v", n.Tag, tok.Offset, err)
			}
			if string(text) != n.Text() {
				t.Fatalf("ReadElementText of <%s> at offset %d = %q, tree says %q", n.Tag, tok.Offset, text, n.Text())
			}
		case wbxml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

// FuzzDecodeStreaming: a streaming Decoder, fed one byte per Read or everything at
// once, gives the same tokens, header and error as the in-memory one.
func FuzzDecodeStreaming(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := wbxml.NewDecoderBytes(data)
		refToks, refErr := wbtDrain(ref, len(data))
		refHdr, refHdrErr := ref.Header()

		// One Token reused through ReadToken gives the same tokens as Next.
		reuse := wbxml.NewDecoder(iotest.OneByteReader(bytes.NewReader(data)))
		var tok wbxml.Token
		for i := 0; ; i++ {
			err := reuse.ReadToken(&tok)
			if err != nil {
				if i != len(refToks) || (err == io.EOF) != (refErr == nil) {
					t.Fatalf("ReadToken ended after %d tokens with %v; Next after %d with %v", i, err, len(refToks), refErr)
				}
				break
			}
			if i >= len(refToks) {
				t.Fatalf("ReadToken gave more tokens than Next")
			}
			got := wbtTok{tok.Kind, tok.Tag, tok.Content, string(tok.Data), tok.Offset}
			if got != refToks[i] {
				t.Fatalf("ReadToken token %d: %v, Next gave %v", i, got, refToks[i])
			}
			if (tok.Kind == wbxml.StartElement || tok.Kind == wbxml.EndElement) && tok.Data != nil {
				t.Fatalf("ReadToken left stale Data on a %v", tok.Kind)
			}
		}
		for _, r := range []io.Reader{
			iotest.OneByteReader(bytes.NewReader(data)),
			bytes.NewReader(data),
		} {
			d := wbxml.NewDecoder(r)
			toks, err := wbtDrain(d, len(data))
			if len(toks) != len(refToks) {
				t.Fatalf("streaming gave %d tokens, bytes mode %d (errors %v / %v)", len(toks), len(refToks), err, refErr)
			}
			for i := range toks {
				if toks[i] != refToks[i] {
					t.Fatalf("token %d: streaming %v, bytes mode %v", i, toks[i], refToks[i])
				}
			}
			switch {
			case refErr == nil && err == nil:
			case refErr == nil || err == nil:
				t.Fatalf("bytes mode error %v, streaming error %v", refErr, err)
			default:
				a := fuzzCheckError(t, refErr, len(data))
				b := fuzzCheckError(t, err, len(data))
				if a.Err != b.Err {
					t.Fatalf("error kinds differ: bytes mode %v, streaming %v", refErr, err)
				}
				if a.Offset != b.Offset {
					t.Fatalf("error offsets differ: bytes mode %v, streaming %v", refErr, err)
				}
			}
			hdr, hdrErr := d.Header()
			if (hdrErr == nil) != (refHdrErr == nil) {
				t.Fatalf("Header errors differ: %v / %v", refHdrErr, hdrErr)
			}
			if hdr.Version != refHdr.Version || hdr.PublicID != refHdr.PublicID || hdr.PublicIDString != refHdr.PublicIDString ||
				hdr.Charset != refHdr.Charset || !bytes.Equal(hdr.StringTable, refHdr.StringTable) {
				t.Fatalf("headers differ: %+v / %+v", refHdr, hdr)
			}
		}
	})
}

// FuzzXMLRoundTrip: any document that decodes survives WBXML -> XML -> WBXML: the
// same tree and the same canonical bytes.
func FuzzXMLRoundTrip(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// Any vocabulary: unknown tags travel as wbxml:raw-P-TT elements.
		if anyDoc, err := fuzzUnmarshalAny(data); err == nil {
			want, err := fuzzMarshalAny(anyDoc.Root)
			if err != nil {
				t.Fatalf("decoded tree (unknown tags allowed) does not encode: %v", err)
			}
			var x bytes.Buffer
			if err := wbxml.WriteXML(&x, anyDoc.Root); err != nil {
				t.Fatalf("WriteXML: %v", err)
			}
			back, err := wbxml.ReadXML(bytes.NewReader(x.Bytes()))
			if err != nil {
				t.Fatalf("ReadXML of WriteXML output (unknown tags allowed): %v\n%s", err, x.String())
			}
			if a, b := wbtDump(anyDoc.Root), wbtDump(back); a != b {
				t.Fatalf("tree changed through XML (unknown tags allowed)\nbefore:\n%s\nafter:\n%s\nXML:\n%s", a, b, x.String())
			}
			got, err := fuzzMarshalAny(back)
			if err != nil || !bytes.Equal(want, got) {
				t.Fatalf("WBXML -> XML -> WBXML (unknown tags allowed): %v\nwant % x\ngot  % x", err, want, got)
			}
		}

		doc, err := wbxml.Unmarshal(data)
		if err != nil {
			return
		}
		want, err := wbxml.Marshal(doc.Root)
		if err != nil {
			t.Fatalf("decoded tree does not encode: %v", err)
		}
		var x bytes.Buffer
		if err := wbxml.WriteXML(&x, doc.Root); err != nil {
			t.Fatalf("WriteXML: %v", err)
		}
		back, err := wbxml.ReadXML(bytes.NewReader(x.Bytes()))
		if err != nil {
			t.Fatalf("ReadXML of WriteXML output: %v\n%s", err, x.String())
		}
		if a, b := wbtDump(doc.Root), wbtDump(back); a != b {
			t.Fatalf("tree changed through XML\nbefore:\n%s\nafter:\n%s\nXML:\n%s", a, b, x.String())
		}
		got, err := wbxml.Marshal(back)
		if err != nil {
			t.Fatalf("Marshal after ReadXML: %v\n%s", err, x.String())
		}
		if !bytes.Equal(want, got) {
			t.Fatalf("WBXML -> XML -> WBXML changed the bytes\nwant % x\ngot  % x\nXML:\n%s", want, got, x.String())
		}
	})
}
