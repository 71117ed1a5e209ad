// Package transport holds the FolderSync wire types (MS-ASCMD 2.2.1.5) and their
// WBXML encoding through package wbxml.
//
// The FolderSync element set is the same in every protocol version from 2.5 to 16.1
// (MS-ASCMD 2.2.3.76 and its children list support in all of them), so one decoder
// reads requests and responses of 2.5-12.1 clients (the Microsoft connectivity
// tester speaks 12.0) and of 14.0+ clients (Nine speaks 16.1) alike.
package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/easkit/foldersync/wbxml"
)

// FolderHierarchy code-page tags (MS-ASWBXML 2.1.2.1.8).
var (
	tagFolderSync  = wbxml.MustTag("FolderHierarchy", "FolderSync")
	tagStatus      = wbxml.MustTag("FolderHierarchy", "Status")
	tagSyncKey     = wbxml.MustTag("FolderHierarchy", "SyncKey")
	tagChanges     = wbxml.MustTag("FolderHierarchy", "Changes")
	tagCount       = wbxml.MustTag("FolderHierarchy", "Count")
	tagAdd         = wbxml.MustTag("FolderHierarchy", "Add")
	tagUpdate      = wbxml.MustTag("FolderHierarchy", "Update")
	tagDelete      = wbxml.MustTag("FolderHierarchy", "Delete")
	tagServerID    = wbxml.MustTag("FolderHierarchy", "ServerId")
	tagParentID    = wbxml.MustTag("FolderHierarchy", "ParentId")
	tagDisplayName = wbxml.MustTag("FolderHierarchy", "DisplayName")
	tagType        = wbxml.MustTag("FolderHierarchy", "Type")
)

// MaxSyncKeyLength is the longest SyncKey MS-ASCMD allows (2.2.3.181.2: up to 64 characters).
const MaxSyncKeyLength = 64

// MaxServerIDLength is the longest folder ServerId (MS-ASCMD 2.2.3.166.4: an opaque
// string of up to 64 characters).
const MaxServerIDLength = 64

// InitialSyncKey is the SyncKey of a first (or reset) FolderSync (MS-ASCMD 2.2.3.181.2).
const InitialSyncKey = "0"

// FolderSyncRequest is the body of a FolderSync request (MS-ASCMD 2.2.1.5.1).
type FolderSyncRequest struct {
	// SyncKey is the key of the last successful FolderSync, or "0" for the first.
	SyncKey string
}

// ChangeOp is the kind of a hierarchy change.
type ChangeOp uint8

// Change kinds: the Add, Update and Delete children of Changes (MS-ASCMD 2.2.3.25).
const (
	OpAdd ChangeOp = iota + 1
	OpUpdate
	OpDelete
)

func (op ChangeOp) String() string {
	switch op {
	case OpAdd:
		return "Add"
	case OpUpdate:
		return "Update"
	case OpDelete:
		return "Delete"
	}
	return fmt.Sprintf("ChangeOp(%d)", uint8(op))
}

// FolderChange is one Add, Update or Delete. A Delete carries only ServerID.
// (The one-byte fields come last so a change is 56 bytes, not 64: a 100,000-folder
// hierarchy is that many of them.)
type FolderChange struct {
	ServerID    string
	ParentID    string // "0" for a folder at the top of the hierarchy
	DisplayName string
	Op          ChangeOp
	Type        FolderType
}

// Presence records which optional elements a response carried (MS-ASCMD 2.2.3.76:
// SyncKey and Changes are optional; 2.2.3.37: Count is optional), so that encoding a
// decoded response reproduces what the server sent.
type Presence struct {
	SyncKey, Changes, Count bool
}

// FolderSyncResponse is the body of a FolderSync response (MS-ASCMD 2.2.1.5.2).
type FolderSyncResponse struct {
	// Status is the FolderSync status (MS-ASCMD 2.2.3.177.5) or a common status
	// (MS-ASCMD 2.2.2); 1 is success.
	Status int
	// SyncKey is the new key the client sends next time.
	SyncKey string
	// Count is the server's count of changes (Changes/Count).
	Count int
	// Changes are the hierarchy changes in document order. Order matters: a Delete
	// and a later Add of the same ServerId leave the folder present.
	Changes []FolderChange
	// Present says which optional elements were (or are to be) written.
	Present Presence
}

