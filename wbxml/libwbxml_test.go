package wbxml_test

// Cross-checks of the codec against libwbxml2 (the Debian package libwbxml2-utils),
// an independent WBXML implementation: its xml2wbxml must write, byte for byte, what
// wbxml.Marshal writes, wbxml2xml must read what the Encoder writes (and describe the
// same tree), and the Decoder must read what xml2wbxml writes into the same tree.
//
// libwbxml 0.11.8 differs from MS-ASWBXML in ways the tests work with rather than
// around: it knows code pages 0-24 only, names some tags differently (the last column
// of codepages.tsv), writes some tags' content as OPAQUE ([BINARY] there, base64 in
// its XML), and spells namespaces with a trailing colon ("AirSyncBase:"), declared as
// default namespaces. Its names matter: xml2wbxml resolves a name in the declared
// namespace's page first, but a name that page lacks is silently taken from another
// page (<Status> under xmlns="Email:" becomes AirSync's Status, with SWITCH_PAGEs
// around it, where Email's is "FlagStatus"), and a name no page has fails under -n
// ("String Table generation disabled: can't encode Literal"). wbxml2xml writes a token
// its table lacks as <unknown xmlns="FolderHierarchy:">, whatever its page.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
)

// libwbxmlProlog starts every XML document given to xml2wbxml: the DOCTYPE is how it
// recognises the ActiveSync language.
const libwbxmlProlog = `<?xml version="1.0"?>` + "\n" +
	`<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">`

// libwbxmlMaxPage is the last code page libwbxml 0.11.8 knows (RightsManagement).
const libwbxmlMaxPage = 24

// ---------------------------------------------------------------------------
// The tools.

type libwbxmlTools struct{ xml2wbxml, wbxml2xml string }

// needLibwbxml finds xml2wbxml and wbxml2xml. Without them the test is skipped, except
// in CI (CI non-empty), which installs them, so there their absence fails the test.
func needLibwbxml(t *testing.T) libwbxmlTools {
	t.Helper()
	var tools libwbxmlTools
	var missing []string
	for _, tool := range []struct {
		name string
		path *string
	}{{"xml2wbxml", &tools.xml2wbxml}, {"wbxml2xml", &tools.wbxml2xml}} {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			missing = append(missing, tool.name)
			continue
		}
		*tool.path = p
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("libwbxml2 tools not found (%s): install them with `apt-get install -y libwbxml2-utils`", strings.Join(missing, ", "))
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI installs them, so this is a broken CI image)")
		}
		t.Skip(msg)
	}
	return tools
}

// run runs a tool and checks that it wrote its output file.
func (libwbxmlTools) run(out string, path string, args ...string) ([]byte, error) {
	cmd := exec.Command(path, args...)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("%s %s exited 0 but wrote no output: %v\n%s", filepath.Base(path), strings.Join(args, " "), err, msg)
	}
	return b, nil
}

// encode runs `xml2wbxml -a -n -k`: anonymous (public id 0x01), no string table, keep
// whitespace. name must be unique within dir.
func (tl libwbxmlTools) encode(dir, name string, doc []byte) ([]byte, error) {
	in, out := filepath.Join(dir, name+".in.xml"), filepath.Join(dir, name+".out.wbxml")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		return nil, err
	}
	return tl.run(out, tl.xml2wbxml, "-a", "-n", "-k", "-o", out, in)
}

// decode runs `wbxml2xml -l ACTIVESYNC -m 0 -k` (compact, keep whitespace).
func (tl libwbxmlTools) decode(dir, name string, doc []byte) ([]byte, error) {
	in, out := filepath.Join(dir, name+".in.wbxml"), filepath.Join(dir, name+".out.xml")
	if err := os.WriteFile(in, doc, 0o600); err != nil {
		return nil, err
	}
	return tl.run(out, tl.wbxml2xml, "-l", "ACTIVESYNC", "-m", "0", "-k", "-o", out, in)
}

