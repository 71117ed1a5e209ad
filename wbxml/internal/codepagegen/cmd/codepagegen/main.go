// Command codepagegen writes wbxml/codepages_gen.go from wbxml/codepages.tsv.
//
// Run it through `go generate ./wbxml`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/easkit/foldersync/wbxml/internal/codepagegen"
)

func main() {
	in := flag.String("in", "codepages.tsv", "code-page table (TSV)")
	out := flag.String("out", "codepages_gen.go", "Go file to write")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "codepagegen:", err)
		os.Exit(1)
	}
	defer f.Close()
	src, err := codepagegen.Generate(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "codepagegen: %s: %v\n", *in, err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "codepagegen:", err)
		os.Exit(1)
	}
}