// NewSuccessResponse builds a Status 1 response with a SyncKey, Changes and a Count
// equal to the number of changes, as servers send after a successful FolderSync.
func NewSuccessResponse(syncKey string, changes []FolderChange) *FolderSyncResponse {
	return &FolderSyncResponse{
		Status: 1, SyncKey: syncKey, Count: len(changes), Changes: changes,
		Present: Presence{SyncKey: true, Changes: true, Count: true},
	}
}

// NewStatusResponse builds an error response that carries only a Status, as servers
// answer a failed FolderSync (MS-ASCMD 2.2.3.177.5).
func NewStatusResponse(status int) *FolderSyncResponse {
	return &FolderSyncResponse{Status: status}
}

// FieldError reports a FolderSync body that is well-formed WBXML but does not follow
// the FolderSync schema (MS-ASCMD 6.14, 6.15): which field, where, and what is wrong.
type FieldError struct {
	// Field is the element path, e.g. "FolderSync/Changes/Add[3]/Type".
	Field string
	// Offset is the byte offset of the element in the body, or -1 when the error is
	// about a value to encode (Validate).
	Offset int64
	// Value is the offending text, when there is one.
	Value string
	Msg   string
}

func (e *FieldError) Error() string {
	s := e.Field + ": " + e.Msg
	if e.Value != "" {
		s += fmt.Sprintf(" (value %q)", e.Value)
	}
	if e.Offset < 0 { // a value to encode, not a body: there is no offset
		return s
	}
	return fmt.Sprintf("offset %d: %s", e.Offset, s)
}

