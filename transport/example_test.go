package transport_test

import (
	"errors"
	"fmt"

	"github.com/easkit/foldersync/transport"
)

func ExampleUnmarshalFolderSyncResponse() {
	// Horde's answer after a folder was deleted on the server.
	body := []byte{0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x4C, 0x03, '1', 0x00, 0x01,
		0x52, 0x03, '2', 0x00, 0x01, 0x4E, 0x57, 0x03, '1', 0x00, 0x01,
		0x50, 0x48, 0x03, 'F', '5', '7', 0x00, 0x01, 0x01, 0x01, 0x01}
	resp, err := transport.UnmarshalFolderSyncResponse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.SyncKey, resp.Changes[0].Op, resp.Changes[0].ServerID)

	// The same body cut short is a typed error with the byte offset.
	_, err = transport.UnmarshalFolderSyncResponse(body[:20])
	fmt.Println(err)

	// A well-formed body that breaks the FolderSync schema names the field.
	body[9] = 'x'
	_, err = transport.UnmarshalFolderSyncResponse(body)
	var fe *transport.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field, fe.Offset)
	}
	// Output:
	// 1 2 Delete F57
	// offset 20: input ends inside an inline string that starts at offset 20 (no NUL terminator)
	// FolderSync/Status 7
}

func ExampleFolderSyncRequest_MarshalWBXML() {
	b, _ := (&transport.FolderSyncRequest{SyncKey: transport.InitialSyncKey}).MarshalWBXML()
	fmt.Printf("% X\n", b)
	// Output:
	// 03 01 6A 00 00 07 56 52 03 30 00 01 01
}