// lwParallel calls f(0) ... f(n-1) on GOMAXPROCS workers, so that a batch of tool runs
// (the two 10,000-folder documents among them) overlaps instead of queueing.
func lwParallel(n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(n, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ---------------------------------------------------------------------------
// libwbxml's names, from the last column of codepages.tsv.

type libwbxmlTag struct {
	name   string   // libwbxml's element name; "" when libwbxml does not know the tag
	alts   []string // every name libwbxml's table gives the token (some have two)
	binary bool     // libwbxml writes the content as OPAQUE
}

type libwbxmlTable struct {
	byTag  map[wbxml.Tag]libwbxmlTag
	byName map[string][]wbxml.Tag // libwbxml name -> the tags (any page) it names
	tags   []wbxml.Tag            // every row of pages 0-24, in table order
}

// lookup resolves a name from wbxml2xml's output in the page of namespace ns.
func (tab *libwbxmlTable) lookup(ns, name string) (wbxml.Tag, bool) {
	page, ok := wbxml.PageOf(ns)
	if !ok {
		return wbxml.Tag{}, false
	}
	for _, t := range tab.byName[name] {
		if t.Page == page {
			return t, true
		}
	}
	return wbxml.Tag{}, false
}

// unique reports whether libwbxml's name for t names no other tag of libwbxml's
// table, counting the tokens MS-ASWBXML leaves undefined (libwbxmlExtraNames).
func (tab *libwbxmlTable) unique(t wbxml.Tag) bool {
	for _, n := range tab.byTag[t].alts {
		for _, o := range tab.byName[n] {
			if o != t {
				return false
			}
		}
		for _, x := range libwbxmlExtraNames {
			if x == n {
				return false
			}
		}
	}
	return true
}

// libwbxmlExtraNames are libwbxml 0.11.8's names for tokens of pages 0-24 that
// MS-ASWBXML v24 does not define, so codepages.tsv has no row for them: AirNotify's 19
// tokens and tags that later protocol versions dropped. Several reuse names of
// defined tags ("Version", "Status", "Responses", "Id", "ContentClass", "Supported",
// "Schema"), which the uniqueness of the random documents' names must count.
// TestLibwbxmlUndefinedTokens checks this list against wbxml2xml.
var libwbxmlExtraNames = map[wbxml.Tag]string{
	{0, 0x11}: "Version", {0, 0x1A}: "RTFTruncation", {0, 0x1F}: "NotifyGUID",
	{1, 0x3B}: "CompressedRTF",
	{2, 0x0B}: "AttRemoved",
	{3, 0x05}: "Notify", {3, 0x06}: "Notification", {3, 0x07}: "Version", {3, 0x08}: "LifeTime",
	{3, 0x09}: "DeviceInfo", {3, 0x0A}: "Enable", {3, 0x0B}: "Folder", {3, 0x0C}: "ServerId",
	{3, 0x0D}: "DeviceAddress", {3, 0x0E}: "ValidCarrierProfiles", {3, 0x0F}: "CarrierProfile",
	{3, 0x10}: "Status", {3, 0x11}: "Responses", {3, 0x12}: "Devices", {3, 0x13}: "Device",
	{3, 0x14}: "Id", {3, 0x15}: "Expiry", {3, 0x16}: "NotifyGUID", {3, 0x17}: "DeviceFriendlyName",
	{4, 0x10}: "Compressed_RTF",
	{6, 0x06}: "Version", {6, 0x0B}: "DateTime",
	{7, 0x0B}: "Response", {7, 0x0D}: "ContentClass", {7, 0x18}: "Version",
	{8, 0x0D}:  "Version",
	{9, 0x21}:  "CompressedRTF",
	{13, 0x06}: "AutdState",
	{14, 0x12}: "DocumentBrowseEnabled",
	{15, 0x1C}: "Schema", {15, 0x1D}: "Supported",
}

var (
	libwbxmlTableOnce sync.Once
	libwbxmlTableVal  *libwbxmlTable
	libwbxmlTableErr  error
)

func loadLibwbxmlTable(t *testing.T) *libwbxmlTable {
	t.Helper()
	libwbxmlTableOnce.Do(func() { libwbxmlTableVal, libwbxmlTableErr = parseLibwbxmlTable("codepages.tsv") })
	require.NoError(t, libwbxmlTableErr)
	return libwbxmlTableVal
}

func parseLibwbxmlTable(path string) (*libwbxmlTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tab := &libwbxmlTable{byTag: map[wbxml.Tag]libwbxmlTag{}, byName: map[string][]wbxml.Tag{}}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 {
			if len(cols) != 6 || cols[5] != "libwbxml_0.11.8_name" {
				return nil, fmt.Errorf("%s: unexpected header %q", path, sc.Text())
			}
			continue
		}
		if len(cols) != 6 {
			return nil, fmt.Errorf("%s:%d: %d columns, want 6", path, line, len(cols))
		}
		if cols[2] == "" {
			continue // AirNotify: no tokens
		}
		page, err1 := strconv.ParseUint(cols[0], 10, 8)
		tok, err2 := strconv.ParseUint(strings.TrimPrefix(cols[2], "0x"), 16, 8)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if page > libwbxmlMaxPage {
			continue
		}
		tag := wbxml.Tag{Page: uint8(page), Token: uint8(tok)}
		if tag.Name() != cols[3] {
			return nil, fmt.Errorf("%s:%d: %s is %q in the generated table, %q in the TSV", path, line, tag, tag.Name(), cols[3])
		}
		var e libwbxmlTag
		name, binary := strings.CutSuffix(cols[5], " [BINARY]")
		if name != "-" {
			e = libwbxmlTag{name: strings.Split(name, "/")[0], alts: strings.Split(name, "/"), binary: binary}
			for _, n := range e.alts {
				if !slices.Contains(tab.byName[n], tag) {
					tab.byName[n] = append(tab.byName[n], tag)
				}
			}
		}
		tab.byTag[tag] = e
		tab.tags = append(tab.tags, tag)
	}
	return tab, sc.Err()
}

// ---------------------------------------------------------------------------
// Rendering a tree as the XML libwbxml reads.

// libwbxmlXML renders the tree under root as compact XML for xml2wbxml: the prolog,
// libwbxml's element names, a default-namespace declaration with libwbxml's trailing
// colon wherever the code page differs from the parent's, escaped text and no added
// whitespace (with -k every character between tags becomes text). An opaque value is
// written in base64, which libwbxml decodes into OPAQUE for the tags it marks binary.
// It refuses what libwbxml cannot express the same way: pages above 24, tags it does
// not know, text under a binary tag, an opaque value under any other (or empty: libwbxml
// would drop the content), and text XML 1.0 cannot carry.
func libwbxmlXML(tab *libwbxmlTable, root *wbxml.Node) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(libwbxmlProlog)
	if err := writeLibwbxmlElement(&b, tab, root, -1); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeLibwbxmlElement(b *bytes.Buffer, tab *libwbxmlTable, n *wbxml.Node, parentPage int) error {
	if n.Kind != wbxml.ElementNode {
		return fmt.Errorf("node of kind %d where an element belongs", n.Kind)
	}
	lt, ok := tab.byTag[n.Tag]
	switch {
	case n.Tag.Page > libwbxmlMaxPage:
		return fmt.Errorf("%s: libwbxml 0.11.8 knows code pages 0-%d only", n.Tag, libwbxmlMaxPage)
	case !ok || lt.name == "":
		return fmt.Errorf("%s: libwbxml 0.11.8 does not know this tag", n.Tag)
	}
	b.WriteString("<" + lt.name)
	if int(n.Tag.Page) != parentPage {
		b.WriteString(` xmlns="` + n.Tag.Namespace() + `:"`)
	}
	if len(n.Children) == 0 {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	for _, c := range n.Children {
		switch c.Kind {
		case wbxml.ElementNode:
			if err := writeLibwbxmlElement(b, tab, c, int(n.Tag.Page)); err != nil {
				return err
			}
		case wbxml.TextNode:
			if lt.binary {
				return fmt.Errorf("%s: libwbxml 0.11.8 would write this text as OPAQUE", n.Tag)
			}
			if i := lwXMLUnsafeAt(c.Data); i >= 0 {
				return fmt.Errorf("%s: text %q is not XML-safe at byte %d", n.Tag, c.Data, i)
			}
			// EscapeText writes \t, \n and \r as character references, which expat
			// hands over unchanged.
			if err := xml.EscapeText(b, c.Data); err != nil {
				return err
			}
		case wbxml.OpaqueNode:
			if !lt.binary || len(c.Data) == 0 || len(n.Children) != 1 {
				return fmt.Errorf("%s: libwbxml 0.11.8 writes OPAQUE only for the sole, non-empty content of the tags it marks binary", n.Tag)
			}
			b.WriteString(base64.StdEncoding.EncodeToString(c.Data))
		default:
			return fmt.Errorf("%s: child node of kind %d", n.Tag, c.Kind)
		}
	}
	b.WriteString("</" + lt.name + ">")
	return nil
}

// lwXMLUnsafeAt returns the index of the first byte of s that XML 1.0 character data
// cannot carry (invalid UTF-8, C0 controls other than tab, LF and CR, U+FFFE, U+FFFF),
// or -1.
func lwXMLUnsafeAt(s []byte) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return i
		}
		i += n
	}
	return -1
}

// ---------------------------------------------------------------------------
// Reading wbxml2xml's output back.