// MarshalWBXML encodes the request (header, FolderSync, SyncKey).
func (r *FolderSyncRequest) MarshalWBXML() ([]byte, error) {
	enc := wbxml.NewEncoder(nil)
	enc.Grow(12 + len(r.SyncKey))
	enc.StartElement(tagFolderSync)
	enc.StartElement(tagSyncKey)
	enc.TextString(r.SyncKey)
	enc.EndElement()
	enc.EndElement()
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// MarshalWBXML encodes the response. Optional elements are written when Present says
// so or when they have a value (a SyncKey, at least one change).
func (r *FolderSyncResponse) MarshalWBXML() ([]byte, error) {
	return r.AppendWBXML(nil)
}

// AppendWBXML appends the encoded response to dst and returns the extended slice,
// in the manner of encoding.BinaryAppender: a server encoding many responses reuses
// one buffer (AppendWBXML(buf[:0])).
func (r *FolderSyncResponse) AppendWBXML(dst []byte) ([]byte, error) {
	enc := wbxml.NewAppendEncoder(dst)
	enc.Grow(r.encodedSizeHint())
	if err := r.encode(enc); err != nil {
		return dst, err
	}
	return enc.Bytes(), nil
}

// encodedSizeHint is the encoded size: the strings plus 30 bytes of tokens, STR_I
// markers and terminators per change, so MarshalWBXML allocates once.
func (r *FolderSyncResponse) encodedSizeHint() int {
	n := 40 + len(r.SyncKey)
	for i := range r.Changes {
		c := &r.Changes[i]
		n += 30 + len(c.ServerID) + len(c.ParentID) + len(c.DisplayName)
	}
	return n
}

// EncodeWBXML writes the encoded response to w; the Encoder hands w its output in
// pieces of about 64 KiB rather than buffering the whole document.
func (r *FolderSyncResponse) EncodeWBXML(w io.Writer) error {
	return r.encode(wbxml.NewEncoder(w))
}

// Validate reports what would make a decoder (ours included) reject the response:
// a negative Status or Count, a SyncKey or ServerId over 64 characters, a change
// without an operation or a ServerId, an Add or Update with an invalid Type.
// MarshalWBXML and AppendWBXML call it first, so nothing invalid is ever written.
func (r *FolderSyncResponse) Validate() error {
	bad := func(field, msg string) error { return &FieldError{Field: field, Offset: -1, Msg: msg} }
	switch {
	case r.Status < 0:
		return bad("FolderSync/Status", fmt.Sprintf("negative status %d", r.Status))
	case r.Count < 0:
		return bad("FolderSync/Changes/Count", fmt.Sprintf("negative count %d", r.Count))
	case TooLong(r.SyncKey, MaxSyncKeyLength):
		return bad("FolderSync/SyncKey", fmt.Sprintf("longer than the %d characters MS-ASCMD 2.2.3.181.2 allows", MaxSyncKeyLength))
	}
	for i := range r.Changes {
		c := &r.Changes[i]
		// The field path is built only for an error: this runs on every encode.
		where := func() string { return fmt.Sprintf("FolderSync/Changes[%d]", i) }
		switch {
		case c.Op != OpAdd && c.Op != OpUpdate && c.Op != OpDelete:
			return bad(where(), fmt.Sprintf("change has no operation (Op %d): set OpAdd, OpUpdate or OpDelete", c.Op))
		case c.ServerID == "":
			return bad(where()+"/ServerId", "empty: a folder needs a ServerId (MS-ASCMD 2.2.3.166.4)")
		case TooLong(c.ServerID, MaxServerIDLength) || TooLong(c.ParentID, MaxServerIDLength):
			return bad(where(), fmt.Sprintf("ServerId or ParentId longer than the %d characters MS-ASCMD 2.2.3.166.4 allows", MaxServerIDLength))
		case c.Op != OpDelete && !c.Type.Valid():
			return bad(where()+"/Type", fmt.Sprintf("folder type %d: MS-ASCMD 2.2.3.186.3 defines 1-19", c.Type))
		}
	}
	return nil
}

// TooLong reports whether s has more than n characters. MS-ASCMD limits SyncKeys
// and ServerIds to 64 characters, not bytes (2.2.3.181.2, 2.2.3.166.4); strings of
// at most n bytes are never counted.
func TooLong(s string, n int) bool { return len(s) > n && utf8.RuneCountInString(s) > n }

func (r *FolderSyncResponse) encode(enc *wbxml.Encoder) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var num [20]byte
	text := func(t wbxml.Tag, s string) {
		enc.StartElement(t)
		enc.TextString(s)
		enc.EndElement()
	}
	number := func(t wbxml.Tag, v int) {
		enc.StartElement(t)
		enc.Text(strconv.AppendInt(num[:0], int64(v), 10))
		enc.EndElement()
	}
	enc.StartElement(tagFolderSync)
	number(tagStatus, r.Status)
	if r.Present.SyncKey || r.SyncKey != "" {
		text(tagSyncKey, r.SyncKey)
	}
	if r.Present.Changes || r.Present.Count || len(r.Changes) > 0 {
		enc.StartElement(tagChanges)
		if r.Present.Count || r.Count != 0 {
			number(tagCount, r.Count)
		}
		for i := range r.Changes {
			c := &r.Changes[i]
			if c.Op == OpDelete {
				enc.StartElement(tagDelete)
				text(tagServerID, c.ServerID)
				enc.EndElement()
				continue
			}
			if c.Op == OpAdd {
				enc.StartElement(tagAdd)
			} else {
				enc.StartElement(tagUpdate)
			}
			text(tagServerID, c.ServerID)
			text(tagParentID, c.ParentID)
			text(tagDisplayName, c.DisplayName)
			number(tagType, int(c.Type))
			enc.EndElement()
		}
		enc.EndElement()
	}
	enc.EndElement()
	return enc.Close()
}

