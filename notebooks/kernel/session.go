package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// session is the state of the notebook: the cells that ran without error, as one program whose
// cells are labelled by execution count. Running a cell appends it to that program, builds it and
// runs it again from the top; only the new cell's output is shown. So a cell sees every variable,
// function and type of the cells before it, exactly as under the runner, and a failing cell
// leaves the session as it was.
type session struct {
	cfg  cellprog.Config
	dir  string // build directory, inside the module
	done func() // removes dir
	prog *cellprog.Program
}

func newSession(cfg cellprog.Config) (*session, error) {
	dir, done, err := cellprog.BuildDir(cfg, "kernel")
	if err != nil {
		return nil, err
	}
	p, err := cellprog.New(nil)
	if err != nil {
		return nil, err
	}
	return &session{cfg: cfg, dir: dir, done: done, prog: p}, nil
}

func (s *session) close() { s.done() }

// errTag stands for the notebook name in cellprog's errors; the kernel removes it, as the
// notebook is not known to it.
const errTag = "\x01nb"

// cellError is a cell that failed: ename is "CompileError", "RuntimeError" or "Interrupted".
type cellError struct {
	ename, evalue string
}

func (e *cellError) Error() string { return e.ename + ": " + e.evalue }

// execute runs code as the cell labelled count (its execution count) after the cells that ran
// before, streaming its output to sink. On success the cell joins the session.
func (s *session) execute(ctx context.Context, code string, count int, sink cellprog.Sink) error {
	p := s.prog.Clone()
	if err := p.Append(count, code); err != nil {
		return &cellError{"CompileError", err.Error()}
	}
	p.Redeclare(count)
	bin := filepath.Join(s.dir, "cells")
	if err := cellprog.Build(ctx, s.cfg, errTag, p, s.dir, bin); err != nil {
		if ctx.Err() != nil {
			return &cellError{"Interrupted", fmt.Sprintf("cell %d was interrupted while building", count)}
		}
		return &cellError{"CompileError", untag(err.Error())}
	}
	err := cellprog.RunFrom(ctx, s.cfg, errTag, bin, s.dir, count, count, sink)
	switch {
	case errors.Is(err, cellprog.ErrInterrupted):
		return &cellError{"Interrupted", fmt.Sprintf("cell %d was interrupted", count)}
	case err != nil:
		return &cellError{"RuntimeError", untag(err.Error())}
	}
	s.prog = p
	return nil
}

func untag(msg string) string { return strings.ReplaceAll(msg, errTag+": ", "") }
