package wbxml

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BridgeNamespace is the XML namespace of the bridge's own markers: the attribute
// wbxml:opaque="base64" on an element whose content was an OPAQUE value, the attribute
// wbxml:string="base64" on text XML 1.0 cannot carry (control characters), and
// elements named wbxml:raw-P-TT for tags outside MS-ASWBXML (page P, token 0xTT).
const BridgeNamespace = "urn:easkit:wbxml"

const bridgePrefix = "wbxml"

// XMLError reports XML the bridge cannot turn into WBXML: where (byte offset, line
// and column in the XML) and what is wrong.
type XMLError struct {
	Offset       int64
	Line, Column int
	Msg          string
}

func (e *XMLError) Error() string {
	return fmt.Sprintf("offset %d (line %d, column %d): %s", e.Offset, e.Line, e.Column, e.Msg)
}

// prefixFor is the prefix the XML writer uses for a namespace that is not the
// default one: the namespace in lower case, as in MS-ASCMD's examples
// (xmlns:airsyncbase="AirSyncBase"), and "rm" for RightsManagement as MS-ASCMD writes it.
func prefixFor(page uint8) string {
	ns := PageNamespace(page)
	if ns == "RightsManagement" {
		return "rm"
	}
	return strings.ToLower(ns)
}

// WriteXML writes the tree under root as indented XML with namespaces written the
// way MS-ASCMD's examples write them: the root's code page is the default namespace
// (xmlns="FolderHierarchy") and every other page used gets a lower-case prefix
// declared on the root (xmlns:airsyncbase="AirSyncBase"). Text is written exactly
// (escaped), so ReadXML gives back the same tree.
func WriteXML(w io.Writer, root *Node) error {
	if root == nil || root.Kind != ElementNode {
		return encodeErr(ErrStructure, "WriteXML needs an element as the root")
	}
	// The root's page is the default namespace only when the root is a known tag:
	// an unknown root is written as a bridge element and declares no default.
	x := &xmlWriter{w: bufio.NewWriter(w), rootPage: root.Tag.Page, rootDefault: root.Tag.Known()}
	var pages [NumPages]bool
	x.scan(root, &pages)
	x.w.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	var decl strings.Builder
	if root.Tag.Known() {
		fmt.Fprintf(&decl, ` xmlns="%s"`, PageNamespace(root.Tag.Page))
	}
	for p, used := range pages {
		if used && (uint8(p) != root.Tag.Page || !root.Tag.Known()) {
			fmt.Fprintf(&decl, ` xmlns:%s="%s"`, prefixFor(uint8(p)), PageNamespace(uint8(p)))
		}
	}
	if x.needBridge {
		fmt.Fprintf(&decl, ` xmlns:%s="%s"`, bridgePrefix, BridgeNamespace)
	}
	x.element(root, 0, decl.String())
	return x.w.Flush()
}

type xmlWriter struct {
	w           *bufio.Writer
	rootPage    uint8
	rootDefault bool // rootPage is declared as the default namespace
	needBridge  bool
}

// scan records the known pages the tree uses and whether bridge markers are needed.
func (x *xmlWriter) scan(n *Node, pages *[NumPages]bool) {
	switch n.Kind {
	case ElementNode:
		if n.Tag.Known() {
			pages[n.Tag.Page] = true
		} else {
			x.needBridge = true
		}
		compact := writtenCompact(n)
		for _, c := range n.Children {
			if compact && c.Kind != ElementNode && wrapped(c) {
				x.needBridge = true
			}
			x.scan(c, pages)
		}
	case OpaqueNode:
		x.needBridge = true
	case TextNode:
		if !xmlSafe(n.Data) {
			x.needBridge = true
		}
	}
}

// writtenCompact reports whether element n's content is written without layout:
// mixed content or several data runs (not ActiveSync, but WBXML allows it), where
// added white space would change the text.
func writtenCompact(n *Node) bool {
	hasElem, hasData := false, false
	for _, c := range n.Children {
		if c.Kind == ElementNode {
			hasElem = true
		} else {
			hasData = true
		}
	}
	return hasData && (hasElem || len(n.Children) > 1)
}

// wrapped reports whether a data run inside compact content is written in its own
// <wbxml:data>: marked data (opaque, base64 text), and whitespace-only text that a
// reader would otherwise take for layout.
func wrapped(c *Node) bool { return dataAttr(c) != "" || len(bytes.Trim(c.Data, xmlSpace)) == 0 }

func (x *xmlWriter) name(t Tag) string {
	switch {
	case !t.Known():
		return fmt.Sprintf("%s:raw-%d-%02X", bridgePrefix, t.Page, t.Token)
	case t.Page == x.rootPage && x.rootDefault:
		return t.Name()
	default:
		return prefixFor(t.Page) + ":" + t.Name()
	}
}