// UnmarshalFolderSyncRequest decodes a FolderSync request body.
func UnmarshalFolderSyncRequest(b []byte) (*FolderSyncRequest, error) {
	p := newParser(wbxml.NewDecoderBytes(b))
	if err := p.root(); err != nil {
		return nil, err
	}
	req := &FolderSyncRequest{}
	seen := false
	for {
		if err := p.child(fFolderSync); err != nil {
			return nil, err
		}
		tok := p.tok
		if tok.Kind == wbxml.EndElement {
			break
		}
		if tok.Tag != tagSyncKey {
			return nil, p.unexpected(fFolderSync, "a request holds only SyncKey")
		}
		if seen {
			return nil, p.fieldErr(tok.Offset, fSyncKey, "", "SyncKey appears twice")
		}
		seen = true
		s, err := p.text(fSyncKey, MaxSyncKeyLength)
		if err != nil {
			return nil, err
		}
		req.SyncKey = string(s)
	}
	if !seen {
		return nil, p.fieldErr(p.tok.Offset, fSyncKey, "", "missing: a FolderSync request must carry a SyncKey (MS-ASCMD 2.2.3.181.2), \"0\" for the first sync")
	}
	return req, p.end()
}

// UnmarshalFolderSyncResponse decodes a FolderSync response body held in memory.
func UnmarshalFolderSyncResponse(b []byte) (*FolderSyncResponse, error) {
	return DecodeFolderSyncResponse(wbxml.NewDecoderBytes(b))
}

// DecodeFolderSyncResponse decodes a FolderSync response from d (set d.Limits to
// bound hostile input). Malformed WBXML is a *wbxml.SyntaxError; well-formed WBXML
// that breaks the FolderSync schema is a *FieldError. Both carry the byte offset.
func DecodeFolderSyncResponse(d *wbxml.Decoder) (*FolderSyncResponse, error) {
	p := newParser(d)
	if err := p.root(); err != nil {
		return nil, err
	}
	resp := &FolderSyncResponse{Status: -1}
	for {
		if err := p.child(fFolderSync); err != nil {
			return nil, err
		}
		tok := p.tok
		if tok.Kind == wbxml.EndElement {
			break
		}
		switch tok.Tag {
		case tagStatus:
			if resp.Status != -1 {
				return nil, p.fieldErr(tok.Offset, fStatus, "", "Status appears twice")
			}
			var err error
			if resp.Status, err = p.int(fStatus); err != nil {
				return nil, err
			}
		case tagSyncKey:
			if resp.Present.SyncKey {
				return nil, p.fieldErr(tok.Offset, fSyncKey, "", "SyncKey appears twice")
			}
			s, err := p.text(fSyncKey, MaxSyncKeyLength)
			if err != nil {
				return nil, err
			}
			resp.SyncKey, resp.Present.SyncKey = string(s), true
		case tagChanges:
			if resp.Present.Changes {
				return nil, p.fieldErr(tok.Offset, fChanges, "", "Changes appears twice")
			}
			resp.Present.Changes = true
			err := p.changes(resp)
			p.arena.flush(resp.Changes)
			if err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected(fFolderSync, "a response holds Status, SyncKey and Changes")
		}
	}
	if resp.Status == -1 {
		return nil, p.fieldErr(p.tok.Offset, fStatus, "", "missing: every FolderSync response carries a Status (MS-ASCMD 2.2.3.177.5)")
	}
	return resp, p.end()
}

// parser walks a FolderSync document token by token into one reused Token: no
// tree, no per-token allocation.
type parser struct {
	d           *wbxml.Decoder
	tok         wbxml.Token
	arena       arena    // backs ServerId and DisplayName strings
	op          ChangeOp // the change being read, for error paths
	n           int      // its index among changes of its kind, from 1
	changeIndex int      // its index in resp.Changes
}

// field names an element for error messages: one byte on the hot path, turned into
// a path such as "FolderSync/Changes/Add[3]/Type" only when an error is reported
// (the change's kind and index come from the parser's state).
type field uint8

const (
	fFolderSync field = iota
	fStatus
	fSyncKey
	fChanges
	fCount
	fChange // the current Add, Update or Delete
	fServerID
	fParentID
	fDisplayName
	fType
)

var fieldPaths = [...]string{
	fFolderSync: "FolderSync", fStatus: "FolderSync/Status", fSyncKey: "FolderSync/SyncKey",
	fChanges: "FolderSync/Changes", fCount: "FolderSync/Changes/Count",
	fServerID: "ServerId", fParentID: "ParentId", fDisplayName: "DisplayName", fType: "Type",
}

