package wbxml_test

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/easkit/foldersync/wbxml"
)

// A FolderSync request for the initial hierarchy, as every client sends first.
var initialRequest = []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01}

func ExampleDecoder() {
	d := wbxml.NewDecoderBytes(initialRequest)
	for {
		tok, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		switch tok.Kind {
		case wbxml.StartElement:
			fmt.Printf("%d: start %s\n", tok.Offset, tok.Tag)
		case wbxml.EndElement:
			fmt.Printf("%d: end %s\n", tok.Offset, tok.Tag)
		case wbxml.Text:
			fmt.Printf("%d: text %q\n", tok.Offset, tok.Data)
		}
	}
	// Output:
	// 6: start FolderHierarchy:FolderSync
	// 7: start FolderHierarchy:SyncKey
	// 8: text "0"
	// 11: end FolderHierarchy:SyncKey
	// 12: end FolderHierarchy:FolderSync
}

func ExampleMarshal() {
	req := wbxml.NewElement(wbxml.MustTag("FolderHierarchy", "FolderSync"),
		wbxml.NewTextElement(wbxml.MustTag("FolderHierarchy", "SyncKey"), "0"))
	b, err := wbxml.Marshal(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% X\n", b)
	// Output:
	// 03 01 6A 00 00 07 56 52 03 30 00 01 01
}

func ExampleWriteXML() {
	doc, err := wbxml.Unmarshal(initialRequest)
	if err != nil {
		fmt.Println(err)
		return
	}
	wbxml.WriteXML(os.Stdout, doc.Root)
	// Output:
	// <?xml version="1.0" encoding="utf-8"?>
	// <FolderSync xmlns="FolderHierarchy">
	//   <SyncKey>0</SyncKey>
	// </FolderSync>
}

func ExampleSyntaxError() {
	_, err := wbxml.Unmarshal(initialRequest[:9]) // cut inside the SyncKey string
	var se *wbxml.SyntaxError
	if errors.As(err, &se) {
		fmt.Println(se.Offset, errors.Is(err, wbxml.ErrTruncated))
		fmt.Println(err)
	}
	// Output:
	// 9 true
	// offset 9: input ends inside an inline string that starts at offset 9 (no NUL terminator)
}
