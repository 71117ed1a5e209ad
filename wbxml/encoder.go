package wbxml

import (
	"io"
	"slices"
	"unicode/utf8"
)

// header is what every document the Encoder writes starts with: WBXML 1.3, public id
// 0x01 (unknown), charset 106 (UTF-8), an empty string table (MS-ASWBXML 2.1.1).
var header = []byte{0x03, PublicIDUnknown, Charset, 0x00}

// An Encoder writes a canonical ActiveSync WBXML document: the header 03 01 6A 00,
// SWITCH_PAGE only when the code page changes, the content flag only on elements
// with content, STR_I for text and OPAQUE for binary, no string table. This is also
// what libwbxml's `xml2wbxml -a -n -k` writes, byte for byte.
//
// Output is buffered; call Close (or Flush) at the end.
type Encoder struct {
	// AllowUnknownTags lets the Encoder write tags MS-ASWBXML does not define.
	AllowUnknownTags bool

	w        io.Writer
	buf      []byte
	page     uint8
	stack    []Tag
	pending  bool // a start tag waits to learn whether content follows
	pendTag  Tag
	started  bool
	rootDone bool
	err      error
}

// flushSize is how much output an Encoder with a writer buffers before writing.
const flushSize = 64 << 10

// NewEncoder returns an Encoder writing to w. With a nil w the Encoder keeps the
// whole document in memory for Bytes: the fast path when the caller wants a []byte.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// NewAppendEncoder returns an Encoder that appends the document to dst and keeps it
// for Bytes, so a caller encoding many documents can reuse one buffer.
func NewAppendEncoder(dst []byte) *Encoder { return &Encoder{buf: dst[:len(dst):cap(dst)]} }

// Bytes returns the document encoded so far by an Encoder made with a nil writer
// (after Close, the whole document). It aliases the Encoder's buffer.
func (e *Encoder) Bytes() []byte { return e.buf }

// Grow makes room for n more bytes of output, for callers that know the size.
func (e *Encoder) Grow(n int) { e.buf = slices.Grow(e.buf, n) }

func (e *Encoder) fail(err error) error {
	if e.err == nil {
		e.err = err
	}
	return err
}

// flushPending writes a held-back start tag, with the content flag when content follows.
func (e *Encoder) flushPending(content bool) {
	if !e.pending {
		return
	}
	e.pending = false
	b := e.pendTag.Token
	if content {
		b |= flagContent
		e.stack = append(e.stack, e.pendTag)
	} else if len(e.stack) == 0 {
		e.rootDone = true
	}
	e.buf = append(e.buf, b)
}

// StartElement opens an element.
func (e *Encoder) StartElement(t Tag) error {
	if e.err != nil {
		return e.err
	}
	if !e.AllowUnknownTags && !t.Known() {
		return e.fail(encodeErr(ErrUnknownTag, "%s is not an ActiveSync tag (MS-ASWBXML)", t))
	}
	if t.Token < 0x05 || t.Token > tagMask {
		return e.fail(encodeErr(ErrInvalidInput, "tag token 0x%02X outside 0x05-0x3F", t.Token))
	}
	e.flushPending(true)
	if e.rootDone {
		return e.fail(encodeErr(ErrStructure, "second root element <%s>: a document has one root", t))
	}
	if e.w != nil && len(e.buf) >= flushSize {
		// Stream to the writer instead of buffering the whole document; nothing
		// pending is in the buffer (a held-back start tag is appended later).
		if err := e.Flush(); err != nil {
			return err
		}
	}
	if !e.started {
		e.started = true
		e.buf = append(e.buf, header...)
	}
	if t.Page != e.page {
		e.buf = append(e.buf, tokSwitchPage, t.Page)
		e.page = t.Page
	}
	e.pending, e.pendTag = true, t
	return nil
}

// EndElement closes the innermost open element.
func (e *Encoder) EndElement() error {
	if e.err != nil {
		return e.err
	}
	if e.pending {
		e.flushPending(false)
		return nil
	}
	if len(e.stack) == 0 {
		return e.fail(encodeErr(ErrStructure, "EndElement with no open element"))
	}
	e.stack = e.stack[:len(e.stack)-1]
	e.buf = append(e.buf, tokEnd)
	if len(e.stack) == 0 {
		e.rootDone = true
	}
	return nil
}

