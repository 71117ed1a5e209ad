//go:build libwbxml && cgo

package libwbxml

import (
	"fmt"
	"io"
	"testing"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

func doc(b *testing.B, n int) []byte { return testutil.FolderSyncBody(b, n, 42, false) }

// BenchmarkLibwbxmlToXML: libwbxml2 0.11.8 parsing FolderSync responses of 100 to
// 10,000 folders and writing compact XML. Its cost per byte grows with the size.
func BenchmarkLibwbxmlToXML(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("folders=%d", n), func(b *testing.B) {
			body := doc(b, n)
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := WBXMLToXML(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFoldersyncToXML: the same conversion with foldersync (tree + XML bridge).
func BenchmarkFoldersyncToXML(b *testing.B) {
	body := doc(b, 10000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := wbxml.Unmarshal(body)
		if err != nil {
			b.Fatal(err)
		}
		if err := wbxml.WriteXML(io.Discard, d.Root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFoldersyncTyped: foldersync decoding the same body into typed structs.
func BenchmarkFoldersyncTyped(b *testing.B) {
	body := doc(b, 10000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := transport.UnmarshalFolderSyncResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLibwbxmlAgreesOnLength(t *testing.T) {
	body, err := wbxml.Marshal(testutil.FolderSyncTree(50, 1, true))
	if err != nil {
		t.Fatal(err)
	}
	n, err := WBXMLToXML(body)
	if err != nil || n < len(body) {
		t.Fatalf("libwbxml converted %d bytes to %d: %v", len(body), n, err)
	}
}
