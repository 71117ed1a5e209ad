// Package wbxml encodes and decodes WBXML 1.3 (WAP-192-WBXML) as Exchange ActiveSync
// uses it: the 26 code pages of MS-ASWBXML v24.0 (pages 0-25), UTF-8 only, no
// attributes, LITERAL, PI or extension tokens.
//
// It follows the shape of encoding/xml: a streaming Decoder with a token API (Next,
// or ReadToken to fill a reused Token), an Encoder that writes canonical bytes, a
// small tree API above them (Unmarshal, Marshal, Node) and an XML bridge (WriteXML,
// ReadXML) that renders documents the way MS-ASCMD's examples show them.
//
// Canonical output means: header 03 01 6A 00, SWITCH_PAGE only when the page changes,
// the content flag only on elements with content, STR_I for text and OPAQUE for
// binary. It is byte-identical to libwbxml2's `xml2wbxml -a -n -k`.
//
// Decoding never trusts the input: every malformed document yields a *SyntaxError
// carrying the byte offset and a kind (ErrTruncated, ErrUnknownTag, ...) for
// errors.Is; lengths are checked against Limits and against the input before any
// allocation; nothing recurses on input depth.
package wbxml
