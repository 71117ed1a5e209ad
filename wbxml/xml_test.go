package wbxml_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
)

// wbtDump renders a tree one node per line, so two trees compare with a readable
// diff and without regard to nil versus empty slices.
func wbtDump(n *wbxml.Node) string {
	var b strings.Builder
	var walk func(n *wbxml.Node, depth int)
	walk = func(n *wbxml.Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		switch n.Kind {
		case wbxml.ElementNode:
			fmt.Fprintf(&b, "<%s>\n", n.Tag)
			for _, c := range n.Children {
				walk(c, depth+1)
			}
			return
		case wbxml.TextNode:
			fmt.Fprintf(&b, "text %q\n", n.Data)
		case wbxml.OpaqueNode:
			fmt.Fprintf(&b, "opaque %x\n", n.Data)
		default:
			fmt.Fprintf(&b, "kind %d\n", n.Kind)
		}
	}
	if n == nil {
		return "<nil>"
	}
	walk(n, 0)
	return b.String()
}

func wbtWriteXML(t *testing.T, n *wbxml.Node) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, wbxml.WriteXML(&b, n))
	return b.String()
}

func wbtTextNode(s string) *wbxml.Node               { return &wbxml.Node{Kind: wbxml.TextNode, Data: []byte(s)} }
func wbtOpaqueNode(b []byte) *wbxml.Node             { return &wbxml.Node{Kind: wbxml.OpaqueNode, Data: b} }
func fh(name string) wbxml.Tag                       { return wbxml.MustTag("FolderHierarchy", name) }
func fhText(name, s string) *wbxml.Node              { return wbxml.NewTextElement(fh(name), s) }
func fhEl(name string, c ...*wbxml.Node) *wbxml.Node { return wbxml.NewElement(fh(name), c...) }

// wbtXMLRoundTrip writes n as XML, reads it back and checks the tree and the
// WBXML bytes are unchanged.
func wbtXMLRoundTrip(t *testing.T, n *wbxml.Node) string {
	t.Helper()
	x := wbtWriteXML(t, n)
	back, err := wbxml.ReadXML(strings.NewReader(x))
	require.NoError(t, err, x)
	assert.Equal(t, wbtDump(n), wbtDump(back), "tree through XML\n%s", x)
	want, err := wbxml.Marshal(n)
	require.NoError(t, err)
	got, err := wbxml.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, want, got, "WBXML through XML")
	return x
}

func TestWriteXMLFolderSync(t *testing.T) {
	doc := fhEl("FolderSync",
		fhText("Status", "1"),
		fhText("SyncKey", "{6b022350-8c8c}1"),
		fhEl("Changes",
			fhText("Count", "3"),
			fhEl("Add",
				fhText("ServerId", "1"),
				fhText("ParentId", "0"),
				fhText("DisplayName", "R&D <2026>"),
				fhText("Type", "12"),
			),
			fhEl("Update",
				fhText("ServerId", "2"),
				fhText("ParentId", "1"),
				fhText("DisplayName", `"quoted" 'single'`),
				fhText("Type", "1"),
			),
			fhEl("Add",
				fhText("ServerId", "3"),
				fhText("ParentId", "0"),
				fhText("DisplayName", "  tab\there\r\nÉléments 受信 📁  "),
				fhText("Type", "2"),
			),
			fhEl("Delete", fhText("ServerId", "9")),
			fhEl("Delete"),
		),
	)
	want := `<?xml version="1.0" encoding="utf-8"?>
<FolderSync xmlns="FolderHierarchy">
  <Status>1</Status>
  <SyncKey>{6b022350-8c8c}1</SyncKey>
  <Changes>
    <Count>3</Count>
    <Add>
      <ServerId>1</ServerId>
      <ParentId>0</ParentId>
      <DisplayName>R&amp;D &lt;2026&gt;</DisplayName>
      <Type>12</Type>
    </Add>
    <Update>
      <ServerId>2</ServerId>
      <ParentId>1</ParentId>
      <DisplayName>&#34;quoted&#34; &#39;single&#39;</DisplayName>
      <Type>1</Type>
    </Update>
    <Add>
      <ServerId>3</ServerId>
      <ParentId>0</ParentId>
      <DisplayName>  tab&#x9;here&#xD;&#xA;Éléments 受信 📁  </DisplayName>
      <Type>2</Type>
    </Add>
    <Delete>
      <ServerId>9</ServerId>
    </Delete>
    <Delete/>
  </Changes>
</FolderSync>
`
	assert.Equal(t, want, wbtXMLRoundTrip(t, doc))

	// A request: an empty SyncKey element.
	req := fhEl("FolderSync", fhText("SyncKey", ""))
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<FolderSync xmlns="FolderHierarchy">
  <SyncKey/>
</FolderSync>
`, wbtXMLRoundTrip(t, req))

	// An empty root.
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<FolderSync xmlns="FolderHierarchy"/>
`, wbtXMLRoundTrip(t, fhEl("FolderSync")))
}

