package autodiscover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Namespaces of the Autodiscover command (MS-ASCMD 2.2.1.1, 6.3 and 6.4).
const (
	// RequestNamespace is the request's namespace (MS-ASCMD 6.3).
	RequestNamespace = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
	// ResponseSchema is the value of AcceptableResponseSchema, which MUST be
	// exactly this (MS-ASCMD 2.2.3.1), and the namespace of the mobilesync
	// Response element and its children (MS-ASCMD 6.4).
	ResponseSchema = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
	// ResponseNamespace is the namespace of the response's root Autodiscover
	// element, and of a Response that reports a framework error.
	ResponseNamespace = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
)

// Server types (MS-ASCMD 2.2.3.186.1).
const (
	// TypeMobileSync marks the Server whose Url is the ActiveSync endpoint.
	TypeMobileSync = "MobileSync"
	// TypeCertEnroll marks the Server whose Url issues client certificates; its
	// ServerData names the certificate template (MS-ASCMD 2.2.3.165).
	TypeCertEnroll = "CertEnroll"
)

// Limits of the parser: a real Autodiscover response has fewer than 10 levels
// and 200 tokens.
const (
	maxDepth  = 64
	maxTokens = 10000
)

// Response is an Autodiscover command response (MS-ASCMD 2.2.1.1, 2.2.3.153.1).
// Exactly one of Redirect, Servers and Error is set.
type Response struct {
	// Culture is the language of Message texts, e.g. "en:us" (MS-ASCMD 2.2.3.38).
	Culture string
	// DisplayName and Email are User/DisplayName and User/EMailAddress
	// (MS-ASCMD 2.2.3.189).
	DisplayName, Email string
	// Redirect is Action/Redirect: an address whose domain the search restarts
	// with (MS-ASCMD 2.2.3.147).
	Redirect string
	// Servers are the Server elements of Action/Settings, in order (MS-ASCMD
	// 2.2.3.168.1, 2.2.3.164).
	Servers []Server
	// Error is Action/Error or the framework's Response/Error (MS-ASCMD
	// 2.2.3.63); its URL is empty.
	Error *ServerError
}

// Check reports whether r carries exactly one of Redirect, Servers and Error, as
// Response/Action does (an xs:choice in MS-ASCMD 6.2, AutodiscoverMobileSync.xsd);
// ParseResponse never returns one that does not.
func (r *Response) Check() error {
	n := 0
	if r.Redirect != "" {
		n++
	}
	if len(r.Servers) > 0 {
		n++
	}
	if r.Error != nil {
		n++
	}
	if n != 1 {
		return fmt.Errorf("a Response carries exactly one of Redirect, Servers and Error, not %d", n)
	}
	return nil
}

// Server is one Settings/Server element (MS-ASCMD 2.2.3.164).
type Server struct {
	Type       string // TypeMobileSync or TypeCertEnroll (2.2.3.186.1)
	URL        string // Url (2.2.3.188)
	Name       string // Name (2.2.3.120.1)
	ServerData string // ServerData, for CertEnroll only (2.2.3.165)
}

// MobileSync returns the first Server of Type MobileSync (compared without
// regard to case), or nil.
func (r *Response) MobileSync() *Server {
	for i := range r.Servers {
		if strings.EqualFold(r.Servers[i].Type, TypeMobileSync) {
			return &r.Servers[i]
		}
	}
	return nil
}

