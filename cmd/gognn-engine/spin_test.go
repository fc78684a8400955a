package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gnnlab/gognn/engine"
)

// The spin polls until data is there, then reads; with none it gives up after max.
func TestSpinReaderPollsThenReads(t *testing.T) {
	polls := 0
	s := &spinReader{r: strings.NewReader("abc"), max: time.Second, ready: func() (bool, error) {
		polls++
		return polls == 3, nil
	}}
	p := make([]byte, 8)
	if n, err := s.Read(p); n != 3 || err != nil || polls != 3 {
		t.Fatalf("Read = %d, %v after %d polls, want 3 bytes after 3 polls", n, err, polls)
	}

	s = &spinReader{r: strings.NewReader("abc"), max: 2 * time.Millisecond, ready: func() (bool, error) { return false, nil }}
	start := time.Now()
	if n, _ := s.Read(p); n != 3 {
		t.Fatalf("Read = %d bytes, want 3", n)
	}
	if d := time.Since(start); d < s.max {
		t.Fatalf("gave up polling after %v, want at least %v", d, s.max)
	}
}

// While requests are slow, the reader spins before one read in probeEvery; a quick one turns
// spinning back on.
func TestSpinReaderStopsWhileSlow(t *testing.T) {
	polls := 0
	s := &spinReader{r: strings.NewReader(strings.Repeat("x", 100)), max: time.Hour, ready: func() (bool, error) {
		polls++
		return true, nil
	}}
	for i := range s.waits {
		s.waits[i] = 2 * s.max
	}
	p := make([]byte, 1)
	for i := 1; i <= probeEvery; i++ {
		before := polls
		s.Read(p)
		if spun := polls > before; spun != (i%probeEvery == 0) {
			t.Fatalf("read %d: spun %v, want spinning on every %dth read only", i, spun, probeEvery)
		}
		if i < probeEvery { // the waits of these reads were quick, but keep them slow
			s.waits[(s.next+len(s.waits)-1)%len(s.waits)] = 2 * s.max
		}
	}
	// The probe's read was quick (data was there): spinning is back on.
	before := polls
	s.Read(p)
	if polls == before {
		t.Fatal("no spin after a quick read")
	}
}

// The engine serves frames through a spinning reader on a real pipe, and ends when it closes.
func TestServeSpinningOnPipe(t *testing.T) {
	in, pw := spinningPipe(t, 200*time.Microsecond)
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(engine.New(), in, outW); outW.Close() }()
	for id := uint32(1); id <= 50; id++ {
		if id%10 == 0 {
			time.Sleep(time.Millisecond) // longer than the spin: the read blocks
		}
		if _, err := pw.Write(frame(id, []byte{engine.OpInfo})); err != nil {
			t.Fatal(err)
		}
		var head [8]byte
		if _, err := io.ReadFull(outR, head[:]); err != nil {
			t.Fatal(err)
		}
		body := make([]byte, binary.LittleEndian.Uint32(head[:])-4)
		if _, err := io.ReadFull(outR, body); err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(head[4:]); got != id || body[0] != engine.StatusOK || !bytes.Contains(body, []byte(`"goos"`)) {
			t.Fatalf("response id %d %q, want id %d and info", got, body, id)
		}
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The other end closing while the reader spins ends the read at once with io.EOF, however long
// the spin.
func TestSpinReaderEndsWhenThePipeCloses(t *testing.T) {
	s, pw := spinningPipe(t, time.Minute)
	time.AfterFunc(20*time.Millisecond, func() { pw.Close() })
	start := time.Now()
	n, err := s.Read(make([]byte, 8))
	if n != 0 || err != io.EOF {
		t.Fatalf("Read = %d, %v, want 0, EOF", n, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Read took %v after the pipe closed", d)
	}
}

// spinningPipe returns a spinReader of spin max on the read end of a pipe, and its write end.
func spinningPipe(t *testing.T, max time.Duration) (*spinReader, *os.File) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	ready := pollReadable(int(pr.Fd()))
	if ready == nil {
		t.Skip("no poll(2) here")
	}
	return &spinReader{r: pr, ready: ready, max: max}, pw
}
