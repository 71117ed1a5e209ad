package wbxml

//go:generate go run ./internal/codepagegen/cmd/codepagegen -in codepages.tsv -out codepages_gen.go

import (
	"fmt"
	"strings"
)

// NumPages is the number of ActiveSync code pages (MS-ASWBXML v24.0 defines pages 0-25).
const NumPages = 26

// Tag identifies an element: a code page and the 6-bit tag identity on that page
// (0x05-0x3F; WBXML 1.3 section 5.8.2 reserves 0x00-0x04 for global tokens).
// The content and attribute flag bits are not part of a Tag.
type Tag struct {
	Page  uint8
	Token uint8
}

// Version is an ActiveSync protocol version that MS-ASWBXML lists per token.
type Version uint8

// The protocol versions, in the order of the code-page table's columns.
const (
	V2_5 Version = iota
	V12_0
	V12_1
	V14_0
	V14_1
	V16_0
	V16_1
)

var versionNames = [...]string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}

// String returns the version as it appears in MS-ASProtocolVersion ("14.1").
func (v Version) String() string {
	if int(v) < len(versionNames) {
		return versionNames[v]
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// ParseVersion parses "2.5", "12.0", ... "16.1".
func ParseVersion(s string) (Version, error) {
	for i, n := range versionNames {
		if n == s {
			return Version(i), nil
		}
	}
	return 0, fmt.Errorf("wbxml: unknown ActiveSync protocol version %q (want one of %s)", s, strings.Join(versionNames[:], ", "))
}

// Versions is a set of protocol versions.
type Versions uint8

// AllVersions is every protocol version MS-ASWBXML knows.
const AllVersions Versions = 1<<len(versionNames) - 1

// Has reports whether v is in the set.
func (s Versions) Has(v Version) bool { return s&(1<<v) != 0 }

// String lists the versions, or "All".
func (s Versions) String() string {
	if s == AllVersions {
		return "All"
	}
	var parts []string
	for i, n := range versionNames {
		if s&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ", ")
}

type tagEntry struct {
	name     string
	versions Versions
}

var byName = func() map[string]Tag {
	m := make(map[string]Tag, 600)
	for p := range tagTable {
		for tok, e := range tagTable[p] {
			if e.name != "" {
				m[pageNamespaces[p]+":"+e.name] = Tag{uint8(p), uint8(tok)}
			}
		}
	}
	return m
}()

// knownTags has bit t of knownTags[p] set when page p defines token t. Indexed by a
// uint8 page, so the decoder's hot path needs no bounds check.
var knownTags = func() (k [256]uint64) {
	for p := range tagTable {
		for tok, e := range tagTable[p] {
			if e.name != "" {
				k[p] |= 1 << tok
			}
		}
	}
	return k
}()

// Known reports whether the tag is defined by MS-ASWBXML.
func (t Tag) Known() bool { return t.Token < 64 && knownTags[t.Page]&(1<<t.Token) != 0 }

// Name is the element name ("FolderSync"), or "" for an unknown tag.
func (t Tag) Name() string {
	if !t.Known() {
		return ""
	}
	return tagTable[t.Page][t.Token].name
}

// Namespace is the code page's namespace ("FolderHierarchy"), or "" for an unknown page.
func (t Tag) Namespace() string { return PageNamespace(t.Page) }

// Versions is the set of protocol versions that define the tag.
func (t Tag) Versions() Versions {
	if !t.Known() {
		return 0
	}
	return tagTable[t.Page][t.Token].versions
}

// String is "Namespace:Name" for a known tag and "page N token 0xTT" otherwise.
func (t Tag) String() string {
	if t.Known() {
		return pageNamespaces[t.Page] + ":" + tagTable[t.Page][t.Token].name
	}
	return fmt.Sprintf("page %d token 0x%02X", t.Page, t.Token)
}

// PageNamespace returns the namespace of a code page, or "" when there is no such page.
func PageNamespace(page uint8) string {
	if int(page) >= NumPages {
		return ""
	}
	return pageNamespaces[page]
}

// PageOf returns the code page of a namespace. Both spellings are accepted: MS-ASCMD's
// examples write "FolderHierarchy", WBXML tools such as libwbxml write "FolderHierarchy:".
func PageOf(namespace string) (uint8, bool) {
	ns := strings.TrimSuffix(namespace, ":")
	for p, n := range pageNamespaces {
		if n == ns {
			return uint8(p), true
		}
	}
	return 0, false
}

// LookupTag finds the tag named name in namespace (either spelling, see PageOf).
func LookupTag(namespace, name string) (Tag, bool) {
	ns := strings.TrimSuffix(namespace, ":")
	t, ok := byName[ns+":"+name]
	return t, ok
}

// MustTag is LookupTag for names known at compile time; it panics on a misspelling,
// which a test then catches.
func MustTag(namespace, name string) Tag {
	t, ok := LookupTag(namespace, name)
	if !ok {
		panic("wbxml: no tag " + namespace + ":" + name)
	}
	return t
}