func (p *parser) path(f field) string {
	if f < fChange {
		return fieldPaths[f]
	}
	s := fmt.Sprintf("FolderSync/Changes/%s[%d]", p.op, p.n)
	if f > fChange {
		s += "/" + fieldPaths[f]
	}
	return s
}

func newParser(d *wbxml.Decoder) *parser { return &parser{d: d, arena: arena{d: d}} }

func (p *parser) fieldErr(off int64, f field, value, msg string) error {
	return &FieldError{Field: p.path(f), Offset: off, Value: value, Msg: msg}
}

// unexpected reports the element in p.tok as out of place in parent.
func (p *parser) unexpected(parent field, hint string) error {
	where := p.path(parent)
	return &FieldError{Field: where + "/" + p.tok.Tag.Name(), Offset: p.tok.Offset, Msg: fmt.Sprintf("unexpected element <%s> in <%s>: %s", p.tok.Tag, where, hint)}
}

// read reads the next token into p.tok; the end of input is an error here, since
// the parser only reads while the root element is open.
func (p *parser) read() error { return readOpen(p.d, &p.tok) }

// readOpen reads the next token into tok while a root element is open, where the
// end of input is a truncation (the FolderSync and Provision parsers).
func readOpen(d *wbxml.Decoder, tok *wbxml.Token) error {
	err := d.ReadToken(tok)
	if err == io.EOF {
		return &wbxml.SyntaxError{Offset: d.Offset(), Err: wbxml.ErrTruncated, Msg: "document ended early"}
	}
	return err
}

// readEnd checks that nothing follows the root element (root names it).
func readEnd(d *wbxml.Decoder, tok *wbxml.Token, root string) error {
	err := d.ReadToken(tok)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return &wbxml.SyntaxError{Offset: tok.Offset, Err: wbxml.ErrTrailingData, Msg: "data after the " + root + " element"}
}

func (p *parser) root() error {
	if err := p.read(); err != nil {
		return err
	}
	if p.tok.Kind != wbxml.StartElement || p.tok.Tag != tagFolderSync {
		return p.fieldErr(p.tok.Offset, fFolderSync, "", fmt.Sprintf("root element is <%s>, want <FolderHierarchy:FolderSync>: this is not a FolderSync body", p.tok.Tag))
	}
	return nil
}

// end checks that nothing follows the root element.
func (p *parser) end() error { return readEnd(p.d, &p.tok, "FolderSync") }

// child reads up to the next child start tag of the current element, or its end,
// into p.tok. Text directly inside a container is an error.
func (p *parser) child(parent field) error {
	for {
		if err := p.read(); err != nil {
			return err
		}
		switch p.tok.Kind {
		case wbxml.StartElement, wbxml.EndElement:
			return nil
		default:
			if p.tok.Kind == wbxml.Text && len(bytes.Trim(p.tok.Data, " \t\r\n")) == 0 {
				continue // whitespace between elements, as some encoders keep
			}
			return p.fieldErr(p.tok.Offset, parent, string(truncate(p.tok.Data)), fmt.Sprintf("<%s> holds elements, not text", p.path(parent)))
		}
	}
}

// text reads the content of the leaf element whose start tag is in p.tok, through
// its end tag. The result aliases the decoder's buffer: convert it before reading on.
func (p *parser) text(f field, maxLen int) ([]byte, error) {
	startOff := p.tok.Offset
	if !p.tok.Content {
		return nil, p.read() // the EndElement the decoder supplies
	}
	out, err := p.d.ReadElementText()
	if err != nil {
		var se *wbxml.SyntaxError
		if errors.As(err, &se) && errors.Is(err, wbxml.ErrStructure) {
			return nil, p.fieldErr(se.Offset, f, "", fmt.Sprintf("%s holds text only: %s", p.path(f), se.Msg))
		}
		return nil, err
	}
	// MS-ASCMD limits SyncKey and ServerId to 64 characters, not bytes; a string of
	// at most maxLen bytes has at most maxLen characters, so counting is rarely needed.
	if maxLen > 0 && len(out) > maxLen {
		if n := utf8.RuneCount(out); n > maxLen {
			return nil, p.fieldErr(startOff, f, string(truncate(out)), fmt.Sprintf("%d characters, longer than the %d MS-ASCMD allows", n, maxLen))
		}
	}
	return out, nil
}

