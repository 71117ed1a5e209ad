package visualize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// ErrNoGraphviz is returned by SVG when Graphviz's dot is not on PATH; it says how
// to install it.
var ErrNoGraphviz = errors.New(`visualize: Graphviz's "dot" is not on PATH: install Graphviz (apt-get install graphviz; brew install graphviz on macOS), or use --format dot and render the DOT elsewhere`)

// SVGTimeout bounds one run of dot in SVG.
const SVGTimeout = 30 * time.Second

// SVG renders a DOT graph (DOT, TraceDOT) to SVG by running Graphviz's dot -Tsvg,
// for at most SVGTimeout. When dot is not on PATH the error is ErrNoGraphviz.
func SVG(dot string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), SVGTimeout)
	defer cancel()
	return SVGContext(ctx, dot)
}

// SVGContext is SVG under the caller's context instead of SVGTimeout.
func SVGContext(ctx context.Context, dot string) ([]byte, error) {
	path, err := exec.LookPath("dot")
	if err != nil {
		return nil, ErrNoGraphviz
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = strings.NewReader(dot)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// If dot leaves a child holding its output open, do not wait for it forever.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("visualize: %s -Tsvg did not finish: %w", path, ctx.Err())
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return nil, fmt.Errorf("visualize: %s -Tsvg failed (%v): %s", path, err, msg)
	}
	return stdout.Bytes(), nil
}