// Text writes character data as STR_I. Empty text writes nothing, so an element
// whose only content is empty text is written without the content flag. Text must
// be UTF-8 without NUL (NUL terminates STR_I); send binary through Opaque.
func (e *Encoder) Text(s []byte) error {
	nul, ascii := scanText(s)
	return writeText(e, s, nul, ascii || utf8.Valid(s))
}

// TextString is Text for a string; it does not copy s.
func (e *Encoder) TextString(s string) error {
	nul, ascii := scanText(s)
	return writeText(e, s, nul, ascii || utf8.ValidString(s))
}

// scanText finds the first NUL in s (-1 if none) and reports whether s is all
// ASCII, in one pass of eight bytes at a time: most ActiveSync text is ASCII and
// then needs no UTF-8 validation.
func scanText[T ~string | ~[]byte](s T) (nul int, ascii bool) {
	var acc uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if k := firstZero(w); k >= 0 {
			return i + k, false
		}
		acc |= w
	}
	for ; i < len(s); i++ {
		if s[i] == 0 {
			return i, false
		}
		acc |= uint64(s[i])
	}
	return -1, acc&swarHigh == 0
}

// writeText is the one STR_I writer behind Text and TextString; nul is the index of
// the first NUL in s (or -1) and valid whether s is UTF-8, computed by the caller with
// the functions of its own type so that neither path converts (and copies) s.
func writeText[T ~string | ~[]byte](e *Encoder, s T, nul int, valid bool) error {
	if e.err != nil {
		return e.err
	}
	if len(s) == 0 {
		return nil
	}
	switch {
	case !e.pending && len(e.stack) == 0:
		return e.fail(encodeErr(ErrStructure, "text outside the root element"))
	case nul >= 0:
		return e.fail(encodeErr(ErrInvalidInput, "text has a NUL byte at index %d: STR_I cannot carry it; use Opaque for binary values", nul))
	case !valid:
		return e.fail(encodeErr(ErrInvalidUTF8, "text is not valid UTF-8 (at index %d); use Opaque for binary values", invalidUTF8At([]byte(s))))
	}
	e.flushPending(true)
	e.buf = append(e.buf, tokStrI)
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
	return nil
}

// Opaque writes b as an OPAQUE value (WBXML 1.3 section 5.8.4.6).
func (e *Encoder) Opaque(b []byte) error {
	if e.err != nil {
		return e.err
	}
	if !e.pending && len(e.stack) == 0 {
		return e.fail(encodeErr(ErrStructure, "opaque value outside the root element"))
	}
	if uint64(len(b)) > 1<<32-1 {
		return e.fail(encodeErr(ErrLimit, "opaque value of %d bytes does not fit a mb_u_int32 length", len(b)))
	}
	e.flushPending(true)
	e.buf = append(e.buf, tokOpaque)
	e.buf = appendMbUint32(e.buf, uint32(len(b)))
	e.buf = append(e.buf, b...)
	return nil
}

// EncodeToken writes one token as the Decoder returns them. The EndElement that
// follows a StartElement without the content flag must be passed too.
func (e *Encoder) EncodeToken(t Token) error {
	switch t.Kind {
	case StartElement:
		return e.StartElement(t.Tag)
	case EndElement:
		return e.EndElement()
	case Text:
		return e.Text(t.Data)
	case Opaque:
		return e.Opaque(t.Data)
	}
	return e.fail(encodeErr(ErrInvalidInput, "token of unknown kind %d", t.Kind))
}

// Flush writes the buffered output to the underlying writer.
func (e *Encoder) Flush() error {
	if e.err != nil {
		return e.err
	}
	if len(e.buf) == 0 || e.w == nil {
		return nil
	}
	// A pending start tag is not in the buffer yet: flushPending appends it once its
	// content flag is known, so everything buffered can go out.
	if _, err := e.w.Write(e.buf); err != nil {
		return e.fail(err)
	}
	e.buf = e.buf[:0]
	return nil
}

// Close checks that the document is complete (one root, every element closed) and
// flushes it.
func (e *Encoder) Close() error {
	if e.err != nil {
		return e.err
	}
	if e.pending || len(e.stack) > 0 {
		return e.fail(encodeErr(ErrStructure, "%d elements still open", len(e.stack)+b2i(e.pending)))
	}
	if !e.rootDone {
		return e.fail(encodeErr(ErrStructure, "empty document: no root element"))
	}
	return e.Flush()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendMbUint32 appends v as a WBXML multi-byte integer (WBXML 1.3 section 5.1).
func appendMbUint32(b []byte, v uint32) []byte {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7F)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7F) | 0x80
	}
	return append(b, tmp[i:]...)
}