// element writes n at the given depth; depth < 0 means compact (inside mixed
// content, where added whitespace would change the text).
func (x *xmlWriter) element(n *Node, depth int, extra string) {
	indent, nl := "", ""
	if depth >= 0 {
		indent, nl = strings.Repeat("  ", depth), "\n"
	}
	name := x.name(n.Tag)
	x.w.WriteString(indent + "<" + name + extra)
	if len(n.Children) == 0 {
		x.w.WriteString("/>" + nl)
		return
	}
	switch first := n.Children[0]; {
	case len(n.Children) == 1 && first.Kind != ElementNode:
		// The common case: one text or opaque value.
		x.w.WriteString(dataAttr(first) + ">")
		x.data(first)
	case !writtenCompact(n) && depth >= 0:
		x.w.WriteString(">\n")
		for _, c := range n.Children {
			x.element(c, depth+1, "")
		}
		x.w.WriteString(indent)
	default:
		// Compact: no white space is added, and data runs that need it are wrapped
		// in their own bridge element (see wrapped).
		x.w.WriteString(">")
		for _, c := range n.Children {
			switch {
			case c.Kind == ElementNode:
				x.element(c, -1, "")
			case !wrapped(c):
				x.data(c)
			default:
				x.w.WriteString("<" + bridgePrefix + ":data" + dataAttr(c) + ">")
				x.data(c)
				x.w.WriteString("</" + bridgePrefix + ":data>")
			}
		}
	}
	x.w.WriteString("</" + name + ">" + nl)
}

func dataAttr(c *Node) string {
	switch {
	case c.Kind == OpaqueNode:
		return ` ` + bridgePrefix + `:opaque="base64"`
	case c.Kind == TextNode && !xmlSafe(c.Data):
		return ` ` + bridgePrefix + `:string="base64"`
	}
	return ""
}

func (x *xmlWriter) data(c *Node) {
	if dataAttr(c) != "" {
		x.w.WriteString(base64.StdEncoding.EncodeToString(c.Data))
		return
	}
	// EscapeText also escapes \t, \n and \r, so XML parsers cannot normalise them away.
	xml.EscapeText(x.w, c.Data)
}

// xmlSafe reports whether text can be written as XML 1.0 character data and read
// back unchanged (XML 1.0 section 2.2 forbids most C0 controls).
func xmlSafe(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		b = b[n:]
	}
	return true
}

