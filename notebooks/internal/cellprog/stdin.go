package cellprog

import (
	"context"
	"io"
	"os"
	"os/exec"
	"time"
)

// InputSink is a Sink that also answers the program's reads of standard input. RunFrom gives
// its program a pipe as standard input and, each time the program waits reading that pipe while
// it is empty, calls Input and writes the text returned into the pipe; an error from Input
// (io.EOF to end the input) closes the pipe, so this read and every later one get end-of-file.
// Input may be called while Stream and Display are; ctx ends when the program does. A program
// run with a plain Sink, or on a system other than Linux (where a blocked read cannot be seen
// from outside), reads end-of-file at once.
type InputSink interface {
	Sink
	Input(ctx context.Context) (string, error)
}

// stdinPollInterval is how often RunFrom looks whether the program waits for input. A read is
// answered after two looks in a row have seen it waiting on an empty pipe, so a reader about to
// return with data just written is never taken for a new read.
const stdinPollInterval = 20 * time.Millisecond

// stdinFeeder answers the reads of a program's standard input through an InputSink.
type stdinFeeder struct {
	r, w *os.File
	sink InputSink
	done chan struct{}
	stop context.CancelFunc
}

// attachStdin gives cmd a pipe as standard input when sink is an InputSink and blocked reads can
// be seen on this system; it returns nil otherwise (cmd then reads end-of-file).
func attachStdin(cmd *exec.Cmd, sink Sink) (*stdinFeeder, error) {
	in, ok := sink.(InputSink)
	if !ok || !canSeeStdinReads {
		return nil, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = r
	return &stdinFeeder{r: r, w: w, sink: in, done: make(chan struct{})}, nil
}

// start begins answering the reads of the started process pid.
func (f *stdinFeeder) start(ctx context.Context, pid int) {
	f.r.Close() // the child holds its own copy
	ctx, f.stop = context.WithCancel(ctx)
	go func() {
		defer close(f.done)
		defer f.w.Close()
		tick := time.NewTicker(stdinPollInterval)
		defer tick.Stop()
		seen := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if !waitingOnStdin(pid) || pipeBuffered(f.w) != 0 {
				seen = 0
				continue
			}
			if seen++; seen < 2 {
				continue
			}
			seen = 0
			text, err := f.sink.Input(ctx)
			if err != nil {
				return
			}
			if _, err := io.WriteString(f.w, text); err != nil {
				return
			}
		}
	}()
}

// end stops answering, once the process has exited, and waits for the feeder to finish.
func (f *stdinFeeder) end() {
	if f.stop == nil { // never started
		f.r.Close()
		f.w.Close()
		return
	}
	f.stop()
	<-f.done
}