func TestWriteXMLMultiPage(t *testing.T) {
	as := func(name string) wbxml.Tag { return wbxml.MustTag("AirSync", name) }
	doc := wbxml.NewElement(as("Sync"),
		wbxml.NewElement(as("Collections"),
			wbxml.NewElement(as("Collection"),
				wbxml.NewTextElement(as("SyncKey"), "1"),
				wbxml.NewTextElement(as("CollectionId"), "mail/INBOX"),
				wbxml.NewElement(as("Options"),
					wbxml.NewElement(wbtBodyPref,
						wbxml.NewTextElement(wbtBodyPrefTyp, "2"),
						wbxml.NewTextElement(wbxml.MustTag("AirSyncBase", "TruncationSize"), "5120"),
					),
					wbxml.NewElement(wbxml.MustTag("RightsManagement", "RightsManagementSupport")),
					wbxml.NewTextElement(as("FilterType"), "3"),
				),
				wbxml.NewElement(as("Commands"),
					wbxml.NewElement(as("Change"),
						wbxml.NewTextElement(as("ServerId"), "42"),
						wbxml.NewElement(as("ApplicationData"),
							wbxml.NewTextElement(wbxml.MustTag("Email", "Read"), "1"),
							wbxml.NewTextElement(wbxml.MustTag("Email2", "ConversationId"), "c"),
						),
					),
				),
			),
		),
	)
	want := `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:email="Email" xmlns:airsyncbase="AirSyncBase" xmlns:email2="Email2" xmlns:rm="RightsManagement">
  <Collections>
    <Collection>
      <SyncKey>1</SyncKey>
      <CollectionId>mail/INBOX</CollectionId>
      <Options>
        <airsyncbase:BodyPreference>
          <airsyncbase:Type>2</airsyncbase:Type>
          <airsyncbase:TruncationSize>5120</airsyncbase:TruncationSize>
        </airsyncbase:BodyPreference>
        <rm:RightsManagementSupport/>
        <FilterType>3</FilterType>
      </Options>
      <Commands>
        <Change>
          <ServerId>42</ServerId>
          <ApplicationData>
            <email:Read>1</email:Read>
            <email2:ConversationId>c</email2:ConversationId>
          </ApplicationData>
        </Change>
      </Commands>
    </Collection>
  </Collections>
</Sync>
`
	assert.Equal(t, want, wbtXMLRoundTrip(t, doc))

	// The root's page is the default namespace even when it is not page 0.
	ping := wbxml.NewElement(wbxml.MustTag("Ping", "Ping"),
		wbxml.NewElement(wbxml.MustTag("Ping", "Folders"),
			wbxml.NewElement(wbxml.MustTag("Ping", "Folder"),
				wbxml.NewTextElement(wbxml.MustTag("Ping", "Id"), "1"),
				wbxml.NewTextElement(wbxml.MustTag("Ping", "Class"), "Email"),
			)),
		wbxml.NewTextElement(as("SyncKey"), "0"),
	)
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<Ping xmlns="Ping" xmlns:airsync="AirSync">
  <Folders>
    <Folder>
      <Id>1</Id>
      <Class>Email</Class>
    </Folder>
  </Folders>
  <airsync:SyncKey>0</airsync:SyncKey>
</Ping>
`, wbtXMLRoundTrip(t, ping))
}

func TestWriteXMLBridgeMarkers(t *testing.T) {
	doc := wbxml.NewElement(wbtSync,
		wbxml.NewOpaqueElement(wbtClientID, []byte{0x00, 0x01, 0x02, 0xFF}),
		wbxml.NewOpaqueElement(wbtClientID, []byte{}),
		wbxml.NewTextElement(wbxml.MustTag("Email", "Subject"), "bell\x07 <&>"),
		wbxml.NewTextElement(wbxml.MustTag("Email", "To"), "nul-free \x1b[0m esc"),
		wbxml.NewTextElement(wbxml.MustTag("Email", "From"), "non-char \uFFFE"),
		wbxml.NewTextElement(wbtSyncKey, "tab\tnl\ncr\r ok"),
	)
	want := `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:email="Email" xmlns:wbxml="urn:easkit:wbxml">
  <ClientId wbxml:opaque="base64">AAEC/w==</ClientId>
  <ClientId wbxml:opaque="base64"></ClientId>
  <email:Subject wbxml:string="base64">YmVsbAcgPCY+</email:Subject>
  <email:To wbxml:string="base64">bnVsLWZyZWUgG1swbSBlc2M=</email:To>
  <email:From wbxml:string="base64">bm9uLWNoYXIg77++</email:From>
  <SyncKey>tab&#x9;nl&#xA;cr&#xD; ok</SyncKey>
</Sync>
`
	assert.Equal(t, want, wbtXMLRoundTrip(t, doc))

	// Opaque at the root.
	x := wbtXMLRoundTrip(t, wbxml.NewOpaqueElement(wbtClientID, []byte("hello")))
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<ClientId xmlns="AirSync" xmlns:wbxml="urn:easkit:wbxml" wbxml:opaque="base64">aGVsbG8=</ClientId>
`, x)
}