func (p *parser) int(f field) (int, error) {
	startOff := p.tok.Offset
	s, err := p.text(f, 0)
	if err != nil {
		return 0, err
	}
	n, ok := parseUint(s)
	if !ok {
		return 0, p.fieldErr(startOff, f, string(truncate(s)), "not an unsigned integer")
	}
	return n, nil
}

// parseUint parses a decimal integer without allocating; values above 1e9 are
// refused (no FolderSync field gets near that).
func parseUint(s []byte) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// changes reads the Changes element whose start tag is in p.tok.
func (p *parser) changes(resp *FolderSyncResponse) error {
	if !p.tok.Content {
		return p.read()
	}
	var counts [4]int // per ChangeOp, for field paths
	for {
		if err := p.child(fChanges); err != nil {
			return err
		}
		if p.tok.Kind == wbxml.EndElement {
			return nil
		}
		var op ChangeOp
		switch p.tok.Tag {
		case tagCount:
			if resp.Present.Count {
				return p.fieldErr(p.tok.Offset, fCount, "", "Count appears twice")
			}
			resp.Present.Count = true
			var err error
			if resp.Count, err = p.int(fCount); err != nil {
				return err
			}
			if resp.Changes == nil && resp.Count > 0 {
				// Pre-size from the claim, but never beyond what the input can hold
				// (a Delete takes at least 8 bytes): a hostile Count cannot allocate.
				resp.Changes = make([]FolderChange, 0, min(resp.Count, 1+int(p.remaining()/8)))
			}
			continue
		case tagAdd:
			op = OpAdd
		case tagUpdate:
			op = OpUpdate
		case tagDelete:
			op = OpDelete
		default:
			return p.unexpected(fChanges, "Changes holds Count, Add, Update and Delete")
		}
		counts[op]++
		resp.Changes = append(resp.Changes, FolderChange{})
		p.changeIndex = len(resp.Changes) - 1
		if err := p.change(&resp.Changes[p.changeIndex], op, counts[op]); err != nil {
			return err
		}
		if p.arena.full() {
			p.arena.flush(resp.Changes)
		}
	}
}

// remaining estimates the unread input, for bounding pre-allocation.
func (p *parser) remaining() int64 {
	if n := p.d.Remaining(); n >= 0 {
		return n
	}
	return 1 << 16
}

// change reads the Add, Update or Delete whose start tag is in p.tok into c.
func (p *parser) change(c *FolderChange, op ChangeOp, n int) error {
	c.Op = op
	p.op, p.n = op, n
	startOff := p.tok.Offset
	if !p.tok.Content {
		return p.fieldErr(startOff, fChange, "", "empty: it must carry a ServerId")
	}
	var have [4]bool // ServerId, ParentId, DisplayName, Type
	for {
		if err := p.child(fChange); err != nil {
			return err
		}
		if p.tok.Kind == wbxml.EndElement {
			break
		}
		var f field
		switch p.tok.Tag {
		case tagServerID:
			f = fServerID
		case tagParentID:
			f = fParentID
		case tagDisplayName:
			f = fDisplayName
		case tagType:
			f = fType
		default:
			return p.unexpected(fChange, "a change holds ServerId, ParentId, DisplayName and Type")
		}
		if op == OpDelete && f != fServerID {
			return p.unexpected(fChange, "a Delete holds only ServerId (MS-ASCMD 2.2.3.42.1)")
		}
		idx := f - fServerID
		if have[idx] {
			return p.fieldErr(p.tok.Offset, f, "", p.tok.Tag.Name()+" appears twice")
		}
		have[idx] = true
		off := p.tok.Offset
		limit := 0
		if f == fServerID || f == fParentID {
			limit = MaxServerIDLength
		}
		s, err := p.text(f, limit)
		if err != nil {
			return err
		}
		switch f {
		case fServerID:
			if len(s) == 0 {
				return p.fieldErr(off, f, "", "empty: a folder needs a ServerId (MS-ASCMD 2.2.3.166.4)")
			}
			p.arena.add(s, p.changeIndex, fServerID, &c.ServerID)
		case fParentID:
			p.setParent(s, c)
		case fDisplayName:
			p.arena.add(s, p.changeIndex, fDisplayName, &c.DisplayName)
		case fType:
			v, ok := parseUint(s)
			if !ok || v > 255 || !FolderType(v).Valid() {
				return p.fieldErr(off, f, string(truncate(s)), "not a folder type: MS-ASCMD 2.2.3.186.3 defines 1-19")
			}
			c.Type = FolderType(v)
		}
	}
	if !have[0] {
		return p.fieldErr(startOff, fServerID, "", "missing: every change carries a ServerId (MS-ASCMD 2.2.3.166.4)")
	}
	if op != OpDelete {
		for _, f := range [...]field{fParentID, fDisplayName, fType} {
			if !have[f-fServerID] {
				return p.fieldErr(startOff, f, "", fmt.Sprintf("missing: every %s carries %s (MS-ASCMD 2.2.3.%s)", op, fieldPaths[f], specOf[f]))
			}
		}
	}
	return nil
}

