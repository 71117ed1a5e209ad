// Command decodefoldersync decodes a FolderSync response body (WBXML) and prints what
// a client would apply: the status, the new SyncKey and every change, or a precise
// error saying where the body is wrong.
//
//	go run ./examples/decodefoldersync ../shared/captures/sogo/foldersync-initial.resp.wbxml
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: decodefoldersync RESPONSE.wbxml")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "decodefoldersync:", err)
		os.Exit(1)
	}
}

func run(path string, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	// Streaming: the decoder reads only what it needs, under limits that bound memory.
	d := wbxml.NewDecoder(f)
	d.Limits = wbxml.Limits{MaxDocumentSize: 16 << 20}
	resp, err := transport.DecodeFolderSyncResponse(d)

	var syntax *wbxml.SyntaxError
	var field *transport.FieldError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("not valid WBXML at byte %d: %s", syntax.Offset, syntax.Msg)
	case errors.As(err, &field):
		return fmt.Errorf("not a valid FolderSync response: %s at byte %d: %s", field.Field, field.Offset, field.Msg)
	case err != nil:
		return err
	}

	fmt.Fprintf(out, "Status %d, SyncKey %q, %d changes\n", resp.Status, resp.SyncKey, len(resp.Changes))
	for _, c := range resp.Changes {
		switch c.Op {
		case transport.OpDelete:
			fmt.Fprintf(out, "  %-6s %s\n", c.Op, c.ServerID)
		default:
			fmt.Fprintf(out, "  %-6s %s under %s: %q (%s)\n", c.Op, c.ServerID, c.ParentID, c.DisplayName, c.Type)
		}
	}
	return nil
}
