package wbxml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// WBXML global tokens (WBXML 1.3, section 7.1).
const (
	tokSwitchPage = 0x00
	tokEnd        = 0x01
	tokEntity     = 0x02
	tokStrI       = 0x03
	tokLiteral    = 0x04
	tokExtI0      = 0x40
	tokExtI1      = 0x41
	tokExtI2      = 0x42
	tokPI         = 0x43
	tokLiteralC   = 0x44
	tokExtT0      = 0x80
	tokExtT1      = 0x81
	tokExtT2      = 0x82
	tokStrT       = 0x83
	tokLiteralA   = 0x84
	tokExt0       = 0xC0
	tokExt1       = 0xC1
	tokExt2       = 0xC2
	tokOpaque     = 0xC3
	tokLiteralAC  = 0xC4

	flagContent    = 0x40
	flagAttributes = 0x80
	tagMask        = 0x3F
)

// Charset is the IANA MIBenum of UTF-8, the only charset MS-ASWBXML 2.1.1 allows.
const Charset = 106

// PublicIDUnknown is the WBXML public identifier 0x01 ("unknown or missing"), which
// ActiveSync documents carry (MS-ASWBXML 2.1.1).
const PublicIDUnknown = 1

// Kind is the kind of a Token.
type Kind uint8

// Token kinds.
const (
	StartElement Kind = iota + 1
	EndElement
	Text
	Opaque
)