func TestWriteXMLMixedContent(t *testing.T) {
	// Not ActiveSync, but WBXML allows it: text beside elements, whitespace-only
	// runs, several data runs in a row. All of it must come back exactly.
	doc := wbxml.NewElement(wbtSync,
		wbtTextNode("  lead "),
		wbxml.NewTextElement(wbtSyncKey, " "),
		wbtTextNode(" \n\t"),
		wbxml.NewElement(wbtCollection,
			wbxml.NewElement(wbtWindowSize), // an element-only child inside mixed content
			wbxml.NewTextElement(wbtSyncKey, "k"),
		),
		wbtOpaqueNode([]byte("x")),
		wbtTextNode("\r\n"),
		wbxml.NewElement(wbtCollection),
		wbtTextNode("bell\x07"),
		wbtTextNode("tail"), // two text nodes in a row only arise from trees built by hand
	)
	x := wbtWriteXML(t, doc)
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:wbxml="urn:easkit:wbxml">  lead <SyncKey> </SyncKey><wbxml:data> &#xA;&#x9;</wbxml:data><Collection><WindowSize/><SyncKey>k</SyncKey></Collection><wbxml:data wbxml:opaque="base64">eA==</wbxml:data><wbxml:data>&#xD;&#xA;</wbxml:data><Collection/><wbxml:data wbxml:string="base64">YmVsbAc=</wbxml:data>tail</Sync>
`, x)
	back, err := wbxml.ReadXML(strings.NewReader(x))
	require.NoError(t, err)
	assert.Equal(t, wbtDump(doc), wbtDump(back))

	// Only data runs, no elements: written compact as well.
	leaf := wbxml.NewElement(wbtSync, wbtTextNode("a"), wbtOpaqueNode([]byte{1}), wbtTextNode(" "))
	x = wbtXMLRoundTrip(t, leaf)
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:wbxml="urn:easkit:wbxml">a<wbxml:data wbxml:opaque="base64">AQ==</wbxml:data><wbxml:data> </wbxml:data></Sync>
`, x)

	// Whitespace-only text beside an element is the only thing needing the bridge
	// namespace: it must still be declared.
	x = wbtXMLRoundTrip(t, wbxml.NewElement(wbtSync, wbtTextNode(" "), wbxml.NewElement(wbtSyncKey)))
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<Sync xmlns="AirSync" xmlns:wbxml="urn:easkit:wbxml"><wbxml:data> </wbxml:data><SyncKey/></Sync>
`, x)
	x = wbtXMLRoundTrip(t, wbxml.NewElement(wbtSync, wbxml.NewElement(wbtCollection, wbxml.NewElement(wbtSyncKey), wbtTextNode("\n"))))
	assert.Contains(t, x, `xmlns:wbxml="urn:easkit:wbxml"`)
	// Without any such run, no bridge declaration.
	x = wbtXMLRoundTrip(t, wbxml.NewElement(wbtSync, wbtTextNode("a"), wbxml.NewElement(wbtSyncKey)))
	assert.NotContains(t, x, "xmlns:wbxml")

	// A leaf whose only text is whitespace keeps it.
	wbtXMLRoundTrip(t, wbxml.NewElement(wbtSync, wbxml.NewTextElement(wbtSyncKey, " \t\r\n ")))
}

func TestWriteXMLUnknownTags(t *testing.T) {
	doc := wbxml.NewElement(wbxml.Tag{Page: 7, Token: 0x0B},
		wbxml.NewTextElement(wbxml.Tag{Page: 200, Token: 0x3F}, "x"),
		wbxml.NewTextElement(fh("Count"), "1"),
	)
	x := wbtWriteXML(t, doc)
	assert.Equal(t, `<?xml version="1.0" encoding="utf-8"?>
