package transport_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

// benchDoc returns the encoded initial FolderSync of n folders (about 100 bytes each).
func benchDoc(b *testing.B, n int) []byte { return testutil.FolderSyncBody(b, n, 42, false) }

// BenchmarkDecodeFolderSync decodes a FolderSync response into the typed struct;
// allocs/folder is reported so the per-folder cost can be compared across sizes.
func BenchmarkDecodeFolderSync(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("folders=%d", n), func(b *testing.B) {
			doc := benchDoc(b, n)
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := transport.UnmarshalFolderSyncResponse(doc)
				if err != nil || len(resp.Changes) != n {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/folder")
		})
	}
}

// BenchmarkTokenScan walks every token of the same document without building
// anything: the floor under any decoder.
func BenchmarkTokenScan(b *testing.B) {
	doc := benchDoc(b, 10000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := wbxml.NewDecoderBytes(doc)
		for {
			_, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncodeFolderSync encodes the typed 10,000-folder response.
func BenchmarkEncodeFolderSync(b *testing.B) {
	doc := benchDoc(b, 10000)
	resp, err := transport.UnmarshalFolderSyncResponse(doc)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := resp.MarshalWBXML(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendFolderSync encodes the same response into a reused buffer, as a
// server answering many clients does: the encoder's own cost without the output's
// allocation and zeroing.
func BenchmarkAppendFolderSync(b *testing.B) {
	doc := benchDoc(b, 10000)
	resp, err := transport.UnmarshalFolderSyncResponse(doc)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, len(doc))
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if buf, err = resp.AppendWBXML(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
