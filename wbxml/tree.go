package wbxml

import (
	"bytes"
	"io"
)

// NodeKind is the kind of a Node.
type NodeKind uint8

// Node kinds.
const (
	ElementNode NodeKind = iota + 1
	TextNode
	OpaqueNode
)

// Node is an element, a run of text, or an opaque value in a document tree.
// Adjacent text pieces (STR_I, STR_T, ENTITY) are merged into one TextNode; an
// opaque value stays an OpaqueNode so that re-encoding writes OPAQUE again.
type Node struct {
	Kind     NodeKind
	Tag      Tag     // ElementNode
	Children []*Node // ElementNode, in document order
	Data     []byte  // TextNode (UTF-8) or OpaqueNode
}

// Document is a decoded WBXML document.
type Document struct {
	Header Header
	Root   *Node
}

// NewElement returns an element node with the given children.
func NewElement(t Tag, children ...*Node) *Node {
	return &Node{Kind: ElementNode, Tag: t, Children: children}
}

// NewTextElement returns an element whose content is the text s (none when s is empty).
func NewTextElement(t Tag, s string) *Node {
	n := &Node{Kind: ElementNode, Tag: t}
	if s != "" {
		n.Children = []*Node{{Kind: TextNode, Data: []byte(s)}}
	}
	return n
}

// NewOpaqueElement returns an element whose content is the opaque value b.
func NewOpaqueElement(t Tag, b []byte) *Node {
	return &Node{Kind: ElementNode, Tag: t, Children: []*Node{{Kind: OpaqueNode, Data: b}}}
}

// Text returns the concatenated text and opaque content directly under n.
func (n *Node) Text() string {
	var b []byte
	for _, c := range n.Children {
		if c.Kind == TextNode || c.Kind == OpaqueNode {
			b = append(b, c.Data...)
		}
	}
	return string(b)
}

// Child returns the first child element with tag t, or nil.
func (n *Node) Child(t Tag) *Node {
	for _, c := range n.Children {
		if c.Kind == ElementNode && c.Tag == t {
			return c
		}
	}
	return nil
}

// Elements returns the child elements with tag t.
func (n *Node) Elements(t Tag) []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Kind == ElementNode && c.Tag == t {
			out = append(out, c)
		}
	}
	return out
}

// Unmarshal decodes a whole document into a tree under the default limits.
func Unmarshal(b []byte) (*Document, error) { return ReadDocument(NewDecoderBytes(b)) }

// ReadDocument decodes d's document into a tree. d must not have returned any body
// token yet: a tree needs the root element.
func ReadDocument(d *Decoder) (*Document, error) {
	h, err := d.Header()
	if err != nil {
		return nil, err
	}
	if d.Depth() > 0 || d.rootDone || d.pendingEnd {
		return nil, syntaxErr(d.Offset(), ErrStructure, "ReadDocument needs a Decoder positioned before the root element; tokens were already read")
	}
	doc := &Document{Header: h}
	var stack []*Node
	for {
		tok, err := d.Next()
		if err == io.EOF {
			return doc, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case StartElement:
			n := &Node{Kind: ElementNode, Tag: tok.Tag}
			if len(stack) == 0 {
				doc.Root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case EndElement:
			stack = stack[:len(stack)-1]
		case Text:
			if len(tok.Data) == 0 {
				// An empty STR_I or STR_T carries nothing; the Encoder writes no
				// empty text either, so the tree has no empty TextNode.
				continue
			}
			p := stack[len(stack)-1]
			if k := len(p.Children); k > 0 && p.Children[k-1].Kind == TextNode {
				p.Children[k-1].Data = append(p.Children[k-1].Data, tok.Data...)
			} else {
				p.Children = append(p.Children, &Node{Kind: TextNode, Data: bytes.Clone(tok.Data)})
			}
		case Opaque:
			p := stack[len(stack)-1]
			p.Children = append(p.Children, &Node{Kind: OpaqueNode, Data: bytes.Clone(tok.Data)})
		}
	}
}

// Marshal encodes the tree under n as a canonical document (see Encoder).
func Marshal(n *Node) ([]byte, error) {
	enc := NewEncoder(nil)
	if err := EncodeNode(enc, n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// EncodeNode writes the tree under n to enc.
func EncodeNode(enc *Encoder, n *Node) error {
	switch n.Kind {
	case ElementNode:
		if err := enc.StartElement(n.Tag); err != nil {
			return err
		}
		for _, c := range n.Children {
			if err := EncodeNode(enc, c); err != nil {
				return err
			}
		}
		return enc.EndElement()
	case TextNode:
		return enc.Text(n.Data)
	case OpaqueNode:
		return enc.Opaque(n.Data)
	}
	return encodeErr(ErrInvalidInput, "node of unknown kind %d", n.Kind)
}
