package cellprog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/gnnlab/gognn/notebooks/display"
)

// Sink receives the output of a running program as it comes. Calls are made from one goroutine
// at a time.
type Sink interface {
	// Stream passes text that a cell wrote to "stdout" or "stderr".
	Stream(name, text string)
	// Display passes a bundle a cell showed; OutputType is "display_data", or "execute_result"
	// for the value of the cell's last line.
	Display(rec display.Record)
}

// ErrInterrupted is returned by RunFrom when ctx was cancelled: the program was killed.
var ErrInterrupted = errors.New("interrupted")

// RunFrom runs a built program whose last cell is labelled last and passes to sink, while it
// runs, what the cells labelled from or later write and show. Earlier cells run again (they make
// the state the new cells start from) but their output is dropped. When ctx is cancelled the
// program, with every process it started, is killed and RunFrom returns ErrInterrupted. A program
// that panics or exits with an error returns an error naming the cell (label) and line.
func RunFrom(ctx context.Context, cfg Config, name, bin, dir string, from, last int, sink Sink) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	records := filepath.Join(dir, "display.jsonl")
	os.Remove(records) // a previous run in this directory
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = cfg.Root
	cmd.Env = programEnv(cfg.Quick, records, token)
	cmd.WaitDelay = 2 * time.Second
	ownProcessGroup(cmd)

	var mu sync.Mutex // one call into sink at a time
	var rec *bufio.Reader
	var recFile *os.File
	defer func() {
		if recFile != nil {
			recFile.Close()
		}
	}()
	var stderrAll bytes.Buffer
	var sinkErr error
	out := &markSplitter{prefix: []byte(display.MarkerPrefix(token)), cell: 0}
	out.text = func(s string) {
		if out.cell >= from {
			mu.Lock()
			sink.Stream("stdout", s)
			mu.Unlock()
		}
	}
	out.record = func(i int) {
		// Records are appended in order, each before its marker is written: read the next line.
		if recFile == nil {
			f, err := os.Open(records)
			if err != nil {
				sinkErr = fmt.Errorf("display record %d: %w", i, err)
				return
			}
			recFile, rec = f, bufio.NewReaderSize(f, 1<<16)
		}
		line, err := rec.ReadBytes('\n')
		if err != nil {
			sinkErr = fmt.Errorf("display record %d: %w", i, err)
			return
		}
		if out.cell < from {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var r display.Record
		if err := dec.Decode(&r); err != nil {
			sinkErr = fmt.Errorf("display record %d: %w", i, err)
			return
		}
		mu.Lock()
		sink.Display(r)
		mu.Unlock()
	}
	errw := &markSplitter{prefix: out.prefix}
	errw.text = func(s string) {
		if errw.cell >= from {
			mu.Lock()
			sink.Stream("stderr", s)
			mu.Unlock()
		}
	}
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(&stderrAll, errw)
	feeder, err := attachStdin(cmd, sink)
	if err != nil {
		return fmt.Errorf("%s: standard input: %w", name, err)
	}
	runErr := cmd.Start()
	if runErr == nil {
		if feeder != nil {
			feeder.start(ctx, cmd.Process.Pid)
		}
		runErr = cmd.Wait()
	}
	if feeder != nil {
		feeder.end()
	}
	out.flush()
	errw.flush()

	cell := max(out.cell, errw.cell, 1)
	if runErr != nil {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		errSegs, _ := splitMarked(stderrAll.Bytes(), token)
		return runFailure(name, cell, errSegs, runErr)
	}
	if sinkErr != nil {
		return fmt.Errorf("%s: cell %d: %w", name, cell, sinkErr)
	}
	if cell < last {
		return fmt.Errorf("%s: cell %d: the program ended before cell %d ran (os.Exit, or return at a cell's top level)", name, cell, last)
	}
	return nil
}

// markSplitter is an io.Writer that splits a stream at the display package's markers as it
// comes: text goes to text, a cell marker sets cell, a display marker calls record. A marker cut
// between two writes waits for the rest.
type markSplitter struct {
	prefix []byte
	buf    []byte
	cell   int
	text   func(string)
	record func(int)
}

func (m *markSplitter) Write(p []byte) (int, error) {
	m.buf = append(m.buf, p...)
	for len(m.buf) > 0 {
		i := bytes.Index(m.buf, m.prefix)
		if i < 0 {
			// Keep a tail that may be the start of a marker.
			keep := 0
			if j := bytes.LastIndexByte(m.buf, 0); j >= 0 && bytes.HasPrefix(m.prefix, m.buf[j:]) {
				keep = len(m.buf) - j
			}
			m.emit(m.buf[:len(m.buf)-keep])
			m.buf = m.buf[len(m.buf)-keep:]
			break
		}
		m.emit(m.buf[:i])
		rest := m.buf[i+len(m.prefix):]
		end := bytes.IndexByte(rest, 0)
		if end < 0 && len(rest) < 24 {
			m.buf = m.buf[i:] // the marker's end has not come yet
			break
		}
		n, err := -1, error(nil)
		if end >= 1 {
			n, err = strconv.Atoi(string(rest[1:end]))
		}
		if end < 1 || err != nil || n < 0 || (rest[0] != display.MarkerCell && rest[0] != display.MarkerDisplay) {
			// Not a marker after all: keep the bytes as text.
			m.emit(m.buf[i : i+len(m.prefix)])
			m.buf = rest
			continue
		}
		if rest[0] == display.MarkerCell {
			m.cell = n
		} else if m.record != nil {
			m.record(n)
		}
		m.buf = rest[end+1:]
	}
	m.buf = bytes.Clone(m.buf)
	return len(p), nil
}

func (m *markSplitter) emit(b []byte) {
	if len(b) > 0 && m.text != nil {
		m.text(string(b))
	}
}

// flush passes on what is left at the end of the stream.
func (m *markSplitter) flush() {
	m.emit(m.buf)
	m.buf = nil
}
