// Command docgen regenerates the documents under docs/ that are derived from the
// code (see package internal/docgen). It is run by `go generate ./...`:
//
//	go run ./internal/docgen/cmd/docgen -root .
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/easkit/foldersync/internal/docgen"
)

func main() {
	root := flag.String("root", ".", "the module root")
	flag.Parse()
	wrote, err := docgen.Write(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	for _, p := range wrote {
		fmt.Println("docgen: wrote", p)
	}
}
