// Command kernel is a Jupyter kernel for Go notebooks of this module: it speaks the Jupyter
// messaging protocol 5.3 over ZeroMQ (shell, iopub, stdin, control and heartbeat channels,
// HMAC-SHA256 signed messages) and runs cells with the semantics of the notebook runner
// (go run ./notebooks/run): imports, functions and types at package level, statements in order in
// main, variables carried from cell to cell.
//
//	go build -o gognn-kernel ./notebooks/kernel
//	gognn-kernel -install DIR -root MODULE   # writes DIR/kernel.json (make jupyter does this)
//	gognn-kernel -root MODULE CONNECTION_FILE # what Jupyter runs
//
// Each cell is added to the program of the cells that ran before it without error; the program
// is built and run from the top, and only the new cell's output is shown: its standard output and
// error as streams while it runs, display bundles (PNG figures, HTML and text tables) as
// display_data, the value of its last line as execute_result. A cell that does not compile or
// panics reports the cell (by execution count) and line, and the session stays as it was.
// Interrupting kills the running cell's processes at once. A cell's reads of standard input
// are answered through input_request on the stdin channel when the frontend allows stdin, and
// get end-of-file otherwise. See notebooks/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// kernelName is the kernelspec's name: its own, so it never shadows a gophernotes install.
const kernelName = "gognn"

func main() {
	root := flag.String("root", "", "root of the github.com/gnnlab/gognn module: cells are built there (default: found from the working directory)")
	install := flag.String("install", "", "write kernel.json into this kernelspec directory and exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: gognn-kernel [-root MODULE] CONNECTION_FILE\n       gognn-kernel -install DIR [-root MODULE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gognn-kernel: ")
	if err := run(*root, *install, flag.Args()); err != nil {
		log.Fatal(err)
	}
}

func run(root, install string, args []string) error {
	var err error
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		if root, err = cellprog.ModuleRoot(wd); err != nil {
			return err
		}
	} else if root, err = filepath.Abs(root); err != nil {
		return err
	}
	if install != "" {
		return writeKernelSpec(install, root)
	}
	if len(args) != 1 {
		return errors.New("want one argument, the connection file Jupyter writes")
	}
	conn, err := readConnection(args[0])
	if err != nil {
		return err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH; the kernel builds every cell with it")
	}
	cfg := cellprog.Config{Root: root, GoCmd: goCmd, Quick: os.Getenv("GOGNN_NOTEBOOK_QUICK") == "1", Log: log.Printf}
	sess, err := newSession(cfg)
	if err != nil {
		return err
	}
	defer sess.close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	k, err := newKernel(ctx, conn, sess)
	if err != nil {
		return err
	}
	defer k.close()
	// Jupyter interrupts a kernel with SIGINT (interrupt_mode "signal"): stop the running cell.
	sigint := make(chan os.Signal, 1)
	signal.Notify(sigint, os.Interrupt)
	go func() {
		for range sigint {
			k.interrupt()
		}
	}()
	k.serve()
	return nil
}

// writeKernelSpec writes dir/kernel.json for this executable, building cells in root.
func writeKernelSpec(dir, root string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return err
	}
	spec := map[string]any{
		"argv":           []string{exe, "-root", root, "{connection_file}"},
		"display_name":   "Go (gognn)",
		"language":       "go",
		"interrupt_mode": "signal",
		"metadata":       map[string]any{"debugger": false},
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "kernel.json"), append(data, '\n'), 0o644)
}