<wbxml:raw-7-0B xmlns:folderhierarchy="FolderHierarchy" xmlns:wbxml="urn:easkit:wbxml">
  <wbxml:raw-200-3F>x</wbxml:raw-200-3F>
  <folderhierarchy:Count>1</folderhierarchy:Count>
</wbxml:raw-7-0B>
`, x)
	back, err := wbxml.ReadXML(strings.NewReader(x))
	require.NoError(t, err)
	assert.Equal(t, wbtDump(doc), wbtDump(back))
}

func TestWriteXMLErrors(t *testing.T) {
	var b bytes.Buffer
	err := wbxml.WriteXML(&b, nil)
	requireEncodeError(t, err, wbxml.ErrStructure)
	err = wbxml.WriteXML(&b, wbtTextNode("x"))
	requireEncodeError(t, err, wbxml.ErrStructure)
	assert.Empty(t, b.String())
}

func TestXMLRoundTripFolderSyncShapes(t *testing.T) {
	names := []string{}
	shapes := testutil.FolderSyncShapes()
	for name := range shapes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			x := wbtXMLRoundTrip(t, shapes[name])
			assert.True(t, strings.HasPrefix(x, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<FolderSync xmlns="FolderHierarchy">`), x)
		})
	}
}

func TestReadXMLLibwbxmlStyle(t *testing.T) {
	in := `<?xml version="1.0"?>
<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
<FolderSync xmlns="FolderHierarchy:">
  <SyncKey>0</SyncKey>
</FolderSync>
`
	n, err := wbxml.ReadXML(strings.NewReader(in))
	require.NoError(t, err)
	out, err := wbxml.Marshal(n)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01}, out)

	// Nested default-namespace switches, as libwbxml's wbxml2xml writes them.
	in = `<?xml version="1.0"?>
<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
<Sync xmlns="AirSync:">
  <Collections>
    <Collection>
      <SyncKey>1</SyncKey>
      <Options>
        <BodyPreference xmlns="AirSyncBase:">
          <Type>2</Type>
        </BodyPreference>
        <FilterType>3</FilterType>
      </Options>
    </Collection>
  </Collections>
</Sync>
`
	n, err = wbxml.ReadXML(strings.NewReader(in))
	require.NoError(t, err)
	as := func(name string) wbxml.Tag { return wbxml.MustTag("AirSync", name) }
	want := wbxml.NewElement(as("Sync"), wbxml.NewElement(as("Collections"), wbxml.NewElement(as("Collection"),
		wbxml.NewTextElement(as("SyncKey"), "1"),
		wbxml.NewElement(as("Options"),
			wbxml.NewElement(wbtBodyPref, wbxml.NewTextElement(wbtBodyPrefTyp, "2")),
			wbxml.NewTextElement(as("FilterType"), "3"),
		))))
	assert.Equal(t, wbtDump(want), wbtDump(n))
	out, err = wbxml.Marshal(n)
	require.NoError(t, err)
	wantBytes, err := wbxml.Marshal(want)
	require.NoError(t, err)
	assert.Equal(t, wantBytes, out)
}