// ReadXML parses XML written by WriteXML, by MS-ASCMD's examples or by libwbxml's
// wbxml2xml into a tree. Namespaces may be spelt with or without the trailing colon
// and bound to any prefix. Whitespace-only text beside child elements is layout and
// is dropped; text in a leaf element is kept exactly.
func ReadXML(r io.Reader) (*Node, error) {
	d := xml.NewDecoder(r)
	d.Strict = true
	type frame struct {
		n          *Node
		opaque     bool
		b64string  bool
		bridgeData bool
	}
	var stack []*frame
	var root *Node
	kept := map[*Node]bool{} // text from <wbxml:data>: never layout
	// Where the token being handled starts: errors point there.
	var off int64
	var line, col int
	errAt := func(msg string, args ...any) error {
		return &XMLError{Offset: off, Line: line, Column: col, Msg: fmt.Sprintf(msg, args...)}
	}
	for {
		off = d.InputOffset()
		line, col = d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A syntax error is reported where the parser stopped.
			stop := d.InputOffset()
			line, col := d.InputPos()
			msg := err.Error()
			if se, ok := err.(*xml.SyntaxError); ok {
				msg = "XML syntax error: " + se.Msg
			}
			return nil, &XMLError{Offset: stop, Line: line, Column: col, Msg: msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > 0 && stack[len(stack)-1].bridgeData {
				return nil, errAt("<%s:data> holds text only, not <%s>", bridgePrefix, t.Name.Local)
			}
			f := &frame{}
			var tag Tag
			switch {
			case t.Name.Space == BridgeNamespace && t.Name.Local == "data":
				if len(stack) == 0 {
					return nil, errAt("<%s:data> cannot be the root element", bridgePrefix)
				}
				f.bridgeData = true
			case t.Name.Space == BridgeNamespace:
				var ok bool
				if tag, ok = parseRawName(t.Name.Local); !ok {
					return nil, errAt("unknown bridge element %q: raw tags are named raw-PAGE-HEXTOKEN, e.g. raw-7-3F", t.Name.Local)
				}
			case t.Name.Space == "":
				return nil, errAt("element <%s> has no namespace: declare one, e.g. <FolderSync xmlns=\"FolderHierarchy\">", t.Name.Local)
			default:
				var ok bool
				tag, ok = LookupTag(t.Name.Space, t.Name.Local)
				if !ok {
					if _, known := PageOf(t.Name.Space); !known {
						return nil, errAt("namespace %q is not an ActiveSync code page (MS-ASWBXML 2.1.2.1 lists them: AirSync, FolderHierarchy, ...)", t.Name.Space)
					}
					return nil, errAt("element <%s> is not defined in namespace %s (MS-ASWBXML)", t.Name.Local, strings.TrimSuffix(t.Name.Space, ":"))
				}
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns":
				case a.Name.Space == BridgeNamespace && a.Name.Local == "opaque" && a.Value == "base64":
					f.opaque = true
				case a.Name.Space == BridgeNamespace && a.Name.Local == "string" && a.Value == "base64":
					f.b64string = true
				default:
					return nil, errAt("attribute %s=%q on <%s>: ActiveSync elements have no attributes (the bridge knows %s:opaque=\"base64\" and %s:string=\"base64\")", a.Name.Local, a.Value, t.Name.Local, bridgePrefix, bridgePrefix)
				}
			}
			if f.bridgeData {
				// Attached to its parent at its end tag, once its content is known.
				f.n = &Node{Kind: TextNode}
				if f.opaque {
					f.n.Kind = OpaqueNode
				}
				stack = append(stack, f)
				continue
			}
			f.n = &Node{Kind: ElementNode, Tag: tag}
			if len(stack) == 0 {
				if root != nil {
					return nil, errAt("second root element <%s>", t.Name.Local)
				}
				root = f.n
			} else {
				parent := stack[len(stack)-1]
				parent.n.Children = append(parent.n.Children, f.n)
			}
			stack = append(stack, f)
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := finishElement(f.n, f.opaque, f.b64string, f.bridgeData, kept); err != nil {
				return nil, errAt("%s", err)
			}
			if f.bridgeData && (f.n.Kind == OpaqueNode || len(f.n.Data) > 0) {
				// An empty OPAQUE is a value; empty text is nothing (no empty TextNode).
				parent := stack[len(stack)-1].n
				parent.Children = append(parent.Children, f.n)
				kept[f.n] = true
			}
		case xml.CharData:
			if len(t) == 0 {
				continue // an empty CDATA section: no text, as in ReadDocument
			}
			if len(stack) == 0 {
				if len(bytes.Trim(t, xmlSpace)) > 0 {
					return nil, errAt("text outside the root element")
				}
				continue
			}
			f := stack[len(stack)-1]
			if f.bridgeData {
				f.n.Data = append(f.n.Data, t...)
				continue
			}
			n := f.n
			if k := len(n.Children); k > 0 && n.Children[k-1].Kind == TextNode && !kept[n.Children[k-1]] {
				n.Children[k-1].Data = append(n.Children[k-1].Data, t...)
			} else {
				n.Children = append(n.Children, &Node{Kind: TextNode, Data: bytes.Clone(t)})
			}
		}
	}
	if root == nil {
		return nil, errAt("no root element")
	}
	return root, nil
}

// xmlSpace is the white space of XML 1.0 (production S): the only characters layout
// may add between elements.
const xmlSpace = " \t\r\n"

// finishElement applies the bridge markers and drops layout whitespace once an
// element's content is complete.
func finishElement(n *Node, opaque, b64string, bridgeData bool, kept map[*Node]bool) error {
	if bridgeData {
		if opaque || b64string {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(n.Data)))
			if err != nil {
				return fmt.Errorf("bridge data is not base64: %v", err)
			}
			n.Data = raw
		}
		return nil
	}
	hasElem := false
	for _, c := range n.Children {
		if c.Kind == ElementNode {
			hasElem = true
			break
		}
	}
	if hasElem {
		if opaque || b64string {
			return fmt.Errorf("<%s> has child elements, so it cannot carry a base64 value", n.Tag.Name())
		}
		children := n.Children[:0]
		for _, c := range n.Children {
			if c.Kind == TextNode && !kept[c] && len(bytes.Trim(c.Data, xmlSpace)) == 0 {
				continue
			}
			children = append(children, c)
		}
		n.Children = children
		return nil
	}
	if opaque || b64string {
		var text []byte
		for _, c := range n.Children {
			text = append(text, c.Data...)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
		if err != nil {
			return fmt.Errorf("<%s> is marked base64 but its content is not base64: %v", n.Tag.Name(), err)
		}
		kind := TextNode
		if opaque {
			kind = OpaqueNode
		}
		n.Children = []*Node{{Kind: kind, Data: raw}}
		if len(raw) == 0 && kind == TextNode {
			n.Children = nil
		}
	}
	return nil
}

func parseRawName(local string) (Tag, bool) {
	parts := strings.Split(local, "-")
	if len(parts) != 3 || parts[0] != "raw" {
		return Tag{}, false
	}
	p, err1 := strconv.ParseUint(parts[1], 10, 8)
	t, err2 := strconv.ParseUint(parts[2], 16, 8)
	if err1 != nil || err2 != nil || t < 0x05 || t > tagMask {
		return Tag{}, false
	}
	return Tag{Page: uint8(p), Token: uint8(t)}, true
}
