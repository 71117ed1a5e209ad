package visualize_test

import (
	"fmt"
	"strings"

	"github.com/easkit/foldersync/states"
	"github.com/easkit/foldersync/visualize"
)

// Mermaid renders the transitions table as a stateDiagram-v2; put it in a
// ```mermaid block of a Markdown file and code hosts draw it (see
// examples/graphmarkdown). Only the first lines are shown here.
func ExampleMermaid() {
	lines := strings.Split(visualize.Mermaid(), "\n")
	for _, l := range lines[:4] {
		fmt.Println(l)
	}
	// Output:
	// stateDiagram-v2
	//     [*] --> idle
	//     idle --> awaiting: start
	//     idle --> resetting: diverged
}

// DOT renders the same graph for Graphviz: `dot -Tsvg`.
func ExampleDOT() {
	fmt.Println(strings.SplitN(visualize.DOT(), "\n", 2)[0])
	// Output:
	// digraph foldersync {
}

// Edges is the graph as data, for renderers of your own.
func ExampleEdges() {
	for _, e := range visualize.Edges() {
		if e.From == states.Retrying {
			fmt.Printf("%s -> %s: %s\n", e.From, e.To, e.Label)
		}
	}
	// Output:
	// retrying -> awaiting: backoff_elapsed
	// retrying -> failed: cancelled, give_up
}