// TestReadXMLLibwbxmlCaptures reads every libwbxml XML rendering among the captures
// and checks it encodes to the captured WBXML, byte for byte.
func TestReadXMLLibwbxmlCaptures(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t), "captures")
	xmls, err := filepath.Glob(filepath.Join(dir, "*", "*.xml"))
	require.NoError(t, err)
	pairs := 0
	for _, xf := range xmls {
		wf := strings.TrimSuffix(xf, ".xml") + ".wbxml"
		wb, err := os.ReadFile(wf)
		if err != nil || !bytes.HasPrefix(wb, []byte{0x03, 0x01, 0x6A, 0x00}) {
			continue // no WBXML beside it, or not canonical (string tables)
		}
		rel, _ := filepath.Rel(dir, xf)
		t.Run(rel, func(t *testing.T) {
			xb, err := os.ReadFile(xf)
			require.NoError(t, err)
			n, err := wbxml.ReadXML(bytes.NewReader(xb))
			require.NoError(t, err)
			out, err := wbxml.Marshal(n)
			require.NoError(t, err)
			assert.Equal(t, wb, out)
			pairs++
		})
	}
	assert.Greater(t, pairs, 20)
}

func TestReadXMLForms(t *testing.T) {
	fsync := func(children ...*wbxml.Node) *wbxml.Node { return fhEl("FolderSync", children...) }
	cases := []struct {
		name string
		in   string
		want *wbxml.Node
	}{
		{"arbitrary prefix", `<fh:FolderSync xmlns:fh="FolderHierarchy"><fh:SyncKey>0</fh:SyncKey></fh:FolderSync>`,
			fsync(fhText("SyncKey", "0"))},
		{"prefix with trailing colon namespace", `<x:FolderSync xmlns:x="FolderHierarchy:"><x:SyncKey>0</x:SyncKey></x:FolderSync>`,
			fsync(fhText("SyncKey", "0"))},
		{"prefix and default mixed", `<FolderSync xmlns="FolderHierarchy" xmlns:a="AirSync"><a:SyncKey>1</a:SyncKey><SyncKey>2</SyncKey></FolderSync>`,
			fsync(wbxml.NewTextElement(wbtSyncKey, "1"), fhText("SyncKey", "2"))},
		{"bridge under another prefix", `<FolderSync xmlns="FolderHierarchy" xmlns:b="urn:easkit:wbxml"><SyncKey b:opaque="base64">AAE=</SyncKey><Status b:string="base64">Bw==</Status></FolderSync>`,
			fsync(wbxml.NewOpaqueElement(fh("SyncKey"), []byte{0, 1}), fhText("Status", "\x07"))},
		{"base64 with surrounding whitespace", "<FolderSync xmlns=\"FolderHierarchy\" xmlns:wbxml=\"urn:easkit:wbxml\"><SyncKey wbxml:opaque=\"base64\">\n  AAE=\n</SyncKey></FolderSync>",
			fsync(wbxml.NewOpaqueElement(fh("SyncKey"), []byte{0, 1}))},
		{"empty base64 string", `<FolderSync xmlns="FolderHierarchy" xmlns:wbxml="urn:easkit:wbxml"><SyncKey wbxml:string="base64"></SyncKey></FolderSync>`,
			fsync(fhEl("SyncKey"))},
		{"CDATA", `<FolderSync xmlns="FolderHierarchy"><DisplayName><![CDATA[a<b&c]]></DisplayName></FolderSync>`,
			fsync(fhText("DisplayName", "a<b&c"))},
		{"CDATA and text merge", `<FolderSync xmlns="FolderHierarchy"><DisplayName>x<![CDATA[ <y> ]]>z&amp;</DisplayName></FolderSync>`,
			fsync(fhText("DisplayName", "x <y> z&"))},
		{"empty CDATA", `<FolderSync xmlns="FolderHierarchy"><SyncKey><![CDATA[]]></SyncKey></FolderSync>`,
			fsync(fhEl("SyncKey"))},
		{"comments and PIs are ignored", `<?xml version="1.0"?><!-- c --><FolderSync xmlns="FolderHierarchy"><?pi x?><SyncKey>a<!-- x -->b</SyncKey><!-- y --></FolderSync><!-- z -->`,
			fsync(fhText("SyncKey", "ab"))},
		{"character references", `<FolderSync xmlns="FolderHierarchy"><DisplayName>&#233;&#x1F4C1;&lt;&#9;</DisplayName></FolderSync>`,
			fsync(fhText("DisplayName", "é📁<\t"))},
		{"layout whitespace dropped, leaf whitespace kept", "<FolderSync xmlns=\"FolderHierarchy\">\n\t<SyncKey>  </SyncKey>\r\n  <Status>\n1\n</Status>\n</FolderSync>\n\n",
			fsync(fhText("SyncKey", "  "), fhText("Status", "\n1\n"))},
		{"raw CR LF in text is normalised by XML", "<FolderSync xmlns=\"FolderHierarchy\"><DisplayName>a\r\nb</DisplayName></FolderSync>",
			fsync(fhText("DisplayName", "a\nb"))},
		{"self-closing and empty", `<FolderSync xmlns="FolderHierarchy"><SyncKey/><Status></Status></FolderSync>`,
			fsync(fhEl("SyncKey"), fhEl("Status"))},
		{"raw tag", `<wbxml:raw-7-0B xmlns:wbxml="urn:easkit:wbxml"/>`, wbxml.NewElement(wbxml.Tag{Page: 7, Token: 0x0B})},
		{"raw tag of a known tag", `<wbxml:raw-7-16 xmlns:wbxml="urn:easkit:wbxml"/>`, fsync()},
		{"bridge data in mixed content", `<FolderSync xmlns="FolderHierarchy" xmlns:wbxml="urn:easkit:wbxml">a<wbxml:data> </wbxml:data><SyncKey/></FolderSync>`,
			fsync(wbtTextNode("a"), wbtTextNode(" "), fhEl("SyncKey"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := wbxml.ReadXML(strings.NewReader(tc.in))
			require.NoError(t, err)
			assert.Equal(t, wbtDump(tc.want), wbtDump(n))
		})
	}
}

func TestReadXMLErrors(t *testing.T) {
	const fsOpen = `<FolderSync xmlns="FolderHierarchy">`
	const bridge = `<FolderSync xmlns="FolderHierarchy" xmlns:wbxml="urn:easkit:wbxml">`
	cases := []struct {
		name string
		in   string
		// The error is reported on line `line`, at an offset inside the text `near`
		// (from its first byte to just after its last): the construct at fault.
		line int
		near string
		msg  string
	}{
		{"empty input", ``, 1, ``, "no root element"},
		{"prolog only", "<?xml version=\"1.0\"?>\n<!-- nothing -->\n", 3, ``, "no root element"},
		{"no namespace", "<?xml version=\"1.0\"?>\n<FolderSync><SyncKey/></FolderSync>", 2, `<FolderSync>`, "has no namespace"},
		{"child without namespace", "<fh:FolderSync xmlns:fh=\"FolderHierarchy\">\n  <SyncKey/>\n</fh:FolderSync>", 2, `<SyncKey/>`, "has no namespace"},
		{"unknown namespace", `<Foo xmlns="Bogus"/>`, 1, `<Foo xmlns="Bogus"/>`, `namespace "Bogus" is not an ActiveSync code page`},
		{"AirNotify has no elements", `<Notify xmlns="AirNotify"/>`, 1, `<Notify xmlns="AirNotify"/>`, "is not defined in namespace AirNotify"},
		{"unknown element", "<?xml version=\"1.0\"?>\n" + fsOpen + "\n  <Bogus/>\n</FolderSync>", 3, `<Bogus/>`, "element <Bogus> is not defined in namespace FolderHierarchy"},
		{"element of another page", fsOpen + `<Sync/></FolderSync>`, 1, `<Sync/>`, "element <Sync> is not defined in namespace FolderHierarchy"},
		{"stray attribute", "<FolderSync xmlns=\"FolderHierarchy\"\n  id=\"1\"/>", 1, "<FolderSync xmlns=\"FolderHierarchy\"\n  id=\"1\"/>", `attribute id="1" on <FolderSync>`},
		{"stray attribute on a child", fsOpen + `<SyncKey type="x">0</SyncKey></FolderSync>`, 1, `<SyncKey type="x">`, `attribute type="x"`},
		{"xml:lang attribute", fsOpen + `<SyncKey xml:lang="en">0</SyncKey></FolderSync>`, 1, `<SyncKey xml:lang="en">`, `attribute lang="en"`},
		{"unknown bridge encoding", bridge + `<SyncKey wbxml:opaque="hex">00</SyncKey></FolderSync>`, 1, `<SyncKey wbxml:opaque="hex">`, `attribute opaque="hex"`},
		{"unknown bridge attribute", bridge + `<SyncKey wbxml:foo="base64">00</SyncKey></FolderSync>`, 1, `<SyncKey wbxml:foo="base64">`, `attribute foo="base64"`},
		{"bad base64 opaque", bridge + "\n<SyncKey wbxml:opaque=\"base64\">!!!</SyncKey></FolderSync>", 2, `!!!</SyncKey>`, "is marked base64 but its content is not base64"},
		{"bad base64 string", bridge + `<SyncKey wbxml:string="base64">AAE</SyncKey></FolderSync>`, 1, `AAE</SyncKey>`, "is marked base64 but its content is not base64"},
		{"bad base64 in bridge data", bridge + `a<wbxml:data wbxml:opaque="base64">*</wbxml:data><SyncKey/></FolderSync>`, 1, `*</wbxml:data>`, "bridge data is not base64"},
		{"base64 marker on an element with children", bridge + `<Changes wbxml:opaque="base64"><Count>1</Count></Changes></FolderSync>`, 1, `</Changes>`, "has child elements"},
		{"bridge data as root", `<wbxml:data xmlns:wbxml="urn:easkit:wbxml">x</wbxml:data>`, 1, `<wbxml:data xmlns:wbxml="urn:easkit:wbxml">`, "cannot be the root"},
		{"element inside bridge data", bridge + `<wbxml:data><SyncKey/></wbxml:data></FolderSync>`, 1, `<SyncKey/>`, "holds text only"},
		{"bad raw name", `<wbxml:raw-7 xmlns:wbxml="urn:easkit:wbxml"/>`, 1, `<wbxml:raw-7 xmlns:wbxml="urn:easkit:wbxml"/>`, "unknown bridge element"},
		{"raw token out of range", `<wbxml:raw-7-04 xmlns:wbxml="urn:easkit:wbxml"/>`, 1, `<wbxml:raw-7-04 xmlns:wbxml="urn:easkit:wbxml"/>`, "unknown bridge element"},
		{"raw page out of range", `<wbxml:raw-256-05 xmlns:wbxml="urn:easkit:wbxml"/>`, 1, `<wbxml:raw-256-05 xmlns:wbxml="urn:easkit:wbxml"/>`, "unknown bridge element"},
		{"mismatched end tag", fsOpen + "\n<SyncKey>0</FolderSync>", 2, `</FolderSync>`, "XML syntax error: element <SyncKey> closed by </FolderSync>"},
		{"unclosed root", fsOpen + "\n<SyncKey>0</SyncKey>\n", 3, fsOpen + "\n<SyncKey>0</SyncKey>\n", "XML syntax error: unexpected EOF"},
		{"undefined entity", fsOpen + `<SyncKey>&nbsp;</SyncKey></FolderSync>`, 1, `<SyncKey>&nbsp;`, "XML syntax error"},
		{"undeclared prefix", `<x:FolderSync/>`, 1, `<x:FolderSync/>`, `namespace "x" is not an ActiveSync code page`},
		{"text before the root", "junk\n" + fsOpen + `</FolderSync>`, 1, "junk\n", "text outside the root element"},
		{"text after the root", fsOpen + "</FolderSync>\n junk", 1, "\n junk", "text outside the root element"},
		{"second root", fsOpen + "</FolderSync>\n" + fsOpen + "</FolderSync>", 2, fsOpen, "second root element <FolderSync>"},
		{"second root of another page", `<Sync xmlns="AirSync"/><Ping xmlns="Ping"/>`, 1, `<Ping xmlns="Ping"/>`, "second root element <Ping>"},
		{"invalid UTF-8", fsOpen + "<SyncKey>\xff</SyncKey></FolderSync>", 1, "<SyncKey>\xff</SyncKey>", "XML syntax error"},
		{"NUL character reference", fsOpen + "<SyncKey>&#0;</SyncKey></FolderSync>", 1, "<SyncKey>&#0;", "XML syntax error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := wbxml.ReadXML(strings.NewReader(tc.in))
			assert.Nil(t, n)
			require.Error(t, err)
			var xe *wbxml.XMLError
			require.True(t, errors.As(err, &xe), "want *wbxml.XMLError, got %T: %v", err, err)
			assert.Contains(t, xe.Msg, tc.msg)
			assert.Equal(t, tc.line, xe.Line, "line of %v", xe)
			assert.GreaterOrEqual(t, xe.Column, 1)
			start := int64(strings.LastIndex(tc.in, tc.near))
			require.GreaterOrEqual(t, start, int64(0), "near text is in the input")
			end := start + int64(len(tc.near))
			assert.True(t, xe.Offset >= start && xe.Offset <= end,
				"offset %d outside %d..%d (%q) for %v", xe.Offset, start, end, tc.near, xe)
			assert.Equal(t, fmt.Sprintf("offset %d (line %d, column %d): %s", xe.Offset, xe.Line, xe.Column, xe.Msg), xe.Error())
		})
	}
}