// specOf is the MS-ASCMD section of each required child of Add and Update.
var specOf = [...]string{fServerID: "166.4", fParentID: "129.2", fDisplayName: "49.4", fType: "186.3"}

// setParent sets a ParentId: "0" (the top of the hierarchy, the most common value)
// is a shared constant; any other goes to the arena like the other strings.
func (p *parser) setParent(b []byte, c *FolderChange) {
	if string(b) == "0" {
		c.ParentID = "0"
		return
	}
	p.arena.add(b, p.changeIndex, fParentID, &c.ParentID)
}

// arena gives the many small strings of a hierarchy (ServerIds, ParentIds,
// DisplayNames) a few
// shared backing strings instead of one allocation each: text is appended to a
// chunk, and when the chunk is full it becomes one string that the pending fields
// are set to slices of. Fields are found again by change index, so growth of the
// Changes slice does not matter. Long values get their own string.
type arena struct {
	b       strings.Builder
	pending []pendingField
	// d is the document's decoder: a chunk is never made larger than what the rest
	// of a document in memory can fill (d.Remaining), so the strings of a small
	// answer do not pin 32 KiB for as long as a stored tree holds them.
	d *wbxml.Decoder
}

type pendingField struct {
	change     int32
	which      field
	start, end int32
}

const (
	arenaChunk   = 32 << 10
	arenaMaxItem = 256
)

// add sets *dst to s at once when s is long or empty, or records it for the next flush.
func (a *arena) add(s []byte, change int, which field, dst *string) {
	if len(s) == 0 || len(s) > arenaMaxItem {
		*dst = string(s)
		return
	}
	if a.b.Cap() == 0 {
		n := arenaChunk
		if r := a.d.Remaining(); r >= 0 && r < int64(n-len(s)) {
			n = len(s) + int(r) // what is left of the document bounds what can still be added
		}
		a.b.Grow(n)
	}
	start := a.b.Len()
	a.b.Write(s)
	a.pending = append(a.pending, pendingField{change: int32(change), which: which, start: int32(start), end: int32(a.b.Len())})
}

func (a *arena) full() bool { return a.b.Len() > arenaChunk-2*arenaMaxItem }

// flush turns the chunk into one string and points the pending fields into it.
func (a *arena) flush(changes []FolderChange) {
	if len(a.pending) == 0 {
		return
	}
	whole := a.b.String()
	for _, f := range a.pending {
		c := &changes[f.change]
		switch f.which {
		case fServerID:
			c.ServerID = whole[f.start:f.end]
		case fParentID:
			c.ParentID = whole[f.start:f.end]
		default:
			c.DisplayName = whole[f.start:f.end]
		}
	}
	a.pending = a.pending[:0]
	a.b = strings.Builder{}
}
