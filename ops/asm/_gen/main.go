// Command _gen writes every assembly kernel of the module with avo, into package
// internal/kernels (the one CPU dispatch): avx2_amd64.s and avx512_amd64.s (ops/asm, blas and
// hnsw), quant_amd64.s (quant's F16C and INT8 kernels) and their declarations in
// stubs_amd64.go.
//
// Run it from here (make asm does, and go generate in internal/kernels):
//
//	go run . -out ../../../internal/kernels
//
// With -check it writes nothing and fails when a file on disk differs from what it would write,
// so CI can tell that the generated files are up to date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/buildtags"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/pass"
	"github.com/mmcloughlin/avo/printer"
)

// command is the line the generated files name. It is fixed, not taken from os.Args, so that the
// output does not depend on how the generator was started.
const command = "command: go run . -out ../../../internal/kernels (in ops/asm/_gen)"

const constraint = "amd64,!noasm" // avo parses the old +build syntax: amd64 && !noasm

func main() {
	// avo's build package registers its own flags on flag.CommandLine, so use a set of ours.
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "../../../internal/kernels", "directory of package internal/kernels")
	check := fs.Bool("check", false, "compare with the files in -out instead of writing them")
	fs.IntVar(&prefetchDist, "prefetch", prefetchDist, "experiment: rows GatherSum prefetches ahead")
	fs.Parse(os.Args[1:])

	files, err := generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	stale := false
	for _, f := range files {
		path := filepath.Join(*out, f.name)
		if *check {
			old, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(old, f.data) {
				fmt.Fprintf(os.Stderr, "gen: %s is not up to date; run make asm\n", path)
				stale = true
			}
			continue
		}
		if err := os.WriteFile(path, f.data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	if stale {
		os.Exit(1)
	}
}

var highXY = regexp.MustCompile(`\b[XY](1[6-9]|2[0-9]|3[01])\b`)

type file struct {
	name string
	data []byte
}

// generate builds one assembly file per backend and one stub file declaring the functions of
// both, so the package keeps a single stubs_amd64.go.
func generate() ([]file, error) {
	cfg := printer.Config{Name: command, Pkg: "kernels"}
	cons, err := buildtags.ParseConstraint(constraint)
	if err != nil {
		return nil, err
	}
	stubs := &ir.File{Constraints: buildtags.Constraints{cons}}
	var files []file
	for _, isa := range []isa{avx2, avx512, quant} {
		ctx := build.NewContext()
		ctx.ConstraintExpr(constraint)
		if isa == quant {
			quantKernels(ctx)
		} else {
			kernels(ctx, isa)
		}
		f, err := ctx.Result()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", isa.name, err)
		}
		if err := pass.Compile.Execute(f); err != nil {
			return nil, fmt.Errorf("%s: %w", isa.name, err)
		}
		src, err := printer.NewGoAsm(cfg).Print(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", isa.name, err)
		}
		if isa.zmm {
			// Without AVX512VL, XMM/YMM registers 16-31 cannot be encoded: the YMM steps of a
			// reduction must have been given one of the low 16.
			if r := highXY.Find(src); r != nil {
				return nil, fmt.Errorf("%s: %s needs AVX512VL", isa.name, r)
			}
		}
		files = append(files, file{isa.file, src})
		for _, fn := range f.Functions() {
			stubs.AddSection(fn)
		}
	}
	src, err := printer.NewStubs(cfg).Print(stubs)
	if err != nil {
		return nil, err
	}
	return append(files, file{"stubs_amd64.go", src}), nil
}
