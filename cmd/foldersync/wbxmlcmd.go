package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/easkit/foldersync/wbxml"
)

const wbxmlUsage = `Usage:
  foldersync wbxml decode [--allow-unknown] [FILE]   WBXML -> XML
  foldersync wbxml encode [FILE]                     XML -> WBXML

FILE defaults to standard input. The XML uses the namespaces of MS-ASCMD's examples
(<FolderSync xmlns="FolderHierarchy">); encode also reads libwbxml's spelling
("FolderHierarchy:"). OPAQUE values appear base64-encoded with wbxml:opaque="base64"
and are encoded back as OPAQUE, so decode then encode reproduces canonical bytes.

Example:
  foldersync wbxml decode body.wbxml > body.xml
  foldersync wbxml encode body.xml > again.wbxml && cmp body.wbxml again.wbxml
`

// runWBXML converts between WBXML and XML. On bad input nothing is written to stdout
// and one line "wbxml: offset N: what is wrong" goes to stderr.
func runWBXML(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, wbxmlUsage)
		return 2
	}
	fs := flag.NewFlagSet("wbxml "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, wbxmlUsage) }
	allowUnknown := false
	if args[0] == "decode" {
		fs.BoolVar(&allowUnknown, "allow-unknown", false, "accept tags outside MS-ASWBXML (e.g. SyncML); they appear as wbxml:raw-PAGE-TOKEN")
	}
	if args[0] != "decode" && args[0] != "encode" {
		fmt.Fprintf(stderr, "wbxml: unknown subcommand %q\n\n%s", args[0], wbxmlUsage)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "wbxml: one input file at most, got %d\n\n%s", fs.NArg(), wbxmlUsage)
		return 2
	}
	in := stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "wbxml: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	var out bytes.Buffer
	var err error
	if args[0] == "decode" {
		err = decodeToXML(in, &out, allowUnknown)
	} else {
		err = encodeFromXML(in, &out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wbxml: %v\n", err)
		return 1
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "wbxml: writing output: %v\n", err)
		return 1
	}
	return 0
}

func decodeToXML(in io.Reader, out io.Writer, allowUnknown bool) error {
	d := wbxml.NewDecoder(in)
	d.AllowUnknownTags = allowUnknown
	doc, err := wbxml.ReadDocument(d)
	if err != nil {
		return err
	}
	return wbxml.WriteXML(out, doc.Root)
}

func encodeFromXML(in io.Reader, out io.Writer) error {
	root, err := wbxml.ReadXML(in)
	if err != nil {
		return err
	}
	enc := wbxml.NewEncoder(out)
	enc.AllowUnknownTags = true // raw tags written by decode --allow-unknown come back as they were
	if err := wbxml.EncodeNode(enc, root); err != nil {
		return err
	}
	return enc.Close()
}