// TestXMLOffsetsAgree checks that an XMLError's Offset, Line and Column describe the
// same place.
func TestXMLOffsetsAgree(t *testing.T) {
	inputs := []string{
		"<?xml version=\"1.0\"?>\n<FolderSync>\n</FolderSync>",
		"<FolderSync xmlns=\"FolderHierarchy\">\n  <Bogus/>\n</FolderSync>",
		"<FolderSync xmlns=\"FolderHierarchy\">\n<SyncKey>0</FolderSync>",
		"<FolderSync xmlns=\"FolderHierarchy\">\n<SyncKey>0</SyncKey>\n",
		"<FolderSync xmlns=\"FolderHierarchy\"/>\n  junk",
	}
	for _, in := range inputs {
		_, err := wbxml.ReadXML(strings.NewReader(in))
		var xe *wbxml.XMLError
		require.ErrorAs(t, err, &xe)
		before := in[:xe.Offset]
		line := strings.Count(before, "\n") + 1
		col := int(xe.Offset) - strings.LastIndex(before, "\n")
		assert.Equal(t, line, xe.Line, "line of offset %d in %q (%v)", xe.Offset, in, xe)
		assert.Equal(t, col, xe.Column, "column of offset %d in %q (%v)", xe.Offset, in, xe)
	}
}

