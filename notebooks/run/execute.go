package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// config is what every notebook run shares.
type config = cellprog.Config

// execute builds the code cells of nb into one program, runs it, and returns the outputs of each
// code cell as nbformat outputs. name is the notebook as errors show it. Errors name the notebook,
// the code cell (numbered from 1) and the cause.
func execute(ctx context.Context, cfg config, name string, nb *notebook) ([][]any, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var sources []string
	for _, c := range nb.cells {
		if c.kind == "code" {
			sources = append(sources, c.source)
		}
	}
	prog, err := cellprog.New(sources)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dir, done, err := cellprog.BuildDir(cfg, strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer done()
	bin := filepath.Join(dir, "notebook")
	if err := cellprog.Build(ctx, cfg, name, prog, dir, bin); err != nil {
		return nil, err
	}
	return cellprog.Run(ctx, cfg, name, bin, dir, len(sources))
}
