// Command gognn-engine is the native backend of the JavaScript package (js/): a long-lived child
// process that Node starts once and talks to over stdio, as esbuild's service does, so the
// searches keep the SIMD kernels and every core. It reads frames from stdin and writes one
// response frame per request to stdout, in the order of the requests:
//
//	u32 length   bytes that follow (4 + len(body))
//	u32 id       the request's id, echoed in its response
//	body         an engine request (package engine), or its response
//
// All integers are little-endian. It exits when stdin closes (the parent is gone) and writes
// nothing else to stdout; errors in a request are responses, so only a broken pipe ends it
// with a message on stderr.
//
// Usage:
//
//	gognn-engine [-spin 100us]
//
// -spin is how long the engine polls stdin for the next request after answering one before it
// sleeps in read(2) (see spinReader; 0 sleeps at once, and it always does where poll(2) is
// missing): one request after another, the engine then costs up to that much CPU per request
// and saves the wake-up of a sleeping thread. A single request is served inline on the reading
// goroutine; the queries of a batch search are split over every core (package engine).
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gnnlab/gognn/engine"
)

// maxFrame bounds one request, so a garbled length cannot make the engine allocate gigabytes.
const maxFrame = 1 << 31

// defaultSpin is -spin's default, the JavaScript package's spinMicros default too.
const defaultSpin = 100 * time.Microsecond

func main() {
	flags := flag.NewFlagSet("gognn-engine", flag.ContinueOnError)
	flags.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: gognn-engine [-spin 100us] (it speaks the engine protocol on stdin and stdout, see package engine)")
		flags.PrintDefaults()
	}
	spin := flags.Duration("spin", defaultSpin, "how long to poll stdin for the next request before sleeping (0: never poll)")
	if err := flags.Parse(os.Args[1:]); err != nil || flags.NArg() > 0 || *spin < 0 {
		if err == nil {
			flags.Usage()
		}
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if ready := pollReadable(int(os.Stdin.Fd())); ready != nil && *spin > 0 {
		in = &spinReader{r: os.Stdin, ready: ready, max: *spin}
	}
	if err := serve(engine.New(), in, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gognn-engine:", err)
		os.Exit(1)
	}
}

// serve answers the frames of in on out until in ends.
func serve(e *engine.Engine, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriterSize(out, 1<<16)
	var head [8]byte
	for {
		if _, err := io.ReadFull(r, head[:4]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading a frame: %w", err)
		}
		n := binary.LittleEndian.Uint32(head[:4])
		if n < 4 || n > maxFrame {
			return fmt.Errorf("frame of %d bytes: want 4 to %d (is the other end speaking the engine protocol?)", n, uint32(maxFrame))
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(r, frame); err != nil {
			return fmt.Errorf("reading a frame of %d bytes: %w", n, err)
		}
		resp := e.Call(frame[4:])
		binary.LittleEndian.PutUint32(head[:4], uint32(4+len(resp)))
		copy(head[4:], frame[:4])
		if _, err := w.Write(head[:]); err != nil {
			return err
		}
		if _, err := w.Write(resp); err != nil {
			return err
		}
		if r.Buffered() == 0 { // no request waiting: send what we have
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}