func TestReadXMLEmptyBridgeDataAndUnicodeSpace(t *testing.T) {
	root, err := wbxml.ReadXML(strings.NewReader(`<Sync xmlns="AirSync" xmlns:wbxml="urn:easkit:wbxml"><wbxml:data/><SyncKey>1</SyncKey></Sync>`))
	require.NoError(t, err)
	require.Len(t, root.Children, 1, "an empty <wbxml:data/> carries nothing")
	assert.Equal(t, wbxml.ElementNode, root.Children[0].Kind)

	// Only XML white space (space, tab, CR, LF) is layout: U+00A0 outside the root is text.
	_, err = wbxml.ReadXML(strings.NewReader("<Sync xmlns=\"AirSync\"/>\u00a0"))
	var xe *wbxml.XMLError
	require.ErrorAs(t, err, &xe)
	assert.Contains(t, xe.Msg, "text outside the root element")
}

// Review finding: an element inside <wbxml:data> was silently dropped.
func TestReadXMLNestedBridgeDataIsAnError(t *testing.T) {
	_, err := wbxml.ReadXML(strings.NewReader(`<FolderSync xmlns="FolderHierarchy" xmlns:wbxml="urn:easkit:wbxml"><DisplayName><wbxml:data>a<wbxml:data>b</wbxml:data>c</wbxml:data></DisplayName></FolderSync>`))
	var xe *wbxml.XMLError
	require.ErrorAs(t, err, &xe)
	assert.Contains(t, xe.Msg, "holds text only")
}
