package main

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/easkit/foldersync/transport"
	"github.com/easkit/foldersync/wbxml"
)

// captures replays real FolderSync exchanges captured from SOGo 5.8 and Horde
// ActiveSync 2.41 (see democaptures/SOURCE.md), embedded so it runs anywhere.
//
//go:embed democaptures/*.wbxml
var demoCaptures embed.FS

type demoStep struct {
	name, server, title, lesson string
}

var demoSteps = []demoStep{
	{"sogo-initial", "SOGo 5.8", "Initial FolderSync: SyncKey 0 asks for the whole hierarchy",
		"The client commits the new SyncKey and all Adds together, or neither (DESIGN.md rule 1)."},
	{"sogo-nochange", "SOGo 5.8", "Incremental FolderSync with the current key",
		"Count 0: nothing changed; the key stays the same."},
	{"horde-bogus-known-device", "Horde ActiveSync 2.41", "A SyncKey the server never issued",
		"Status 9 (MS-ASCMD 2.2.3.177.5): the client must return to SyncKey 0 and reconcile by\n" +
			"mark-and-sweep, never wiping folders first (DESIGN.md rule 5)."},
	{"sogo-bogus-known-device", "SOGo 5.8", "The same bogus key sent to SOGo",
		"SOGo never compares keys: it answers Status 1, echoes the bogus key and reports no changes.\n" +
			"A client cannot detect the mismatch from the status, which is why a resend that answers\n" +
			"\"no changes\" after a lost response is verified with a full SyncKey-0 FolderSync (rule 3)."},
}

func runCaptures(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "foldersync captures: takes no arguments (got %q)\n", args)
		return 2
	}
	var out bytes.Buffer
	fmt.Fprintln(&out, "foldersync captures: real FolderSync exchanges with SOGo and Horde, decoded by foldersync's WBXML codec")
	for i, step := range demoSteps {
		if err := demoExchange(&out, i+1, step); err != nil {
			fmt.Fprintf(stderr, "foldersync captures: %s: %v\n", step.name, err)
			return 1
		}
	}
	stdout.Write(out.Bytes())
	return 0
}

func demoExchange(out io.Writer, n int, step demoStep) error {
	reqBody, err := demoCaptures.ReadFile("democaptures/" + step.name + ".req.wbxml")
	if err != nil {
		return err
	}
	respBody, err := demoCaptures.ReadFile("democaptures/" + step.name + ".resp.wbxml")
	if err != nil {
		return err
	}
	req, err := transport.UnmarshalFolderSyncRequest(reqBody)
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	resp, err := transport.UnmarshalFolderSyncResponse(respBody)
	if err != nil {
		return fmt.Errorf("response: %w", err)
	}
	fmt.Fprintf(out, "\n%d. %s (%s)\n", n, step.title, step.server)
	fmt.Fprintf(out, "   client -> server: %d bytes of WBXML, SyncKey %q\n", len(reqBody), req.SyncKey)
	if err := indentXML(out, reqBody, "      "); err != nil {
		return err
	}
	fmt.Fprintf(out, "   server -> client: %d bytes of WBXML: Status %d (%s)", len(respBody), resp.Status, statusMeaning(resp.Status))
	if resp.Present.SyncKey {
		fmt.Fprintf(out, ", new SyncKey %q", resp.SyncKey)
	}
	fmt.Fprintf(out, ", %d changes\n", len(resp.Changes))
	if len(resp.Changes) > 0 {
		fmt.Fprintln(out, "   folder tree after applying the changes:")
		printTree(out, resp.Changes, "      ")
	} else if err := indentXML(out, respBody, "      "); err != nil {
		return err
	}
	fmt.Fprintf(out, "   => %s\n", strings.ReplaceAll(step.lesson, "\n", "\n      "))
	return nil
}

// statusMeaning names the FolderSync statuses of MS-ASCMD 2.2.3.177.5.
func statusMeaning(s int) string {
	switch s {
	case 1:
		return "success"
	case 6:
		return "server error, retry"
	case 9:
		return "synchronization key mismatch or invalid"
	case 10:
		return "incorrectly formatted request"
	case 11:
		return "unknown error, retry"
	case 12:
		return "code unknown"
	}
	return "see MS-ASCMD 2.2.2"
}

func indentXML(out io.Writer, body []byte, indent string) error {
	doc, err := wbxml.Unmarshal(body)
	if err != nil {
		return err
	}
	var x bytes.Buffer
	if err := wbxml.WriteXML(&x, doc.Root); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(x.String(), "\n"), "\n") {
		if strings.HasPrefix(line, "<?xml") {
			continue
		}
		fmt.Fprintln(out, indent+line)
	}
	return nil
}

// printTree prints the folders an initial FolderSync adds as an indented tree.
func printTree(out io.Writer, changes []transport.FolderChange, indent string) {
	children := map[string][]transport.FolderChange{}
	for _, c := range changes {
		if c.Op != transport.OpDelete {
			children[c.ParentID] = append(children[c.ParentID], c)
		}
	}
	var walk func(parent, prefix string)
	walk = func(parent, prefix string) {
		kids := children[parent]
		sort.SliceStable(kids, func(i, j int) bool { return kids[i].DisplayName < kids[j].DisplayName })
		for _, c := range kids {
			fmt.Fprintf(out, "%s%s%s  [%s, ServerId %s]\n", indent, prefix, c.DisplayName, c.Type, c.ServerID)
			walk(c.ServerID, prefix+"  ")
		}
	}
	walk("0", "")
}