// parseLibwbxmlXML builds a tree from wbxml2xml's XML, resolving libwbxml's names in
// the page of their (default) namespace; the content of a binary tag is the base64 of
// an OPAQUE value. As XML 1.0 requires, the parser turns a CR that wbxml2xml writes
// unescaped into LF (see lwNormalizeCR).
func parseLibwbxmlXML(tab *libwbxmlTable, doc []byte) (*wbxml.Node, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var stack []*wbxml.Node
	var root *wbxml.Node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			tag, ok := tab.lookup(tok.Name.Space, tok.Name.Local)
			if !ok {
				return nil, fmt.Errorf("offset %d: no tag <%s> in namespace %q", d.InputOffset(), tok.Name.Local, tok.Name.Space)
			}
			n := wbxml.NewElement(tag)
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if tab.byTag[n.Tag].binary && len(n.Children) == 1 && n.Children[0].Kind == wbxml.TextNode {
				raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(n.Children[0].Data)), ""))
				if err != nil {
					return nil, fmt.Errorf("<%s>: content of a binary tag is not base64: %v", tok.Name.Local, err)
				}
				n.Children[0] = &wbxml.Node{Kind: wbxml.OpaqueNode, Data: raw}
			}
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			p := stack[len(stack)-1]
			if k := len(p.Children); k > 0 && p.Children[k-1].Kind == wbxml.TextNode {
				p.Children[k-1].Data = append(p.Children[k-1].Data, tok...)
			} else {
				p.Children = append(p.Children, &wbxml.Node{Kind: wbxml.TextNode, Data: bytes.Clone(tok)})
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// lwNormalizeCR returns a copy of the tree with CR LF and lone CR in text turned into
// LF: what any XML parser does to the raw CRs wbxml2xml writes.
func lwNormalizeCR(n *wbxml.Node) *wbxml.Node {
	c := *n
	if n.Kind == wbxml.TextNode {
		c.Data = bytes.ReplaceAll(bytes.ReplaceAll(n.Data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
		return &c
	}
	if n.Children != nil {
		c.Children = make([]*wbxml.Node, len(n.Children))
		for i, ch := range n.Children {
			c.Children[i] = lwNormalizeCR(ch)
		}
	}
	return &c
}

// ---------------------------------------------------------------------------
// Comparing bytes.

// lwFirstDiff returns the first offset where a and b differ, or -1 when they are equal.
func lwFirstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// lwDiffReport describes where ours and theirs part: the offset, and a hex dump of both
// around it with absolute offsets, the row holding the difference marked.
func lwDiffReport(ours, theirs []byte) string {
	i := lwFirstDiff(ours, theirs)
	if i < 0 {
		return "no difference"
	}
	lo := max(0, i-32) &^ 15
	dump := func(b []byte) string {
		var s strings.Builder
		hi := min(len(b), (i+48)&^15)
		if lo >= len(b) {
			return "        (ends before this offset)\n"
		}
		for row := lo; row < max(hi, lo+1); row += 16 {
			line := b[row:min(row+16, len(b))]
			mark := "  "
			if i >= row && i < row+16 {
				mark = "=>"
			}
			ascii := []byte(string(line))
			for k, c := range ascii {
				if c < 0x20 || c > 0x7E {
					ascii[k] = '.'
				}
			}
			fmt.Fprintf(&s, "%s %08x  % -47x  |%s|\n", mark, row, line, ascii)
		}
		return s.String()
	}
	return fmt.Sprintf("first difference at offset %d (0x%X); wbxml.Marshal wrote %d bytes, xml2wbxml %d\nwbxml.Marshal:\n%sxml2wbxml:\n%s",
		i, i, len(ours), len(theirs), dump(ours), dump(theirs))
}

// ---------------------------------------------------------------------------
// The documents.

type libwbxmlDoc struct {
	name string
	root *wbxml.Node
}

// libwbxmlCorpus is every FolderSync shape, two 10,000-folder FolderSyncs, documents
// of the other commands that together use every code page 0-24 but AirNotify (which
// MS-ASWBXML leaves empty) and many of libwbxml's renamed tags, and OPAQUE values.
func libwbxmlCorpus() []libwbxmlDoc {
	var docs []libwbxmlDoc
	shapes := testutil.FolderSyncShapes()
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		docs = append(docs, libwbxmlDoc{"foldersync-" + n, shapes[n]})
	}
	docs = append(docs,
		libwbxmlDoc{"foldersync-10000-adds", testutil.FolderSyncTree(10000, 42, false)},
		libwbxmlDoc{"foldersync-10000-mixed", testutil.FolderSyncTree(10000, 43, true)},
	)
	docs = append(docs, libwbxmlCommandDocs()...)
	return append(docs, libwbxmlOpaqueDocs()...)
}

// lwEl and lwTx build trees from namespace and element names.
func lwEl(ns, name string, children ...*wbxml.Node) *wbxml.Node {
	return wbxml.NewElement(wbxml.MustTag(ns, name), children...)
}

func lwTx(ns, name, text string) *wbxml.Node {
	return wbxml.NewTextElement(wbxml.MustTag(ns, name), text)
}

// libwbxmlCommandDocs are multi-page documents of other commands, shaped after MS-ASCMD's
// examples. They avoid the tags libwbxml does not know; the ones it marks binary hold
// opaque values (libwbxmlOpaqueDocs).
func libwbxmlCommandDocs() []libwbxmlDoc {
	const as, asb, em, em2 = "AirSync", "AirSyncBase", "Email", "Email2"
	syncReq := lwEl(as, "Sync", lwEl(as, "Collections",
		lwEl(as, "Collection",
			lwTx(as, "SyncKey", "{5d6a7a32-2b04-4f3e-9ad7-0c3f6d1e8a21}3"),
			lwTx(as, "CollectionId", "5"),
			lwTx(as, "DeletesAsMoves", "1"),
			lwTx(as, "GetChanges", ""),
			lwTx(as, "WindowSize", "50"),
			lwEl(as, "Options",
				lwTx(as, "FilterType", "3"),
				lwEl(asb, "BodyPreference",
					lwTx(asb, "Type", "2"),
					lwTx(asb, "TruncationSize", "51200"),
					lwTx(asb, "AllOrNone", "0")),
				lwEl(asb, "BodyPreference", lwTx(asb, "Type", "4")),
				lwTx(as, "MIMESupport", "1"),
				lwTx(as, "MIMETruncation", "8")),
			lwEl(as, "Commands",
				lwEl(as, "Change",
					lwTx(as, "ServerId", "5:12"),
					lwEl(as, "ApplicationData",
						lwTx(em, "Read", "1"),
						lwEl(em, "Flag",
							lwTx(em, "Status", "2"), // libwbxml: FlagStatus
							lwTx(em, "FlagType", "Follow up"),
							lwTx(em, "CompleteTime", "2026-01-30T09:00:00.000Z")))),
				lwEl(as, "Delete", lwTx(as, "ServerId", "5:13"))))),
		lwTx(as, "WindowSize", "100"))

	syncResp := lwEl(as, "Sync", lwEl(as, "Collections", lwEl(as, "Collection",
		lwTx(as, "SyncKey", "{5d6a7a32-2b04-4f3e-9ad7-0c3f6d1e8a21}4"),
		lwTx(as, "CollectionId", "5"),
		lwTx(as, "Status", "1"),
		lwEl(as, "Commands",
			lwEl(as, "Add",
				lwTx(as, "ServerId", "5:14"),
				lwEl(as, "ApplicationData",
					lwTx(em, "To", `"Åsa Berg" <asa@example.com>, "李 雷" <li@example.cn>`),
					lwTx(em, "From", `"R&D <lab>" <rd@example.com>`),
					lwTx(em, "Subject", "Re: Q3 numbers & the <draft> — 📈"),
					lwTx(em, "ReplyTo", "noreply@example.com"), // libwbxml: Reply-To
					lwTx(em, "DateReceived", "2026-01-29T16:45:12.000Z"),
					lwTx(em, "DisplayTo", "Åsa Berg; 李 雷"),
					lwTx(em, "ThreadTopic", "Q3 numbers"),
					lwTx(em, "Importance", "1"),
					lwTx(em, "Read", "0"),
					lwEl(asb, "Body",
						lwTx(asb, "Type", "2"),
						lwTx(asb, "EstimatedDataSize", "2048"),
						lwTx(asb, "Truncated", "1"),
						lwTx(asb, "Data", "<html><body><p class=\"x\">Hello &amp; welcome</p>\n\t<p>ünïcödé</p></body></html>"),
						lwTx(asb, "Preview", "Hello & welcome")),
					lwTx(em, "MessageClass", "IPM.Note"),
					lwTx(em, "InternetCPID", "65001"),
					lwEl(em, "Flag"),
					lwTx(em, "ContentClass", "urn:content-classes:message"),
					lwTx(asb, "NativeBodyType", "2"),
					lwTx(em2, "ReceivedAsBcc", "0"),
					lwTx(em2, "Sender", "assistant@example.com"),
					lwEl(em, "Categories", lwTx(em, "Category", "Finance"), lwTx(em, "Category", "Ärger")))),
			lwEl(as, "Add",
				lwTx(as, "ServerId", "5:15"),
				lwEl(as, "ApplicationData",
					lwTx(em, "Subject", "Invitation: review"),
					lwEl(em, "MeetingRequest",
						lwTx(em, "AllDayEvent", "0"),
						lwTx(em, "StartTime", "2026-02-02T10:00:00.000Z"),
						lwTx(em, "DtStamp", "2026-01-29T16:45:12.000Z"), // libwbxml: DTStamp
						lwTx(em, "EndTime", "2026-02-02T11:00:00.000Z"),
						lwTx(em, "InstanceType", "1"),
						lwTx(em, "Location", "Room 4"),
						lwTx(em, "Organizer", "boss@example.com"),
						lwEl(em, "Recurrences", lwEl(em, "Recurrence",
							lwTx(em, "Type", "1"), // libwbxml: Recurrence_Type
							lwTx(em, "Interval", "1"),
							lwTx(em, "DayOfWeek", "2"))),
						lwTx(em, "Sensitivity", "0"),
						lwTx(em, "TimeZone", "xP///wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
						lwTx(em, "GlobalObjId", "BAAAAIIA4AB0xbcQGoLgCAAAAAA="))))),
		lwTx(as, "MoreAvailable", ""))))

	const cal, con, con2, tsk = "Calendar", "Contacts", "Contacts2", "Tasks"
	syncPIM := lwEl(as, "Sync", lwEl(as, "Collections",
		lwEl(as, "Collection",
			lwTx(as, "SyncKey", "7"),
			lwTx(as, "CollectionId", "2"),
			lwEl(as, "Commands", lwEl(as, "Add",
				lwTx(as, "ClientId", "c-1"),
				lwEl(as, "ApplicationData",
					lwTx(cal, "Timezone", "4AEAAFAAYQBjAGkAZgBpAGMA"), // libwbxml: TimeZone
					lwTx(cal, "DtStamp", "20260129T164512Z"),
					lwTx(cal, "StartTime", "20260202T100000Z"),
					lwTx(cal, "Subject", "Weekly sync — Σύνολο"),
					lwTx(cal, "UID", "040000008200E00074C5B7101A82E008"),
					lwTx(cal, "OrganizerName", "Boss"),
					lwTx(cal, "OrganizerEmail", "boss@example.com"),
					lwEl(cal, "Attendees", lwEl(cal, "Attendee",
						lwTx(cal, "Email", "asa@example.com"), // libwbxml: Attendee_Email
						lwTx(cal, "Name", "Åsa"),
						lwTx(cal, "AttendeeStatus", "3"),
						lwTx(cal, "AttendeeType", "1"))),
					lwTx(cal, "Location", "Room 4"),
					lwTx(cal, "EndTime", "20260202T110000Z"),
					lwEl(cal, "Recurrence",
						lwTx(cal, "Type", "1"),
						lwTx(cal, "Interval", "1"),
						lwTx(cal, "DayOfWeek", "2"),
						lwTx(cal, "Until", "20261231T000000Z")),
					lwEl(cal, "Exceptions", lwEl(cal, "Exception",
						lwTx(cal, "Deleted", "1"),
						lwTx(cal, "ExceptionStartTime", "20260209T100000Z"))),
					lwEl(asb, "Body", lwTx(asb, "Type", "1"), lwTx(asb, "Data", "Agenda:\n1. numbers\n2. <misc>")),
					lwTx(cal, "Sensitivity", "0"),
					lwTx(cal, "BusyStatus", "2"),
					lwTx(cal, "AllDayEvent", "0"),
					lwTx(cal, "Reminder", "15"),
					lwTx(cal, "MeetingStatus", "1"))))),
		lwEl(as, "Collection",
			lwTx(as, "SyncKey", "3"),
			lwTx(as, "CollectionId", "9"),
			lwEl(as, "Commands", lwEl(as, "Add",
				lwTx(as, "ClientId", "c-2"),
				lwEl(as, "ApplicationData",
					lwTx(con, "FileAs", "Berg, Åsa"),
					lwTx(con, "FirstName", "Åsa"),
					lwTx(con, "LastName", "Berg"),
					lwTx(con, "BusinessAddressCity", "Göteborg"),      // libwbxml: BusinessCity
					lwTx(con, "BusinessAddressStreet", "Storgatan 1"), // libwbxml: BusinessStreet
					lwTx(con, "HomeAddressCountry", "Sverige"),        // libwbxml: HomeCountry
					lwTx(con, "AssistantPhoneNumber", "+46 31 000 00 00"),
					lwTx(con, "Email1Address", `"Åsa Berg" <asa@example.com>`),
					lwEl(con, "Categories", lwTx(con, "Category", "Kunder")),
					lwEl(con, "Children", lwTx(con, "Child", "Nils"), lwTx(con, "Child", "Saga")),
					lwTx(con2, "NickName", "Åsa B"),
					lwTx(con2, "IMAddress", "asa@im.example.com"),
					lwTx(con2, "CompanyMainPhone", "+46 31 111 11 11"))))),
		lwEl(as, "Collection",
			lwTx(as, "SyncKey", "4"),
			lwTx(as, "CollectionId", "11"),
			lwEl(as, "Commands", lwEl(as, "Add",
				lwTx(as, "ClientId", "c-3"),
				lwEl(as, "ApplicationData",
					lwTx(tsk, "Subject", "File the report"),
					lwTx(tsk, "Importance", "2"),
					lwTx(tsk, "UtcDueDate", "2026-02-05T17:00:00.000Z"), // libwbxml: UTCDueDate
					lwTx(tsk, "DueDate", "2026-02-05T18:00:00.000Z"),
					lwTx(tsk, "Complete", "0"),
					lwEl(tsk, "Recurrence",
						lwTx(tsk, "Type", "2"),
						lwTx(tsk, "Start", "2026-02-05T00:00:00.000Z"),
						lwTx(tsk, "Interval", "1"),
						lwTx(tsk, "DayOfMonth", "5"), // libwbxml lists this token twice
						lwTx(tsk, "Regenerate", "0"),
						lwTx(tsk, "DeadOccur", "0")),
					lwTx(tsk, "ReminderSet", "1"),
					lwTx(tsk, "ReminderTime", "2026-02-05T08:00:00.000Z"))))),
		lwEl(as, "Collection",
			lwTx(as, "SyncKey", "2"),
			lwTx(as, "CollectionId", "12"),
			lwEl(as, "Commands", lwEl(as, "Add",
				lwTx(as, "ClientId", "c-4"),
				lwEl(as, "ApplicationData",
					lwTx("Notes", "Subject", "Packing list"),
					lwTx("Notes", "MessageClass", "IPM.StickyNote"),
					lwEl("Notes", "Categories", lwTx("Notes", "Category", "Travel")),
					lwEl(asb, "Body", lwTx(asb, "Type", "1"), lwTx(asb, "Data", "socks\ntickets"))))))))

	const pv, st = "Provision", "Settings"
	provisionReq := lwEl(pv, "Provision",
		lwEl(st, "DeviceInformation", lwEl(st, "Set",
			lwTx(st, "Model", "Pixel 9"),
			lwTx(st, "IMEI", "356938035643809"),
			lwTx(st, "FriendlyName", "Åsa's phone"),
			lwTx(st, "OS", "Android 16"),
			lwTx(st, "OSLanguage", "Svenska"),
			lwTx(st, "PhoneNumber", "+46700000000"),
			lwTx(st, "MobileOperator", "Telia"),
			lwTx(st, "UserAgent", "easkit/1.0"))),
		lwEl(pv, "Policies", lwEl(pv, "Policy", lwTx(pv, "PolicyType", "MS-EAS-Provisioning-WBXML"))))

	provisionResp := lwEl(pv, "Provision",
		lwTx(pv, "Status", "1"),
		lwEl(pv, "Policies", lwEl(pv, "Policy",
			lwTx(pv, "PolicyType", "MS-EAS-Provisioning-WBXML"),
			lwTx(pv, "Status", "1"),
			lwTx(pv, "PolicyKey", "1307199584"),
			lwEl(pv, "Data", lwEl(pv, "EASProvisionDoc",
				lwTx(pv, "DevicePasswordEnabled", "1"),
				lwTx(pv, "AlphanumericDevicePasswordRequired", "0"),
				lwTx(pv, "RequireStorageCardEncryption", "1"), // libwbxml: DeviceEncryptionEnabled
				lwTx(pv, "PasswordRecoveryEnabled", "1"),
				lwTx(pv, "AttachmentsEnabled", "1"),
				lwTx(pv, "MinDevicePasswordLength", "6"),
				lwTx(pv, "MaxInactivityTimeDeviceLock", "900"),
				lwTx(pv, "MaxDevicePasswordFailedAttempts", "8"),
				lwTx(pv, "MaxAttachmentSize", ""),
				lwTx(pv, "AllowSimpleDevicePassword", "0"),
				lwTx(pv, "DevicePasswordExpiration", ""),
				lwTx(pv, "DevicePasswordHistory", "0"),
				lwTx(pv, "AllowStorageCard", "1"),
				lwTx(pv, "AllowCamera", "1"),
				lwTx(pv, "RequireDeviceEncryption", "1"),
				lwTx(pv, "AllowUnsignedApplications", "1"),
				lwTx(pv, "AllowUnsignedInstallationPackages", "1"),
				lwTx(pv, "MinDevicePasswordComplexCharacters", "3"),
				lwTx(pv, "AllowWiFi", "1"),
				lwTx(pv, "AllowTextMessaging", "1"),
				lwTx(pv, "AllowPOPIMAPEmail", "1"),
				lwTx(pv, "AllowBluetooth", "2"),
				lwTx(pv, "AllowIrDA", "1"),
				lwTx(pv, "RequireManualSyncWhenRoaming", "0"),
				lwTx(pv, "AllowDesktopSync", "1"),
				lwTx(pv, "MaxCalendarAgeFilter", "0"),
				lwTx(pv, "AllowHTMLEmail", "1"),
				lwTx(pv, "MaxEmailAgeFilter", "0"),
				lwTx(pv, "MaxEmailBodyTruncationSize", "-1"),
				lwTx(pv, "MaxEmailHTMLBodyTruncationSize", "-1"),
				lwTx(pv, "RequireSignedSMIMEMessages", "0"),
				lwTx(pv, "RequireEncryptedSMIMEMessages", "0"),
				lwTx(pv, "RequireSignedSMIMEAlgorithm", "0"),
				lwTx(pv, "RequireEncryptionSMIMEAlgorithm", "0"),
				lwTx(pv, "AllowSMIMEEncryptionAlgorithmNegotiation", "2"),
				lwTx(pv, "AllowSMIMESoftCerts", "1"),
				lwTx(pv, "AllowBrowser", "1"),
				lwTx(pv, "AllowConsumerEmail", "1"),
				lwTx(pv, "AllowRemoteDesktop", "1"),
				lwTx(pv, "AllowInternetSharing", "1"),
				lwEl(pv, "UnapprovedInROMApplicationList", lwTx(pv, "ApplicationName", "Solitaire")),
				lwEl(pv, "ApprovedApplicationList", lwTx(pv, "Hash", "00112233445566778899AABBCCDDEEFF00112233")))))),
		lwEl(pv, "RemoteWipe", lwTx(pv, "Status", "1")))

	settingsReq := lwEl(st, "Settings",
		lwEl(st, "Oof", lwEl(st, "Get", lwTx(st, "BodyType", "Text"))),
		lwEl(st, "Oof", lwEl(st, "Set",
			lwTx(st, "OofState", "2"),
			lwTx(st, "StartTime", "2026-07-01T00:00:00.000Z"),
			lwTx(st, "EndTime", "2026-07-31T00:00:00.000Z"),
			lwEl(st, "OofMessage", lwTx(st, "AppliesToInternal", ""), lwTx(st, "Enabled", "1"),
				lwTx(st, "ReplyMessage", "Semester — back in August. <Urgent> & important: call +46…"),
				lwTx(st, "BodyType", "Text")),
			lwEl(st, "OofMessage", lwTx(st, "AppliesToExternalUnknown", ""), lwTx(st, "Enabled", "0")))),
		lwEl(st, "DevicePassword", lwEl(st, "Set", lwTx(st, "Password", "p&ss<wörd>"))),
		lwEl(st, "DeviceInformation", lwEl(st, "Set", lwTx(st, "Model", "Pixel 9"), lwTx(st, "EnableOutboundSMS", "0"))),
		lwEl(st, "UserInformation", lwEl(st, "Get")),
		lwEl(st, "RightsManagementInformation", lwEl(st, "Get"))) // libwbxml: ihsManagementInformation

	const pg = "Ping"
	pingReq := lwEl(pg, "Ping",
		lwTx(pg, "HeartbeatInterval", "480"),
		lwEl(pg, "Folders",
			lwEl(pg, "Folder", lwTx(pg, "Id", "5"), lwTx(pg, "Class", "Email")),
			lwEl(pg, "Folder", lwTx(pg, "Id", "2"), lwTx(pg, "Class", "Calendar")),
			lwEl(pg, "Folder", lwTx(pg, "Id", "9"), lwTx(pg, "Class", "Contacts"))))
	pingResp := lwEl(pg, "Ping", lwTx(pg, "Status", "2"), lwEl(pg, "Folders", lwTx(pg, "Folder", "5"), lwTx(pg, "Folder", "9")))

	const iop, gie, mv, mr = "ItemOperations", "GetItemEstimate", "Move", "MeetingResponse"
	itemOps := lwEl(iop, "ItemOperations",
		lwEl(iop, "Fetch",
			lwTx(iop, "Store", "Mailbox"),
			lwTx(as, "CollectionId", "5"),
			lwTx(as, "ServerId", "5:14"),
			lwEl(iop, "Options",
				lwEl(asb, "BodyPreference", lwTx(asb, "Type", "2")),
				lwTx(iop, "Range", "0-1023"))),
		lwEl(iop, "Fetch", lwTx(iop, "Store", "Mailbox"), lwTx(asb, "FileReference", "5:14:0")),
		lwEl(iop, "EmptyFolderContents", lwTx(as, "CollectionId", "7"), lwEl(iop, "Options", lwTx(iop, "DeleteSubFolders", ""))),
		lwEl(iop, "Move", lwTx(iop, "DstFldId", "8"), lwEl(iop, "Options", lwTx(iop, "MoveAlways", ""))))

	misc := lwEl(mv, "MoveItems",
		lwEl(mv, "Move", lwTx(mv, "SrcMsgId", "5:14"), lwTx(mv, "SrcFldId", "5"), lwTx(mv, "DstFldId", "8")),
		lwEl(mv, "Response", lwTx(mv, "SrcMsgId", "5:15"), lwTx(mv, "Status", "3"), lwTx(mv, "DstMsgId", "8:1")))
	estimate := lwEl(gie, "GetItemEstimate", lwEl(gie, "Collections", lwEl(gie, "Collection",
		lwTx(as, "SyncKey", "4"),
		lwTx(gie, "CollectionId", "5"),
		lwEl(as, "Options", lwTx(as, "FilterType", "2"), lwTx(as, "Class", "Email")),
		lwEl(gie, "Response", lwTx(gie, "Status", "1"), lwTx(gie, "Estimate", "17")))))
	meeting := lwEl(mr, "MeetingResponse", lwEl(mr, "Request",
		lwTx(mr, "UserResponse", "1"),
		lwTx(mr, "CollectionId", "5"),
		lwTx(mr, "RequestId", "5:15"),
		lwTx(mr, "InstanceId", "2026-02-02T10:00:00.000Z"),
		lwEl(mr, "SendResponse", lwEl(asb, "Body", lwTx(asb, "Type", "1"), lwTx(asb, "Data", "Ja, gärna!"))),
		lwEl(mr, "Result", lwTx(mr, "Status", "1"), lwTx(mr, "CalendarId", "2:33"))))

	const sr, gal, rr, vc = "Search", "Gal", "ResolveRecipients", "ValidateCert"
	search := lwEl(sr, "Search",
		lwEl(sr, "Store",
			lwTx(sr, "Name", "GAL"),
			lwTx(sr, "Query", "Berg & co"),
			lwEl(sr, "Options", lwTx(sr, "Range", "0-9"), lwTx(sr, "MaxPictures", "2"))),
		lwEl(sr, "Response", lwEl(sr, "Store",
			lwTx(sr, "Status", "1"),
			lwEl(sr, "Result", lwEl(sr, "Properties",
				lwTx(gal, "DisplayName", "Berg, Åsa"),
				lwTx(gal, "Phone", "+46 31 000 00 00"),
				lwTx(gal, "Office", "GBG-4"),
				lwTx(gal, "Title", "Controller"),
				lwTx(gal, "Company", "Exempel AB"),
				lwTx(gal, "Alias", "asab"),
				lwTx(gal, "EmailAddress", "asa@example.com"),
				lwEl(gal, "Picture", lwTx(gal, "Status", "173")))),
			lwTx(sr, "Range", "0-0"),
			lwTx(sr, "Total", "1"))),
		lwEl(sr, "Store",
			lwTx(sr, "Name", "Mailbox"),
			lwEl(sr, "Query", lwEl(sr, "And",
				lwTx(as, "CollectionId", "5"),
				lwTx(sr, "FreeText", "Q3 numbers"),
				lwEl(sr, "GreaterThan", lwTx(em, "DateReceived", ""), lwTx(sr, "Value", "2026-01-01T00:00:00.000Z")))),
			lwEl(sr, "Options", lwTx(sr, "DeepTraversal", ""), lwTx(sr, "RebuildResults", ""), lwTx(sr, "Range", "0-99"))))
	resolve := lwEl(rr, "ResolveRecipients",
		lwTx(rr, "To", "asa"),
		lwEl(rr, "Options",
			lwTx(rr, "CertificateRetrieval", "2"),
			lwTx(rr, "MaxCertificates", "3"),
			lwTx(rr, "MaxAmbiguousRecipients", "5"),
			lwEl(rr, "Availability", lwTx(rr, "StartTime", "2026-02-02T08:00:00.000Z"), lwTx(rr, "EndTime", "2026-02-02T17:00:00.000Z"))),
		lwEl(rr, "Response",
			lwTx(rr, "To", "asa"),
			lwTx(rr, "Status", "1"),
			lwTx(rr, "RecipientCount", "1"),
			lwEl(rr, "Recipient",
				lwTx(rr, "Type", "1"),
				lwTx(rr, "DisplayName", "Berg, Åsa"),
				lwTx(rr, "EmailAddress", "asa@example.com"),
				lwEl(rr, "Availability", lwTx(rr, "Status", "1"), lwTx(rr, "MergedFreeBusy", "0000222200")),
				lwEl(rr, "Certificates", lwTx(rr, "Status", "1"), lwTx(rr, "CertificateCount", "1"), lwTx(rr, "MiniCertificate", "MIIBszCCAVmgAwIBAgIU")))),
		lwEl(vc, "ValidateCert",
			lwEl(vc, "Certificates", lwTx(vc, "Certificate", "MIIDdzCCAl+gAwIBAgIE")),
			lwEl(vc, "CertificateChain", lwTx(vc, "Certificate", "MIIEkjCCA3qgAwIBAgIQ")),
			lwTx(vc, "CheckCRL", "1"),
			lwTx(vc, "Status", "1")))

	const cm, fh, rm, dl = "ComposeMail", "FolderHierarchy", "RightsManagement", "DocumentLibrary"
	composeAndRM := lwEl(cm, "SmartForward",
		lwTx(cm, "ClientId", "msg-42"),
		lwTx(cm, "SaveInSentItems", ""),
		lwTx(cm, "ReplaceMime", ""),
		lwEl(cm, "Source", lwTx(cm, "FolderId", "5"), lwTx(cm, "ItemId", "5:14"), lwTx(cm, "InstanceId", "2026-02-02T10:00:00.000Z")),
		lwTx(cm, "AccountId", "1"),
		lwEl(cm, "Forwardees", lwEl(cm, "Forwardee", lwTx(cm, "Name", "Nils"), lwTx(cm, "Email", "nils@example.com"))), // libwbxml: ForwardeeName, ForwardeeEmail
		lwTx(rm, "TemplateID", "cf5cf348-a8d7-40d5-91ef-a600b88a395d"),
		lwEl(rm, "RightsManagementLicense",
			lwTx(rm, "EditAllowed", "1"),
			lwTx(rm, "ReplyAllowed", "1"),
			lwTx(rm, "ReplyAllAllowed", "1"),
			lwTx(rm, "ForwardAllowed", "0"),
			lwTx(rm, "ModifyRecipientsAllowed", "0"),
			lwTx(rm, "ExtractAllowed", "0"),
			lwTx(rm, "PrintAllowed", "1"),
			lwTx(rm, "ExportAllowed", "0"),
			lwTx(rm, "ProgrammaticAccessAllowed", "0"),
			lwTx(rm, "Owner", "0"), // libwbxml: RMOwner
			lwTx(rm, "ContentExpiryDate", "9999-12-31T23:59:59.999Z"),
			lwTx(rm, "TemplateName", "Do Not Forward"),
			lwTx(rm, "TemplateDescription", "Recipients can read this message, but they can't forward, print, or copy content."),
			lwTx(rm, "ContentOwner", "boss@example.com")),
		lwTx(rm, "RemoveRightsManagementProtection", ""), // libwbxml: RemoveRightsManagementDistribution
		lwEl(dl, "LinkId", lwTx(dl, "DisplayName", "\\\\fileserver\\share\\report.docx")),
		lwEl(fh, "FolderCreate", lwTx(fh, "SyncKey", "3"), lwTx(fh, "ParentId", "0"), lwTx(fh, "DisplayName", "Kvitton & fakturor"), lwTx(fh, "Type", "12")))

	return []libwbxmlDoc{
		{"sync-request", syncReq},
		{"sync-response-email", syncResp},
		{"sync-calendar-contacts-tasks-notes", syncPIM},
		{"provision-request", provisionReq},
		{"provision-response", provisionResp},
		{"settings-request", settingsReq},
		{"ping-request", pingReq},
		{"ping-response", pingResp},
		{"itemoperations", itemOps},
		{"moveitems", misc},
		{"getitemestimate", estimate},
		{"meetingresponse", meeting},
		{"search-gal-mailbox", search},
		{"resolverecipients-validatecert", resolve},
		{"smartforward-rightsmanagement-documentlibrary-folderhierarchy", composeAndRM},
	}
}

// lwOpaqueBytes returns n deterministic bytes covering all 256 values (NUL included).
func lwOpaqueBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// libwbxmlOpaqueDocs hold OPAQUE values under the tags libwbxml marks binary, which it reads
// from base64 in the XML: a SendMail with its MIME message, and values whose lengths
// take one, two and three bytes as mb_u_int32 (127/128, 16383/16384, 70000).
func libwbxmlOpaqueDocs() []libwbxmlDoc {
	const cm, as, asb, em2, iop = "ComposeMail", "AirSync", "AirSyncBase", "Email2", "ItemOperations"
	mime := "From: =?UTF-8?Q?=C3=85sa?= <asa@example.com>\r\nTo: nils@example.com\r\nSubject: R&D <draft>\r\n" +
		"Content-Type: text/plain; charset=ISO-8859-1\r\n\r\nHej Nils,\r\n\xe5\xe4\xf6 \x00 binary-safe\r\n"
	sendMail := lwEl(cm, "SendMail",
		lwTx(cm, "ClientId", "msg-43"),
		lwTx(cm, "SaveInSentItems", ""),
		wbxml.NewOpaqueElement(wbxml.MustTag(cm, "Mime"), []byte(mime)))
	fetch := lwEl(iop, "ItemOperations", lwEl(iop, "Response"))
	props := lwEl(iop, "Properties")
	for i, n := range []int{1, 127, 128, 16383, 16384, 70000} {
		props.Children = append(props.Children,
			wbxml.NewOpaqueElement(wbxml.MustTag(em2, "ConversationId"), lwOpaqueBytes(16, int64(i))),
			wbxml.NewOpaqueElement(wbxml.MustTag(asb, "Content"), lwOpaqueBytes(n, int64(n))))
	}
	props.Children = append(props.Children,
		wbxml.NewOpaqueElement(wbxml.MustTag(em2, "ConversationIndex"), lwOpaqueBytes(5, 5)),
		wbxml.NewOpaqueElement(wbxml.MustTag(iop, "ConversationId"), lwOpaqueBytes(16, 6)),
		wbxml.NewOpaqueElement(wbxml.MustTag("Search", "ConversationId"), lwOpaqueBytes(16, 7)),
		lwEl("Gal", "Picture", wbxml.NewOpaqueElement(wbxml.MustTag("Gal", "Data"), lwOpaqueBytes(300, 8))),
		lwEl("ResolveRecipients", "Picture", wbxml.NewOpaqueElement(wbxml.MustTag("ResolveRecipients", "Data"), lwOpaqueBytes(300, 9))))
	fetch.Children[0].Children = append(fetch.Children[0].Children, lwEl(iop, "Fetch",
		lwTx(iop, "Status", "1"),
		lwTx(as, "CollectionId", "5"),
		lwTx(as, "ServerId", "5:14"),
		lwTx(as, "Class", "Email"),
		props))
	return []libwbxmlDoc{{"sendmail-mime-opaque", sendMail}, {"opaque-lengths", fetch}}
}

// ---------------------------------------------------------------------------
// The tests.

// libwbxmlRun is what one document gave: the XML rendered for libwbxml, our bytes,
// xml2wbxml's bytes, and the XML wbxml2xml made of our bytes.
type libwbxmlRun struct {
	doc       libwbxmlDoc
	xml       []byte
	ours      []byte
	theirs    []byte
	theirsXML []byte
	encErr    error // running xml2wbxml
	decErr    error // running wbxml2xml
}

// runLibwbxml renders and marshals every document and runs xml2wbxml on the XML
// (encode) and wbxml2xml on our bytes (decode), as one parallel batch.
func runLibwbxml(t *testing.T, tools libwbxmlTools, tab *libwbxmlTable, docs []libwbxmlDoc, encode, decode bool) []libwbxmlRun {
	t.Helper()
	dir := t.TempDir()
	runs := make([]libwbxmlRun, len(docs))
	var err error
	for i, d := range docs {
		runs[i].doc = d
		runs[i].xml, err = libwbxmlXML(tab, d.root)
		require.NoError(t, err, "%s: rendering XML for libwbxml", d.name)
		runs[i].ours, err = wbxml.Marshal(d.root)
		require.NoError(t, err, "%s: wbxml.Marshal", d.name)
	}
	lwParallel(len(docs), func(i int) {
		r := &runs[i]
		name := fmt.Sprintf("%03d-%s", i, r.doc.name)
		if encode {
			r.theirs, r.encErr = tools.encode(dir, name, r.xml)
		}
		if decode {
			r.theirsXML, r.decErr = tools.decode(dir, name, r.ours)
		}
	})
	return runs
}

// lwCheckEncode requires xml2wbxml's bytes to equal wbxml.Marshal's and the Decoder to
// read them into the source tree. It returns the number of bytes compared.
func lwCheckEncode(t *testing.T, r libwbxmlRun) int {
	t.Helper()
	require.NoError(t, r.encErr, r.doc.name)
	if !bytes.Equal(r.ours, r.theirs) {
		t.Errorf("%s: xml2wbxml -a -n -k and wbxml.Marshal disagree; %s\nXML given to xml2wbxml:\n%s", r.doc.name, lwDiffReport(r.ours, r.theirs), lwAbbreviate(r.xml))
		return 0
	}
	return len(r.ours)
}

// lwCheckDecodeTheirs requires the Decoder to read xml2wbxml's bytes into the source tree.
func lwCheckDecodeTheirs(t *testing.T, r libwbxmlRun) int {
	t.Helper()
	require.NoError(t, r.encErr, r.doc.name)
	doc, err := wbxml.Unmarshal(r.theirs)
	require.NoError(t, err, "%s: decoding xml2wbxml's output", r.doc.name)
	require.Equal(t, r.doc.root, doc.Root, "%s: the Decoder read another tree from xml2wbxml's bytes", r.doc.name)
	require.Equal(t, wbxml.Header{Version: 3, PublicID: wbxml.PublicIDUnknown, Charset: wbxml.Charset, StringTable: []byte{}}, doc.Header, r.doc.name)
	return len(r.theirs)
}

// lwCheckDecodeOurs requires wbxml2xml to accept our bytes and its XML to describe the
// source tree.
func lwCheckDecodeOurs(t *testing.T, tab *libwbxmlTable, r libwbxmlRun) int {
	t.Helper()
	require.NoError(t, r.decErr, "%s: wbxml2xml rejects wbxml.Marshal's output", r.doc.name)
	back, err := parseLibwbxmlXML(tab, r.theirsXML)
	require.NoError(t, err, "%s: reading wbxml2xml's XML\n%s", r.doc.name, lwAbbreviate(r.theirsXML))
	require.Equal(t, lwNormalizeCR(r.doc.root), back, "%s: wbxml2xml read another tree from wbxml.Marshal's bytes", r.doc.name)
	return len(r.ours)
}

// lwAbbreviate keeps failure messages readable for the 10,000-folder documents.
func lwAbbreviate(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + fmt.Sprintf("... (%d more bytes)", len(b)-4000)
	}
	return string(b)
}

// TestLibwbxmlXMLRendering pins the XML the other tests give xml2wbxml (no tools
// needed): libwbxml's names, a default namespace with the trailing colon wherever the
// page changes, none where it is inherited, escaped text, base64 for OPAQUE; and the
// refusals.
func TestLibwbxmlXMLRendering(t *testing.T) {
	tab := loadLibwbxmlTable(t)
	tree := lwEl("AirSync", "Sync", lwEl("AirSync", "Options",
		lwEl("AirSyncBase", "BodyPreference", lwTx("AirSyncBase", "Type", "2")),
		lwTx("AirSync", "MIMESupport", "\t<&>\r\n\"'é"),
		lwEl("Email", "Flag", lwTx("Email", "Status", "2")),
		wbxml.NewOpaqueElement(wbxml.MustTag("ComposeMail", "Mime"), []byte{0, 1, 0xFF})))
	got, err := libwbxmlXML(tab, tree)
	require.NoError(t, err)
	require.Equal(t, libwbxmlProlog+`<Sync xmlns="AirSync:"><Options><BodyPreference xmlns="AirSyncBase:"><Type>2</Type></BodyPreference>`+
		`<MIMESupport>&#x9;&lt;&amp;&gt;&#xD;&#xA;&#34;&#39;é</MIMESupport><Flag xmlns="Email:"><FlagStatus>2</FlagStatus></Flag>`+
		`<MIME xmlns="ComposeMail:">AAH/</MIME></Options></Sync>`, string(got))

	for name, bad := range map[string]*wbxml.Node{
		"NUL in text":           lwTx("AirSync", "Sync", "a\x00b"),
		"C0 control in text":    lwTx("AirSync", "Sync", "a\x1bb"),
		"invalid UTF-8":         lwTx("AirSync", "Sync", "a\xffb"),
		"U+FFFE":                lwTx("AirSync", "Sync", "\uFFFE"),
		"page 25":               lwEl("Find", "Find"),
		"tag libwbxml lacks":    lwTx("MeetingResponse", "ProposedStartTime", "x"),
		"text under binary tag": lwTx("ComposeMail", "Mime", "x"),
		"opaque under text tag": wbxml.NewOpaqueElement(wbxml.MustTag("AirSync", "Sync"), []byte{1}),
		"empty opaque":          wbxml.NewOpaqueElement(wbxml.MustTag("ComposeMail", "Mime"), nil),
		"text node as the root": {Kind: wbxml.TextNode, Data: []byte("x")},
	} {
		_, err := libwbxmlXML(tab, bad)
		require.Error(t, err, name)
	}
}

// TestLibwbxmlEncodeMatches: xml2wbxml -a -n -k writes exactly what wbxml.Marshal
// writes, and the Decoder reads what xml2wbxml writes into the tree the XML was
// rendered from. One run of xml2wbxml over the corpus serves both checks.
func TestLibwbxmlEncodeMatches(t *testing.T) {
	tools := needLibwbxml(t)
	tab := loadLibwbxmlTable(t)
	runs := runLibwbxml(t, tools, tab, libwbxmlCorpus(), true, false)
	compared, read := 0, 0
	for _, r := range runs {
		compared += lwCheckEncode(t, r)
		read += lwCheckDecodeTheirs(t, r)
	}
	t.Logf("%d documents: %d bytes identical in xml2wbxml's and wbxml.Marshal's output", len(runs), compared)
	t.Logf("the Decoder read %d documents (%d bytes) written by xml2wbxml into their source trees", len(runs), read)
}

// TestLibwbxmlDecodeReadsOurs: wbxml2xml accepts what the Encoder writes, and its XML
// describes the tree that was encoded.
func TestLibwbxmlDecodeReadsOurs(t *testing.T) {
	tools := needLibwbxml(t)
	tab := loadLibwbxmlTable(t)
	runs := runLibwbxml(t, tools, tab, libwbxmlCorpus(), false, true)
	total := 0
	for _, r := range runs {
		total += lwCheckDecodeOurs(t, tab, r)
	}
	t.Logf("wbxml2xml read %d documents (%d bytes) written by wbxml.Marshal into the trees they encode", len(runs), total)
}

// TestLibwbxmlEveryTag puts every tag libwbxml knows on pages 0-24 through both tools,
// one document per page: each tag is switched to from a foreign page (its own default
// namespace declaration) and nested in itself (the namespace inherited), the content
// is text, or OPAQUE for the tags libwbxml marks binary, and the document ends back on
// the root's page. Unlike the random documents this includes the tags whose libwbxml
// name other pages share ("Status", "Type", ...). Reading wbxml2xml's XML back through
// the TSV's names also checks that column against libwbxml's table.
func TestLibwbxmlEveryTag(t *testing.T) {
	tools := needLibwbxml(t)
	tab := loadLibwbxmlTable(t)
	var docs []libwbxmlDoc
	tags := 0
	for page := uint8(0); page <= libwbxmlMaxPage; page++ {
		rootNS, rootName := "FolderHierarchy", "FolderSync"
		if page == 7 {
			rootNS, rootName = "AirSync", "Sync"
		}
		root := lwEl(rootNS, rootName)
		for _, tg := range tab.tags {
			e := tab.byTag[tg]
			if tg.Page != page || e.name == "" {
				continue
			}
			tags++
			if e.binary {
				root.Children = append(root.Children, wbxml.NewOpaqueElement(tg, lwOpaqueBytes(3+int(tg.Token), int64(tg.Token))))
				continue
			}
			root.Children = append(root.Children, wbxml.NewElement(tg, wbxml.NewTextElement(tg, e.name+" & <"+tg.String()+">")))
		}
		if len(root.Children) == 0 {
			continue // AirNotify
		}
		root.Children = append(root.Children, lwTx(rootNS, "Status", "1")) // back on the root's page
		docs = append(docs, libwbxmlDoc{fmt.Sprintf("page-%02d-%s", page, wbxml.PageNamespace(page)), root})
	}
	runs := runLibwbxml(t, tools, tab, docs, true, true)
	compared := 0
	for _, r := range runs {
		compared += lwCheckEncode(t, r)
		lwCheckDecodeTheirs(t, r)
		lwCheckDecodeOurs(t, tab, r)
	}
	t.Logf("%d tags on %d code pages: %d bytes identical, read back both ways", tags, len(docs), compared)
}

// TestLibwbxmlUndefinedTokens checks libwbxmlExtraNames: for each page 0-24, a
// document holding every token MS-ASWBXML leaves undefined (written with
// AllowUnknownTags) goes through wbxml2xml, which names the tokens its table has and
// calls the others "unknown".
func TestLibwbxmlUndefinedTokens(t *testing.T) {
	tools := needLibwbxml(t)
	dir := t.TempDir()
	type probe struct {
		tags []wbxml.Tag
		xml  []byte
		err  error
	}
	probes := make([]probe, libwbxmlMaxPage+1)
	lwParallel(len(probes), func(page int) {
		pr := &probes[page]
		var buf bytes.Buffer
		enc := wbxml.NewEncoder(&buf)
		enc.AllowUnknownTags = true
		root := lwEl("FolderHierarchy", "FolderSync")
		for tok := 0x05; tok <= 0x3F; tok++ {
			if tg := (wbxml.Tag{Page: uint8(page), Token: uint8(tok)}); !tg.Known() {
				pr.tags = append(pr.tags, tg)
				root.Children = append(root.Children, wbxml.NewTextElement(tg, "x"))
			}
		}
		if pr.err = wbxml.EncodeNode(enc, root); pr.err == nil {
			pr.err = enc.Close()
		}
		if pr.err == nil {
			pr.xml, pr.err = tools.decode(dir, fmt.Sprintf("undefined-%02d", page), buf.Bytes())
		}
	})
	found := map[wbxml.Tag]string{}
	for page, pr := range probes {
		require.NoError(t, pr.err, "page %d", page)
		d := xml.NewDecoder(bytes.NewReader(pr.xml))
		depth, i := 0, 0
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			require.NoError(t, err, "page %d: %s", page, pr.xml)
			switch tok := tok.(type) {
			case xml.StartElement:
				depth++
				if depth == 2 {
					require.Less(t, i, len(pr.tags), "page %d: more elements than tokens written", page)
					if tok.Name.Local != "unknown" {
						found[pr.tags[i]] = tok.Name.Local
					}
					i++
				}
			case xml.EndElement:
				depth--
			}
		}
		require.Equal(t, len(pr.tags), i, "page %d: wbxml2xml returned another number of elements", page)
	}
	require.Equal(t, libwbxmlExtraNames, found, "libwbxml's names for the tokens MS-ASWBXML does not define")
}

// libwbxmlRandomTags are the tags the random documents draw from: known to libwbxml,
// not marked binary, and under a name no tag of another page has, so that libwbxml's
// name lookup could not land on another page even if it ignored the namespace.
func libwbxmlRandomTags(tab *libwbxmlTable) []wbxml.Tag {
	var out []wbxml.Tag
	for _, t := range tab.tags {
		e := tab.byTag[t]
		if e.name == "" || e.binary || !tab.unique(t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// lwRandomText is leaf text from a small alphabet: ASCII, the characters XML escapes,
// tab, LF and CR (written as character references, which expat keeps), and UTF-8 of
// two to four bytes.
var lwRandomText = []string{"a", "Z", "7", " ", "-", "&", "<", ">", "\"", "'", "\t", "\n", "\r", "é", "Ж", "中", "🚀"}

// lwRandomTree builds an element of random tags with random nesting: the root has
// children, any other element up to maxDepth has 1-6 children two times in three, and
// a leaf is empty or holds 1-12 characters of lwRandomText.
func lwRandomTree(rng *rand.Rand, tags []wbxml.Tag, depth, maxDepth int) *wbxml.Node {
	n := wbxml.NewElement(tags[rng.Intn(len(tags))])
	if depth == 0 || depth < maxDepth && rng.Intn(3) > 0 {
		for k := 1 + rng.Intn(6); k > 0; k-- {
			n.Children = append(n.Children, lwRandomTree(rng, tags, depth+1, maxDepth))
		}
		return n
	}
	if rng.Intn(5) > 0 {
		var s strings.Builder
		for k := 1 + rng.Intn(12); k > 0; k-- {
			s.WriteString(lwRandomText[rng.Intn(len(lwRandomText))])
		}
		n.Children = []*wbxml.Node{{Kind: wbxml.TextNode, Data: []byte(s.String())}}
	}
	return n
}

// TestLibwbxmlRandomDocuments: 200 random documents over pages 0-24 encode to the
// same bytes with xml2wbxml and wbxml.Marshal, the Decoder reads libwbxml's bytes
// back into the tree, and wbxml2xml reads ours into it.
func TestLibwbxmlRandomDocuments(t *testing.T) {
	tools := needLibwbxml(t)
	tab := loadLibwbxmlTable(t)
	tags := libwbxmlRandomTags(tab)
	require.Greater(t, len(tags), 300, "the random documents should draw on most of the tag table")

	rng := rand.New(rand.NewSource(20260129))
	docs := make([]libwbxmlDoc, 200)
	for i := range docs {
		docs[i] = libwbxmlDoc{fmt.Sprintf("random-%03d", i), lwRandomTree(rng, tags, 0, 1+rng.Intn(6))}
	}
	runs := runLibwbxml(t, tools, tab, docs, true, true)
	compared, elements := 0, 0
	used, pages := map[wbxml.Tag]bool{}, map[uint8]bool{}
	for _, r := range runs {
		n := lwCheckEncode(t, r)
		if n > 0 {
			lwCheckDecodeTheirs(t, r)
		}
		lwCheckDecodeOurs(t, tab, r)
		compared += n
		elements += lwMarkTags(r.doc.root, used)
	}
	for tg := range used {
		pages[tg.Page] = true
	}
	t.Logf("%d random documents, %d elements drawing on %d tags (%d used, on %d code pages): %d bytes identical, read back both ways",
		len(docs), elements, len(tags), len(used), len(pages), compared)
}

// lwMarkTags records the tags under n and returns the number of elements.
func lwMarkTags(n *wbxml.Node, used map[wbxml.Tag]bool) int {
	if n.Kind != wbxml.ElementNode {
		return 0
	}
	used[n.Tag] = true
	count := 1
	for _, c := range n.Children {
		count += lwMarkTags(c, used)
	}
	return count
}
