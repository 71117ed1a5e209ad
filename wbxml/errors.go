package wbxml

import (
	"errors"
	"fmt"
)

// Kinds of malformed input. A *SyntaxError wraps exactly one of them, so callers
// can branch with errors.Is(err, wbxml.ErrTruncated) and read the offset with errors.As.
var (
	// ErrTruncated: the input ends before the document does.
	ErrTruncated = errors.New("truncated")
	// ErrHeader: the WBXML header (version, public id, charset, string table) is malformed.
	ErrHeader = errors.New("bad header")
	// ErrUnsupportedVersion: not WBXML 1.1, 1.2 or 1.3.
	ErrUnsupportedVersion = errors.New("unsupported WBXML version")
	// ErrUnsupportedCharset: MS-ASWBXML 2.1.1 requires UTF-8 (IANA MIBenum 106).
	ErrUnsupportedCharset = errors.New("unsupported charset")
	// ErrUnsupportedToken: attributes, LITERAL*, PI and EXT* tokens, which ActiveSync never uses.
	ErrUnsupportedToken = errors.New("token not used by ActiveSync")
	// ErrUnknownPage: SWITCH_PAGE to a code page MS-ASWBXML does not define.
	ErrUnknownPage = errors.New("unknown code page")
	// ErrUnknownTag: a tag token its code page does not define.
	ErrUnknownTag = errors.New("unknown tag")
	// ErrInvalidUTF8: an inline or string-table string that is not UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrInvalidEntity: an ENTITY that is not a Unicode scalar value, or is U+0000.
	ErrInvalidEntity = errors.New("invalid character entity")
	// ErrStringTable: a STR_T or public-id reference outside the string table.
	ErrStringTable = errors.New("bad string table reference")
	// ErrStructure: END without an open element, or content outside the root element.
	ErrStructure = errors.New("malformed structure")
	// ErrTrailingData: bytes after the root element's END, a second root element included.
	ErrTrailingData = errors.New("trailing data")
	// ErrBadInteger: a multi-byte integer in the body (STR_T index, ENTITY, OPAQUE
	// length) longer than 5 bytes or above 32 bits. In the header it is ErrHeader.
	ErrBadInteger = errors.New("bad multi-byte integer")
	// ErrLimit: a configured limit (depth, document, string, opaque, string table) was exceeded.
	ErrLimit = errors.New("limit exceeded")
	// ErrInvalidInput: the encoder was asked to write something WBXML cannot carry.
	ErrInvalidInput = errors.New("invalid input")
)

// SyntaxError reports malformed WBXML: where (the byte offset from the start of the
// document), what kind (Err, one of the Err* values) and a sentence saying what is wrong.
type SyntaxError struct {
	Offset int64
	Err    error
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// Unwrap returns the kind, for errors.Is.
func (e *SyntaxError) Unwrap() error { return e.Err }

func syntaxErr(off int64, kind error, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Err: kind, Msg: fmt.Sprintf(format, args...)}
}

// EncodeError reports a request to the Encoder that cannot be written as WBXML.
type EncodeError struct {
	Err error
	Msg string
}

func (e *EncodeError) Error() string { return "wbxml: encode: " + e.Msg }

// Unwrap returns the kind, for errors.Is.
func (e *EncodeError) Unwrap() error { return e.Err }

func encodeErr(kind error, format string, args ...any) *EncodeError {
	return &EncodeError{Err: kind, Msg: fmt.Sprintf(format, args...)}
}
