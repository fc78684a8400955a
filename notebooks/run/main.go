// Command run executes the project's Jupyter notebooks without Jupyter. The notebooks are written
// for the gophernotes Go kernel; run turns the code cells of each one into a single Go program
// inside this module, builds it, runs it, and writes each cell's printed text and displayed
// figures back into the notebook as nbformat outputs, so the notebooks stay valid for gophernotes
// and carry their results.
//
//	go run ./notebooks/run [-quick] [-check] [-timeout 10m] [-keep] [notebooks/*.ipynb ...]
//
// With no arguments it runs every notebooks/*.ipynb in name order. -quick sets
// GOGNN_NOTEBOOK_QUICK=1 for the notebooks to shrink their work; -check runs and verifies without
// writing; -keep leaves the generated programs in notebooks/.build. A notebook that does not
// compile, panics or exits with an error fails the run with its name, the code cell (numbered from
// 1, as its execution count) and the cause; it is left unchanged. See notebooks/README.md for what
// a cell may hold.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

func main() {
	var cfg config
	var check bool
	flag.BoolVar(&cfg.Quick, "quick", false, "set GOGNN_NOTEBOOK_QUICK=1 so notebooks do less work (fewer epochs, smaller data)")
	flag.BoolVar(&check, "check", false, "run and verify only; write nothing")
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "time limit per notebook, build and run")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep each generated program in notebooks/.build to read it")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./notebooks/run [-quick] [-check] [-timeout 10m] [-keep] [notebooks/*.ipynb ...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	cfg.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runAll(ctx, cfg, check, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		stop()
		os.Exit(1)
	}
}

// runAll runs the notebooks named by args (every notebooks/*.ipynb when none), reporting one line
// per notebook on w. It goes on after a failing notebook and fails at the end.
func runAll(ctx context.Context, cfg config, check bool, args []string, w io.Writer) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	if cfg.Root, err = moduleRoot(wd); err != nil {
		return err
	}
	if cfg.GoCmd, err = exec.LookPath("go"); err != nil {
		return errors.New("run: the go command is not on PATH; the runner builds each notebook with it")
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	paths := args
	if len(paths) == 0 {
		if paths, err = filepath.Glob(filepath.Join(cfg.Root, "notebooks", "*.ipynb")); err != nil {
			return err
		}
		if len(paths) == 0 {
			fmt.Fprintln(w, "run: no notebooks in notebooks/")
			return nil
		}
	}
	var failed []string
	for _, p := range paths {
		if ctx.Err() != nil {
			return errors.New("run: interrupted")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		name := abs
		if rel, err := filepath.Rel(cfg.Root, abs); err == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
		start := time.Now()
		n, err := runFile(ctx, cfg, check, abs, name)
		if err != nil {
			fmt.Fprintf(w, "FAIL %s (%.1fs)\n", name, time.Since(start).Seconds())
			cfg.Log("%v", err)
			failed = append(failed, name)
			continue
		}
		verb := "ran"
		if !check {
			verb = "wrote"
		}
		fmt.Fprintf(w, "ok   %s (%d code cells, %s, %.1fs)\n", name, n, verb, time.Since(start).Seconds())
	}
	if len(failed) > 0 {
		return fmt.Errorf("run: %d of %d notebooks failed: %s", len(failed), len(paths), strings.Join(failed, ", "))
	}
	return nil
}

// runFile runs one notebook and, unless check, writes its new outputs into it. It returns the
// number of code cells.
func runFile(ctx context.Context, cfg config, check bool, path, name string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	nb, err := parseNotebook(data)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	outputs, err := execute(ctx, cfg, name, nb)
	if err != nil {
		return 0, err
	}
	n := nb.setOutputs(outputs)
	if check {
		return n, nil
	}
	out, err := nb.marshal()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if bytes.Equal(out, data) {
		return n, nil
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	if err := atomicfile.WriteBytes(path, out, perm); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

// moduleRoot finds the directory of this module's go.mod at or above dir.
func moduleRoot(dir string) (string, error) { return cellprog.ModuleRoot(dir) }
