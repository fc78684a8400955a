package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// inputs are the answers to the reads of standard input of the cells in prog, in the order
	// they were read: a run gives them to the same reads again instead of asking.
	inputs []answer
}

// answer is what one read of standard input got: text, or end-of-file.
type answer struct {
	text string
	eof  bool
}

// replaySink answers a run's reads of standard input first with the answers the session's cells
// got when they ran (they read first, in the same order), then through its InputSink; it keeps
// every answer given, for the session when the run succeeds.
type replaySink struct {
	cellprog.InputSink
	replay, got []answer
}

func (r *replaySink) Input(ctx context.Context) (string, error) {
	var a answer
	if len(r.replay) > 0 {
		a, r.replay = r.replay[0], r.replay[1:]
	} else {
		text, err := r.InputSink.Input(ctx)
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		a = answer{text: text, eof: err != nil}
	}
	r.got = append(r.got, a)
	if a.eof {
		return "", io.EOF
	}
	return a.text, nil
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
// before, streaming its output to sink, which answers the new reads of standard input. On success
// the cell joins the session.
func (s *session) execute(ctx context.Context, code string, count int, sink cellprog.InputSink) error {
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
	in := &replaySink{InputSink: sink, replay: s.inputs}
	err := cellprog.RunFrom(ctx, s.cfg, errTag, bin, s.dir, count, count, in)
	switch {
	case errors.Is(err, cellprog.ErrInterrupted):
		return &cellError{"Interrupted", fmt.Sprintf("cell %d was interrupted", count)}
	case err != nil:
		return &cellError{"RuntimeError", untag(err.Error())}
	}
	s.prog, s.inputs = p, in.got
	return nil
}

func untag(msg string) string { return strings.ReplaceAll(msg, errTag+": ", "") }