func (k Kind) String() string {
	switch k {
	case StartElement:
		return "StartElement"
	case EndElement:
		return "EndElement"
	case Text:
		return "Text"
	case Opaque:
		return "Opaque"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Token is one item of a WBXML body. Tokens are values, not interfaces, so a scan
// allocates nothing per token.
type Token struct {
	Kind Kind
	// Tag is the element of a StartElement or EndElement.
	Tag Tag
	// Content is the content flag of a StartElement (WBXML 1.3 section 5.8.2). A start
	// tag without it is followed at once by its EndElement, which the Decoder supplies.
	Content bool
	// Data is the text (UTF-8, from STR_I, STR_T or ENTITY) or the opaque bytes. It
	// aliases the Decoder's buffer and is valid only until the next call to Next;
	// copy it to keep it.
	Data []byte
	// Offset is the byte offset of the token in the document.
	Offset int64
}

// Header is the WBXML document header (WBXML 1.3 section 5.4).
type Header struct {
	// Version is the WBXML version byte: 0x01, 0x02 or 0x03 for 1.1, 1.2, 1.3.
	Version byte
	// PublicID is the public identifier, or 0 when the identifier is a string
	// (PublicIDString) from the string table.
	PublicID uint32
	// PublicIDString is the public identifier when given through the string table.
	PublicIDString string
	// Charset is the IANA MIBenum of the document's charset (always 106, UTF-8).
	Charset uint32
	// StringTable is the raw string table.
	StringTable []byte
}

// A Decoder reads WBXML tokens from an input, in the manner of encoding/xml's
// Decoder. Set the exported fields before the first call to Next or Header.
type Decoder struct {
	// Limits bound the input; the zero value means DefaultLimits.
	Limits Limits
	// AllowUnknownTags accepts tags and code pages MS-ASWBXML does not define, so
	// that a document of another WBXML vocabulary (SyncML, say) can be read at the
	// token level. ActiveSync readers leave it false.
	AllowUnknownTags bool

	r    io.Reader // nil: the whole document is in buf
	buf  []byte
	pos  int   // next unread byte in buf
	base int64 // document offset of buf[0]
	eof  bool  // r has reported EOF (or r is nil)
	err  error // sticky error

	lim        Limits
	started    bool
	header     Header
	page       uint8
	stack      []Tag
	headerDone bool
	rootDone   bool
	pendingEnd bool
	pendingTag Tag
	pendingOff int64
	entity     [utf8.UTFMax]byte
	scratch    []byte
}

// NewDecoder returns a Decoder that reads a document from r, buffering only what it
// has to: the window grows to the longest single token (bounded by Limits).
func NewDecoder(r io.Reader) *Decoder { return &Decoder{r: r} }

// NewDecoderBytes returns a Decoder over a document in memory. It copies nothing:
// token data aliases b. It is the fast path.
func NewDecoderBytes(b []byte) *Decoder { return &Decoder{buf: b, eof: true} }

// Offset is the document offset of the next unread byte.
func (d *Decoder) Offset() int64 { return d.base + int64(d.pos) }

// Remaining is the number of unread bytes of a document in memory (NewDecoderBytes),
// or -1 for a streaming Decoder, whose input length is unknown. Callers use it to
// bound pre-allocation by what the input can actually hold.
func (d *Decoder) Remaining() int64 {
	if d.r != nil {
		return -1
	}
	return int64(d.avail())
}

// Depth is the number of open elements.
func (d *Decoder) Depth() int { return len(d.stack) }

// Header reads (if needed) and returns the document header.
func (d *Decoder) Header() (Header, error) {
	// After the header, start returns the body's sticky error (or io.EOF at the end);
	// the header itself stays valid.
	if err := d.start(); err != nil && !d.headerDone {
		return Header{}, err
	}
	return d.header, nil
}

func (d *Decoder) start() error {
	if d.started {
		return d.err
	}
	d.started = true
	d.lim = d.Limits.withDefaults()
	if d.r == nil && int64(len(d.buf)) > d.lim.MaxDocumentSize {
		return d.fail(syntaxErr(d.lim.MaxDocumentSize, ErrLimit, "document is %d bytes, more than the %d-byte limit", len(d.buf), d.lim.MaxDocumentSize))
	}
	if d.lim.MaxDepth > 0 {
		d.stack = make([]Tag, 0, min(d.lim.MaxDepth, 16))
	}
	if err := d.readHeader(); err != nil {
		return d.fail(err)
	}
	d.headerDone = true
	return nil
}

func (d *Decoder) fail(err error) error {
	if err != nil && d.err == nil {
		d.err = err
	}
	return err
}

// avail is the number of buffered unread bytes.
func (d *Decoder) avail() int { return len(d.buf) - d.pos }

// need makes n unread bytes available, reading as data arrives. The buffer grows at
// most 64 KiB ahead of the data received (beyond that, only by doubling once full),
// so a huge length claim in a short input fails as truncated without the
// allocation. what names the item for the error message.
func (d *Decoder) need(n int, what string) error {
	for d.avail() < n {
		if d.eof {
			return syntaxErr(d.base+int64(len(d.buf)), ErrTruncated, "input ends inside %s: %d more bytes needed", what, n-d.avail())
		}
		if err := d.fill(n - d.avail()); err != nil {
			return err
		}
	}
	return nil
}

// needClaim is need for a length the input claims (string table, OPAQUE): when the
// input is shorter, the error points at the claim, in memory and streaming alike.
func (d *Decoder) needClaim(n int, off int64, what string) error {
	err := d.need(n, what)
	if err != nil && errors.Is(err, ErrTruncated) {
		return syntaxErr(off, ErrTruncated, "%s claims %d bytes, only %d remain", what, n, d.avail())
	}
	return err
}

// fill reads more input; want is how many more bytes the caller needs at least.
func (d *Decoder) fill(want int) error {
	if d.r == nil {
		d.eof = true
		return nil
	}
	// Slide unread bytes to the front: earlier tokens' Data is dead by contract.
	if d.pos > 0 {
		n := copy(d.buf, d.buf[d.pos:])
		d.base += int64(d.pos)
		d.buf = d.buf[:n]
		d.pos = 0
	}
	if cap(d.buf)-len(d.buf) < 512 || cap(d.buf)-len(d.buf) < want && cap(d.buf) < 64<<10 {
		// Double the buffer when under 512 bytes of room are left, or (up to 64 KiB)
		// when the caller needs more than the room: growth follows the data received.
		newCap := max(2*cap(d.buf), 4096)
		nb := make([]byte, len(d.buf), newCap)
		copy(nb, d.buf)
		d.buf = nb
	}
	room := cap(d.buf) - len(d.buf)
	if total := d.base + int64(len(d.buf)); total+int64(room) > d.lim.MaxDocumentSize+1 {
		room = int(d.lim.MaxDocumentSize + 1 - total)
	}
	if room <= 0 {
		return syntaxErr(d.lim.MaxDocumentSize, ErrLimit, "document is longer than the %d-byte limit", d.lim.MaxDocumentSize)
	}
	n, err := d.r.Read(d.buf[len(d.buf) : len(d.buf)+room])
	d.buf = d.buf[:len(d.buf)+n]
	if d.base+int64(len(d.buf)) > d.lim.MaxDocumentSize {
		return syntaxErr(d.lim.MaxDocumentSize, ErrLimit, "document is longer than the %d-byte limit", d.lim.MaxDocumentSize)
	}
	if err == io.EOF {
		d.eof = true
	} else if err != nil {
		return fmt.Errorf("wbxml: read at offset %d: %w", d.base+int64(len(d.buf)), err)
	}
	return nil
}

func (d *Decoder) byte(what string) (byte, error) {
	if d.pos >= len(d.buf) {
		if err := d.need(1, what); err != nil {
			return 0, err
		}
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

// mbUint32 reads a multi-byte unsigned integer (WBXML 1.3 section 5.1): big-endian
// groups of 7 bits, continuation in the high bit, at most 5 bytes and 32 bits.
func (d *Decoder) mbUint32(what string, kind error) (uint32, error) {
	start := d.Offset()
	var v uint32
	for i := 0; i < 5; i++ {
		b, err := d.byte(what)
		if err != nil {
			return 0, err
		}
		if i == 4 && v > (1<<25)-1 {
			return 0, syntaxErr(start, kind, "%s does not fit in 32 bits", what)
		}
		v = v<<7 | uint32(b&0x7F)
		if b&0x80 == 0 {
			return v, nil
		}
	}
	return 0, syntaxErr(start, kind, "%s is longer than the 5 bytes a mb_u_int32 may take", what)
}

// termString reads a NUL-terminated string and returns it without the NUL.
func (d *Decoder) termString(limit int, tokOff int64) ([]byte, error) {
	start := d.Offset()
	searched := 0
	for {
		if i := bytes.IndexByte(d.buf[d.pos+searched:], 0); i >= 0 {
			s := d.buf[d.pos : d.pos+searched+i]
			if len(s) > limit {
				return nil, syntaxErr(tokOff, ErrLimit, "inline string of %d bytes exceeds the %d-byte limit", len(s), limit)
			}
			d.pos += searched + i + 1
			return s, nil
		}
		searched = d.avail()
		if searched > limit {
			return nil, syntaxErr(tokOff, ErrLimit, "inline string longer than the %d-byte limit", limit)
		}
		if d.eof {
			return nil, syntaxErr(d.base+int64(len(d.buf)), ErrTruncated, "input ends inside an inline string that starts at offset %d (no NUL terminator)", start)
		}
		if err := d.fill(1); err != nil {
			return nil, err
		}
	}
}

func (d *Decoder) readHeader() error {
	off := d.Offset()
	v, err := d.byte("the header")
	if err != nil {
		if errors.Is(err, ErrTruncated) {
			return syntaxErr(0, ErrTruncated, "empty input: a WBXML document starts with a version byte (0x03)")
		}
		return err
	}
	if v < 0x01 || v > 0x03 {
		return syntaxErr(off, ErrUnsupportedVersion, "version byte 0x%02X: want 0x01-0x03 (WBXML 1.1-1.3; ActiveSync sends 0x03)", v)
	}
	d.header.Version = v
	pubOff := d.Offset()
	pub, err := d.mbUint32("the public identifier", ErrHeader)
	if err != nil {
		return err
	}
	var pubIndex uint32
	if pub == 0 {
		// Public identifier given as a string-table index (WBXML 1.3 section 5.5).
		if pubIndex, err = d.mbUint32("the public identifier's string-table index", ErrHeader); err != nil {
			return err
		}
	}
	d.header.PublicID = pub
	csOff := d.Offset()
	cs, err := d.mbUint32("the charset", ErrHeader)
	if err != nil {
		return err
	}
	if cs != Charset {
		return syntaxErr(csOff, ErrUnsupportedCharset, "charset %d: MS-ASWBXML requires UTF-8 (106)", cs)
	}
	d.header.Charset = cs
	stOff := d.Offset()
	stLen, err := d.mbUint32("the string table length", ErrHeader)
	if err != nil {
		return err
	}
	if int64(stLen) > int64(d.lim.MaxStringTableSize) {
		return syntaxErr(stOff, ErrLimit, "string table of %d bytes exceeds the %d-byte limit", stLen, d.lim.MaxStringTableSize)
	}
	if err := d.needClaim(int(stLen), stOff, "string table"); err != nil {
		return err
	}
	// The table outlives the window, so it is copied in streaming mode.
	table := d.buf[d.pos : d.pos+int(stLen)]
	if d.r != nil {
		table = bytes.Clone(table)
	}
	d.pos += int(stLen)
	d.header.StringTable = table
	if pub == 0 {
		s, err := d.tableString(pubIndex, pubOff)
		if err != nil {
			return err
		}
		d.header.PublicIDString = string(s)
	}
	return nil
}

// tableString returns the NUL-terminated string at index idx of the string table.
func (d *Decoder) tableString(idx uint32, off int64) ([]byte, error) {
	t := d.header.StringTable
	if int64(idx) >= int64(len(t)) {
		return nil, syntaxErr(off, ErrStringTable, "string-table index %d is outside the %d-byte table", idx, len(t))
	}
	end := bytes.IndexByte(t[idx:], 0)
	if end < 0 {
		return nil, syntaxErr(off, ErrStringTable, "string-table entry at index %d has no NUL terminator", idx)
	}
	s := t[idx : int(idx)+end]
	if !utf8.Valid(s) {
		return nil, syntaxErr(off, ErrInvalidUTF8, "string-table entry at index %d is not valid UTF-8", idx)
	}
	return s, nil
}

// Next returns the next token. At the end of a well-formed document it returns io.EOF.
// Any malformed input yields a *SyntaxError, and the same error from then on.
func (d *Decoder) Next() (Token, error) {
	var t Token
	err := d.ReadToken(&t)
	return t, err
}

// ReadToken is Next without copying: it fills *t. Hot loops (the typed FolderSync
// decoder) use it with one Token they reuse.
func (d *Decoder) ReadToken(t *Token) error {
	// Fast path: the three tokens that make up almost all of an ActiveSync body (a
	// start tag with content, an inline string, an END), fully inside the buffer.
	// Anything else, or any doubt, goes to the general path, which checks everything.
	if d.started && !d.pendingEnd && d.err == nil && !d.rootDone && d.pos < len(d.buf) {
		b := d.buf[d.pos]
		off := d.base + int64(d.pos)
		switch {
		case b&0xC0 == flagContent && b&tagMask >= 0x05:
			tag := Tag{Page: d.page, Token: b & tagMask}
			if (knownTags[tag.Page]&(1<<tag.Token) != 0 || d.AllowUnknownTags) && len(d.stack) < d.lim.MaxDepth {
				d.pos++
				d.stack = append(d.stack, tag)
				t.set(StartElement, tag, true, off)
				return nil
			}
		case b == tokStrI && len(d.stack) > 0:
			rest := d.buf[d.pos+1:]
			if i := scanString(rest); i >= 0 && i <= d.lim.MaxStringLength {
				d.pos += i + 2
				t.Kind, t.Tag, t.Content, t.Data, t.Offset = Text, Tag{}, false, rest[:i:i], off
				return nil
			}
		case b == tokEnd && len(d.stack) > 0:
			d.pos++
			t.set(EndElement, d.pop(), false, off)
			return nil
		}
	}
	return d.readSlow(t)
}

// set fills a data-less token field by field. A whole-struct store would write the
// Data pointer every time, and a pointer store into a heap Token costs a GC write
// barrier while a collection runs; profiling showed that store dominating decoding.
func (t *Token) set(k Kind, tag Tag, content bool, off int64) {
	t.Kind, t.Tag, t.Content, t.Offset = k, tag, content, off
	if t.Data != nil {
		t.Data = nil
	}
}

func (d *Decoder) readSlow(t *Token) error {
	if err := d.start(); err != nil {
		return err
	}
	if d.pendingEnd {
		d.pendingEnd = false
		if len(d.stack) == 0 {
			d.rootDone = true
		}
		*t = Token{Kind: EndElement, Tag: d.pendingTag, Offset: d.pendingOff}
		return nil
	}
	tok, err := d.next()
	if err != nil {
		d.fail(err)
	}
	*t = tok
	return err
}

func (d *Decoder) next() (Token, error) {
	for {
		off := d.Offset()
		if d.pos >= len(d.buf) {
			if err := d.need(1, "the body"); err != nil {
				if !errors.Is(err, ErrTruncated) {
					return Token{}, err
				}
				switch {
				case d.rootDone:
					return Token{}, io.EOF
				case len(d.stack) > 0:
					return Token{}, syntaxErr(off, ErrTruncated, "input ends inside <%s> (%d elements open)", d.stack[len(d.stack)-1], len(d.stack))
				default:
					return Token{}, syntaxErr(off, ErrTruncated, "input ends before the root element")
				}
			}
		}
		b := d.buf[d.pos]
		d.pos++
		if d.rootDone {
			return Token{}, syntaxErr(off, ErrTrailingData, "byte 0x%02X after the end of the root element: a document has one root", b)
		}
		switch b {
		case tokSwitchPage:
			p, err := d.byte("SWITCH_PAGE")
			if err != nil {
				return Token{}, err
			}
			if !d.AllowUnknownTags && int(p) >= NumPages {
				return Token{}, syntaxErr(off, ErrUnknownPage, "SWITCH_PAGE to code page %d: MS-ASWBXML defines pages 0-%d", p, NumPages-1)
			}
			d.page = p
			continue
		case tokEnd:
			if len(d.stack) == 0 {
				return Token{}, syntaxErr(off, ErrStructure, "END with no open element")
			}
			return Token{Kind: EndElement, Tag: d.pop(), Offset: off}, nil
		case tokStrI:
			if err := d.inElement(off, "inline string"); err != nil {
				return Token{}, err
			}
			s, err := d.termString(d.lim.MaxStringLength, off)
			if err != nil {
				return Token{}, err
			}
			if !utf8.Valid(s) {
				return Token{}, syntaxErr(off+1+int64(invalidUTF8At(s)), ErrInvalidUTF8, "inline string is not valid UTF-8")
			}
			return Token{Kind: Text, Data: s, Offset: off}, nil
		case tokStrT:
			if err := d.inElement(off, "string-table reference"); err != nil {
				return Token{}, err
			}
			idx, err := d.mbUint32("a STR_T index", ErrBadInteger)
			if err != nil {
				return Token{}, err
			}
			s, err := d.tableString(idx, off)
			if err != nil {
				return Token{}, err
			}
			return Token{Kind: Text, Data: s, Offset: off}, nil
		case tokEntity:
			if err := d.inElement(off, "character entity"); err != nil {
				return Token{}, err
			}
			cp, err := d.mbUint32("an ENTITY", ErrBadInteger)
			if err != nil {
				return Token{}, err
			}
			if !utf8.ValidRune(rune(cp)) {
				return Token{}, syntaxErr(off, ErrInvalidEntity, "ENTITY U+%04X is not a Unicode scalar value", cp)
			}
			if cp == 0 {
				// STR_I cannot carry NUL either, so the Encoder could not write it back.
				return Token{}, syntaxErr(off, ErrInvalidEntity, "ENTITY U+0000: text cannot carry NUL")
			}
			n := utf8.EncodeRune(d.entity[:], rune(cp))
			return Token{Kind: Text, Data: d.entity[:n], Offset: off}, nil
		case tokOpaque:
			if err := d.inElement(off, "OPAQUE value"); err != nil {
				return Token{}, err
			}
			n, err := d.mbUint32("an OPAQUE length", ErrBadInteger)
			if err != nil {
				return Token{}, err
			}
			if int64(n) > int64(d.lim.MaxOpaqueLength) {
				return Token{}, syntaxErr(off, ErrLimit, "OPAQUE of %d bytes exceeds the %d-byte limit", n, d.lim.MaxOpaqueLength)
			}
			if err := d.needClaim(int(n), off, "OPAQUE"); err != nil {
				return Token{}, err
			}
			data := d.buf[d.pos : d.pos+int(n) : d.pos+int(n)]
			d.pos += int(n)
			return Token{Kind: Opaque, Data: data, Offset: off}, nil
		case tokLiteral, tokLiteralA, tokLiteralC, tokLiteralAC:
			return Token{}, syntaxErr(off, ErrUnsupportedToken, "LITERAL tag token 0x%02X: ActiveSync names every tag through its code pages", b)
		case tokExtI0, tokExtI1, tokExtI2, tokExtT0, tokExtT1, tokExtT2, tokExt0, tokExt1, tokExt2:
			return Token{}, syntaxErr(off, ErrUnsupportedToken, "extension token 0x%02X: ActiveSync defines no extensions", b)
		case tokPI:
			return Token{}, syntaxErr(off, ErrUnsupportedToken, "processing instruction (PI): not used by ActiveSync")
		}
		// A tag token.
		if b&flagAttributes != 0 {
			return Token{}, syntaxErr(off, ErrUnsupportedToken, "tag token 0x%02X has the attribute flag: ActiveSync elements have no attributes", b)
		}
		t := Tag{Page: d.page, Token: b & tagMask}
		if !d.AllowUnknownTags && !t.Known() {
			if t.Page == 3 {
				return Token{}, syntaxErr(off, ErrUnknownTag, "tag 0x%02X on code page 3 (AirNotify): the page is no longer in use and defines no tags", t.Token)
			}
			return Token{}, syntaxErr(off, ErrUnknownTag, "tag 0x%02X is not defined on code page %d (%s)", t.Token, t.Page, PageNamespace(t.Page))
		}
		if len(d.stack) >= d.lim.MaxDepth {
			return Token{}, syntaxErr(off, ErrLimit, "element nesting deeper than the limit of %d", d.lim.MaxDepth)
		}
		content := b&flagContent != 0
		if content {
			d.stack = append(d.stack, t)
		} else {
			d.pendingEnd, d.pendingTag, d.pendingOff = true, t, off
		}
		return Token{Kind: StartElement, Tag: t, Content: content, Offset: off}, nil
	}
}

// pop closes the innermost open element and returns its tag; closing the root ends
// the document.
func (d *Decoder) pop() Tag {
	t := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	d.rootDone = len(d.stack) == 0
	return t
}

// inElement rejects character data outside the root element.
func (d *Decoder) inElement(off int64, what string) error {
	if len(d.stack) == 0 {
		return syntaxErr(off, ErrStructure, "%s outside the root element", what)
	}
	return nil
}

// scanString returns the index of the NUL that ends the inline string at the start
// of b, provided the string before it is valid UTF-8; otherwise -1 (no NUL, or bad
// UTF-8: the general path then reports which). Eight bytes at a time it looks for a
// zero byte and a high bit together, so ASCII strings (most ActiveSync values) cost
// one pass and no utf8.Valid call.
func scanString(b []byte) int {
	var high uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if k := firstZero(w); k >= 0 {
			high |= w & (1<<(8*k) - 1)
			return validEnd(b, i+k, high)
		}
		high |= w
	}
	for ; i < len(b); i++ {
		if b[i] == 0 {
			return validEnd(b, i, high)
		}
		high |= uint64(b[i])
	}
	return -1
}

// validEnd returns n when b[:n] is valid UTF-8 (always so when no byte had the high
// bit, as high records), else -1.
func validEnd(b []byte, n int, high uint64) int {
	if high&swarHigh != 0 && !utf8.Valid(b[:n]) {
		return -1
	}
	return n
}

// invalidUTF8At returns the index of the first byte of s that breaks UTF-8.
func invalidUTF8At(s []byte) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(s)
}

// ReadElementText reads the content of the element whose StartElement was just
// returned, through its EndElement, and returns its text: the pieces of STR_I,
// STR_T, ENTITY and OPAQUE joined. A child element inside is an ErrStructure error.
// The result aliases the decoder's buffer (or an internal scratch buffer) and is
// valid until the next call. For a start tag without the content flag it returns
// an empty result. The common case (one STR_I and the END) is a single fast step.
func (d *Decoder) ReadElementText() ([]byte, error) {
	if d.started && !d.pendingEnd && d.err == nil && len(d.stack) > 0 && d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case tokStrI:
			rest := d.buf[d.pos+1:]
			if i := scanString(rest); i >= 0 && i+1 < len(rest) && rest[i+1] == tokEnd && i <= d.lim.MaxStringLength {
				d.pos += i + 3
				d.pop()
				return rest[:i:i], nil
			}
		case tokEnd:
			d.pos++
			d.pop()
			return nil, nil
		}
	}
	// General path: the pieces (STR_I, ENTITY, STR_T, OPAQUE) are copied into
	// scratch as they come, because reading the next token may refill (and move)
	// a streaming decoder's window under the previous token's Data.
	var t Token
	d.scratch = d.scratch[:0]
	for {
		if err := d.ReadToken(&t); err != nil {
			if err == io.EOF {
				return nil, syntaxErr(d.Offset(), ErrTruncated, "input ends inside an element")
			}
			return nil, err
		}
		switch t.Kind {
		case EndElement:
			return d.scratch, nil
		case StartElement:
			return nil, d.fail(syntaxErr(t.Offset, ErrStructure, "element <%s> where only text was expected", t.Tag))
		default:
			d.scratch = append(d.scratch, t.Data...)
		}
	}
}

// Skip skips the rest of the element whose StartElement was just returned,
// including its EndElement.
func (d *Decoder) Skip() error {
	depth := 1
	for depth > 0 {
		tok, err := d.Next()
		if err != nil {
			if err == io.EOF {
				return syntaxErr(d.Offset(), ErrTruncated, "input ends inside a skipped element")
			}
			return err
		}
		switch tok.Kind {
		case StartElement:
			depth++
		case EndElement:
			depth--
		}
	}
	return nil
}