// MarshalRequest returns the Autodiscover request for an address (MS-ASCMD
// 2.2.1.1), to be POSTed with Content-Type text/xml. AcceptableResponseSchema is
// ResponseSchema, as MS-ASCMD 2.2.3.1 requires. The address is escaped, not
// checked.
func MarshalRequest(email string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="` + RequestNamespace + `"><Request><EMailAddress>`)
	_ = xml.EscapeText(&b, []byte(email)) // a bytes.Buffer does not fail
	b.WriteString(`</EMailAddress><AcceptableResponseSchema>` + ResponseSchema + `</AcceptableResponseSchema></Request></Autodiscover>`)
	return b.Bytes()
}

// Request is an Autodiscover command request as a server sees it (MS-ASCMD
// 2.2.3.150.1).
type Request struct {
	Email                    string // EMailAddress (2.2.3.59)
	AcceptableResponseSchema string // should be ResponseSchema (2.2.3.1)
}

// ParseRequest reads an Autodiscover request, for a server (a test server, or
// the project's simulator). It applies the limits of ParseResponse and requires
// the root element Autodiscover with a Request holding an EMailAddress. A server
// answers a request whose AcceptableResponseSchema is not ResponseSchema with
// ErrorCode 601 (MS-ASCMD 2.2.3.64).
func ParseRequest(body []byte) (*Request, error) {
	root, err := parseTree(body, DefaultMaxResponseBytes)
	if err != nil {
		return nil, err
	}
	if root.name.Local != "Autodiscover" {
		return nil, &SyntaxError{Offset: root.offset, Msg: fmt.Sprintf("the root element is <%s>, not <Autodiscover>", clip(root.name.Local, 40))}
	}
	req := root.child("Request")
	if req == nil {
		return nil, &SyntaxError{Offset: root.offset, Msg: "no Request element in the Autodiscover request"}
	}
	em := req.child("EMailAddress")
	if em == nil || em.value() == "" {
		return nil, &SyntaxError{Offset: req.offset, Msg: "no EMailAddress in the Autodiscover request"}
	}
	return &Request{Email: em.value(), AcceptableResponseSchema: req.child("AcceptableResponseSchema").value()}, nil
}

// ParseResponse reads an Autodiscover command response (MS-ASCMD 2.2.1.1). The
// root element must be Autodiscover and hold a Response; the namespaces of the
// elements below the root are not checked, and their names are compared without
// regard to case, since servers vary. Response/Action must hold exactly one of
// Redirect (not empty), Settings (with at least one Server) and Error; a
// Response/Error (the framework's error, MS-ASCMD 2.2.3.153.1) takes precedence
// over Action.
//
// A Response reporting an error is returned with Error set and a nil error:
// whether that ends anything is the caller's decision. Any body that is not a
// well-formed Autodiscover response gives a *SyntaxError: bad XML, a DOCTYPE or
// other declaration (refused outright), more than 64 levels of nesting or 10,000
// tokens, or a body over DefaultMaxResponseBytes. ParseResponse never panics.
func ParseResponse(body []byte) (*Response, error) {
	return parseResponse(body, DefaultMaxResponseBytes)
}

func parseResponse(body []byte, limit int64) (*Response, error) {
	root, err := parseTree(body, limit)
	if err != nil {
		return nil, err
	}
	if root.name.Local != "Autodiscover" {
		return nil, &SyntaxError{Offset: root.offset, Msg: fmt.Sprintf("the root element is <%s>, not <Autodiscover>", clip(root.name.Local, 40))}
	}
	resp := root.child("Response")
	if resp == nil {
		return nil, &SyntaxError{Offset: root.offset, Msg: "no Response element under Autodiscover"}
	}
	r := &Response{Culture: resp.child("Culture").value()}
	if u := resp.child("User"); u != nil {
		r.DisplayName = u.child("DisplayName").value()
		r.Email = u.child("EMailAddress").value()
	}
	if e := resp.child("Error"); e != nil {
		// MS-ASCMD 2.2.3.63: under Response the code is ErrorCode.
		se, err := serverError(e, "ErrorCode", "Status")
		if err != nil {
			return nil, err
		}
		r.Error = se
		return r, nil
	}
	action := resp.child("Action")
	if action == nil {
		return nil, &SyntaxError{Offset: resp.offset, Msg: "the Response holds neither Action nor Error"}
	}
	var chosen *node
	for _, c := range action.children {
		if c.is("Redirect") || c.is("Settings") || c.is("Error") {
			if chosen != nil {
				return nil, &SyntaxError{Offset: c.offset, Msg: "the Action holds more than one of Redirect, Settings and Error"}
			}
			chosen = c
		}
	}
	switch {
	case chosen == nil:
		return nil, &SyntaxError{Offset: action.offset, Msg: "the Action holds none of Redirect, Settings and Error"}
	case chosen.is("Redirect"):
		r.Redirect = chosen.value()
		if r.Redirect == "" {
			return nil, &SyntaxError{Offset: chosen.offset, Msg: "the Redirect is empty"}
		}
	case chosen.is("Error"):
		// MS-ASCMD 2.2.3.63: under Action the code is Status.
		se, err := serverError(chosen, "Status", "ErrorCode")
		if err != nil {
			return nil, err
		}
		r.Error = se
	default:
		for _, s := range chosen.children {
			if !s.is("Server") {
				continue
			}
			r.Servers = append(r.Servers, Server{
				Type:       s.child("Type").value(),
				URL:        s.child("Url").value(),
				Name:       s.child("Name").value(),
				ServerData: s.child("ServerData").value(),
			})
		}
		if len(r.Servers) == 0 {
			return nil, &SyntaxError{Offset: chosen.offset, Msg: "the Settings list no Server"}
		}
	}
	return r, nil
}

// serverError reads an Error element; the code is the first of the two code
// elements present.
func serverError(e *node, code, alt string) (*ServerError, error) {
	se := &ServerError{Message: e.child("Message").value(), DebugData: e.child("DebugData").value()}
	c := e.child(code)
	if c == nil {
		c = e.child(alt)
	}
	if c != nil && c.value() != "" {
		n, err := strconv.Atoi(c.value())
		if err != nil {
			return nil, &SyntaxError{Offset: c.offset, Msg: fmt.Sprintf("the error code %q is not an integer", clip(c.value(), 40))}
		}
		se.Code = n
	}
	return se, nil
}

// MarshalResponse writes an Autodiscover response (MS-ASCMD 2.2.1.1), for a
// server. Exactly one of r.Redirect, r.Servers and r.Error must be set. An Error
// with a Code of 600 or more is written as the framework's Response/Error with an
// ErrorCode, in the plain response namespace (MS-ASCMD 2.2.3.64); any other as
// Action/Error with a Status (2.2.3.177.1). Texts are escaped; characters XML
// cannot carry become U+FFFD.
func MarshalResponse(r *Response) ([]byte, error) {
	if r == nil {
		return nil, errors.New("autodiscover: MarshalResponse: nil Response")
	}
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("autodiscover: MarshalResponse: %w", err)
	}
	w := &xmlWriter{}
	w.raw("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
	w.raw(`<Autodiscover xmlns="` + ResponseNamespace + `">` + "\n")
	framework := r.Error != nil && r.Error.Code >= 600
	if framework {
		w.raw("  <Response>\n")
	} else {
		w.raw(`  <Response xmlns="` + ResponseSchema + `">` + "\n")
	}
	w.leaf(4, "Culture", r.Culture)
	if r.DisplayName != "" || r.Email != "" {
		w.open(4, "User")
		w.leaf(6, "DisplayName", r.DisplayName)
		w.leaf(6, "EMailAddress", r.Email)
		w.close(4, "User")
	}
	switch {
	case framework:
		w.open(4, "Error")
		w.leaf(6, "ErrorCode", strconv.Itoa(r.Error.Code))
		w.leaf(6, "Message", r.Error.Message)
		w.leaf(6, "DebugData", r.Error.DebugData)
		w.close(4, "Error")
	case r.Error != nil:
		w.open(4, "Action")
		w.open(6, "Error")
		w.leaf(8, "Status", strconv.Itoa(r.Error.Code))
		w.leaf(8, "Message", r.Error.Message)
		w.leaf(8, "DebugData", r.Error.DebugData)
		w.close(6, "Error")
		w.close(4, "Action")
	case r.Redirect != "":
		w.open(4, "Action")
		w.leaf(6, "Redirect", r.Redirect)
		w.close(4, "Action")
	default:
		w.open(4, "Action")
		w.open(6, "Settings")
		for _, s := range r.Servers {
			w.open(8, "Server")
			w.leaf(10, "Type", s.Type)
			w.leaf(10, "Url", s.URL)
			w.leaf(10, "Name", s.Name)
			w.leaf(10, "ServerData", s.ServerData)
			w.close(8, "Server")
		}
		w.close(6, "Settings")
		w.close(4, "Action")
	}
	w.raw("  </Response>\n</Autodiscover>\n")
	return w.b.Bytes(), nil
}

type xmlWriter struct{ b bytes.Buffer }

func (w *xmlWriter) raw(s string) { w.b.WriteString(s) }

func (w *xmlWriter) open(indent int, name string) {
	w.b.WriteString(strings.Repeat(" ", indent) + "<" + name + ">\n")
}

func (w *xmlWriter) close(indent int, name string) {
	w.b.WriteString(strings.Repeat(" ", indent) + "</" + name + ">\n")
}

// leaf writes <name>value</name>, or nothing for an empty value.
func (w *xmlWriter) leaf(indent int, name, value string) {
	if value == "" {
		return
	}
	w.b.WriteString(strings.Repeat(" ", indent) + "<" + name + ">")
	_ = xml.EscapeText(&w.b, []byte(value))
	w.b.WriteString("</" + name + ">\n")
}

// node is an element of the parsed document. Only names, text and structure
// are kept: Autodiscover carries nothing in attributes the client needs.
type node struct {
	name     xml.Name
	offset   int64 // of the start tag
	text     []byte
	children []*node
}

// is reports whether the element's local name is local, without regard to case
// or namespace.
func (n *node) is(local string) bool { return strings.EqualFold(n.name.Local, local) }

// child returns the first child element named local (see is), or nil.
func (n *node) child(local string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.is(local) {
			return c
		}
	}
	return nil
}

// value is the element's own text, trimmed; "" for a nil node.
func (n *node) value() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(string(n.text))
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// parseTree parses body into a tree, refusing what a hostile server could use to
// make the client spend without bound: a body over limit, more than maxDepth
// levels or maxTokens tokens, and any DOCTYPE or other declaration (encoding/xml
// expands no external entity, and here no entity at all beyond the predefined
// ones, but a DOCTYPE has no business in an Autodiscover response).
func parseTree(body []byte, limit int64) (*node, error) {
	if int64(len(body)) > limit {
		return nil, &SyntaxError{Offset: limit, Msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
	}
	var base int64
	if bytes.HasPrefix(body, utf8BOM) {
		base, body = int64(len(utf8BOM)), body[len(utf8BOM):]
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	fail := func(off int64, format string, args ...any) error {
		return &SyntaxError{Offset: base + off, Msg: fmt.Sprintf(format, args...)}
	}
	var (
		root   *node
		stack  []*node
		tokens int
	)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil {
				return nil, fail(off, "no XML element in the body")
			}
			if len(stack) > 0 {
				return nil, fail(off, "the XML ends inside <%s>", clip(stack[len(stack)-1].name.Local, 40))
			}
			return root, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fail(d.InputOffset(), "malformed XML: %s", clip(se.Msg, 200))
			}
			return nil, fail(d.InputOffset(), "malformed XML: %s", clip(err.Error(), 200))
		}
		if tokens++; tokens > maxTokens {
			return nil, fail(off, "more than %d XML tokens", maxTokens)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return nil, fail(off, "XML nested deeper than %d elements", maxDepth)
			}
			n := &node{name: t.Name, offset: base + off}
			switch {
			case len(stack) > 0:
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			case root != nil:
				return nil, fail(off, "a second root element <%s>", clip(t.Name.Local, 40))
			default:
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1] // the decoder has matched it with its start
		case xml.CharData:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.text = append(p.text, t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, fail(off, "text outside the root element")
			}
		case xml.Directive:
			return nil, fail(off, "a DOCTYPE or other declaration (<!...>) is not accepted")
		case xml.Comment, xml.ProcInst:
			// The xml declaration is checked by the decoder (version, and an
			// encoding other than UTF-8 is refused); other instructions and
			// comments carry nothing.
		}
	}
}
