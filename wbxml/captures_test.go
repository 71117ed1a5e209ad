package wbxml_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/easkit/foldersync/internal/testutil"
	"github.com/easkit/foldersync/wbxml"
)

// captureExpectations lists every capture that is not a WBXML document on purpose
// (an HTTP body a server sent on an error path, or a client's garbage request) and
// the error kind decoding it must give. Any other file must decode.
var captureExpectations = map[string]error{
	"horde/edge-no-auth.resp.body":        wbxml.ErrTruncated, // 401: empty body
	"horde/edge-no-deviceid.resp.body":    wbxml.ErrTruncated,
	"horde/edge-wrong-password.resp.body": wbxml.ErrTruncated,
	"sogo/edge-no-auth.resp.body":         wbxml.ErrTruncated,
	"sogo/edge-no-deviceid.resp.body":     wbxml.ErrTruncated,
	"sogo/edge-empty-body.resp.body":      wbxml.ErrUnsupportedVersion, // plain-text error page
	"sogo/edge-garbage-body.resp.body":    wbxml.ErrUnsupportedVersion, // an XML error page
	"sogo/edge-wrong-password.resp.body":  wbxml.ErrUnsupportedVersion, // "Unauthorized"
	"horde/edge-garbage.req.bin":          wbxml.ErrUnsupportedVersion, // "this is not wbxml"
	"sogo/edge-garbage.req.bin":           wbxml.ErrUnsupportedVersion,
	"syncgw-stringtable/in01.wbxml":       nil, // SyncML 1.1, decoded with AllowUnknownTags below
	"syncgw-stringtable/out01.xml":        nil,
	"syncgw/INDEX.tsv":                    nil,
	"SOURCES.md":                          nil,
}

// nonEAS are WBXML documents of another vocabulary among the captures: they must
// decode at the token level, and the ActiveSync decoder must reject their tags.
var nonEAS = map[string]bool{"syncgw-stringtable/in01.wbxml": true}

type capture struct {
	rel  string
	data []byte
}

func loadCaptures(t *testing.T) []capture {
	dir := filepath.Join(testutil.SharedDir(t), "captures")
	var out []capture
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		switch {
		case strings.HasSuffix(rel, ".wbxml"), strings.HasSuffix(rel, ".body"), strings.HasSuffix(rel, ".bin"):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, capture{rel, b})
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(out), 300, "the captures folder should hold 300+ bodies")
	return out
}

func TestCapturesDecode(t *testing.T) {
	var decoded, roundTripped, rejected int
	for _, c := range loadCaptures(t) {
		t.Run(c.rel, func(t *testing.T) {
			if want, listed := captureExpectations[c.rel]; listed && want != nil {
				_, err := wbxml.Unmarshal(c.data)
				require.Error(t, err)
				assert.ErrorIs(t, err, want)
				var se *wbxml.SyntaxError
				require.True(t, errors.As(err, &se), "want a *SyntaxError with an offset")
				rejected++
				return
			}
			if nonEAS[c.rel] {
				_, err := wbxml.Unmarshal(c.data)
				assert.ErrorIs(t, err, wbxml.ErrUnknownTag, "a SyncML document has tags ActiveSync does not define")
				d := wbxml.NewDecoderBytes(c.data)
				d.AllowUnknownTags = true
				doc, err := wbxml.ReadDocument(d)
				require.NoError(t, err)
				require.NotNil(t, doc.Root)
				assert.Equal(t, "-//SyncML//DTD SyncML 1.1//EN", doc.Header.PublicIDString)
				decoded++
				return
			}
			doc, err := wbxml.Unmarshal(c.data)
			require.NoError(t, err)
			require.NotNil(t, doc.Root)
			decoded++

			// Re-encoding is canonical: equal bytes when the capture was canonical,
			// and the same tree in any case (string-table documents become STR_I).
			out, err := wbxml.Marshal(doc.Root)
			require.NoError(t, err)
			again, err := wbxml.Unmarshal(out)
			require.NoError(t, err)
			assert.Equal(t, doc.Root, again.Root)
			if isCanonical(c.data) {
				assert.Equal(t, c.data, out, "canonical capture must round-trip byte for byte")

				// And through the XML bridge.
				var x bytes.Buffer
				require.NoError(t, wbxml.WriteXML(&x, doc.Root))
				back, err := wbxml.ReadXML(&x)
				require.NoError(t, err, x.String())
				out2, err := wbxml.Marshal(back)
				require.NoError(t, err)
				assert.Equal(t, c.data, out2, "WBXML -> XML -> WBXML must reproduce the bytes\n%s", x.String())
				roundTripped++
			}
		})
	}
	t.Logf("%d captures decoded, %d canonical ones round-tripped byte-exactly (tree and XML), %d non-WBXML bodies rejected with typed errors", decoded, roundTripped, rejected)
}

// isCanonical reports whether b has the header the Encoder writes and so should
// come back byte for byte: WBXML 1.3, public id 1, UTF-8, no string table.
func isCanonical(b []byte) bool { return bytes.HasPrefix(b, []byte{0x03, 0x01, 0x6A, 0x00}) }
