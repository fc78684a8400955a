package cellprog

import (
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnnlab/gognn/notebooks/display"
)

// inputSink collects the output and answers reads with answers, then io.EOF.
type inputSink struct {
	mu      sync.Mutex
	stdout  strings.Builder
	answers []string
	asked   int
}

func (s *inputSink) Stream(name, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == "stdout" {
		s.stdout.WriteString(text)
	}
}

func (s *inputSink) Display(display.Record) {}

func (s *inputSink) Input(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked++
	if len(s.answers) == 0 {
		return "", io.EOF
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

// TestRunFromStdin runs a program whose cells read standard input: each read that finds the pipe
// empty is answered by Input, the text ends up in the cell, and after io.EOF reads end at once.
func TestRunFromStdin(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("blocked reads of standard input are seen through /proc on Linux only")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Root: root, GoCmd: goCmd}
	p, err := New([]string{
		"import (\n\t\"bufio\"\n\t\"fmt\"\n\t\"os\"\n)\nin := bufio.NewReader(os.Stdin)\nfmt.Print(\"name? \")\nname, _ := in.ReadString('\\n')\nfmt.Printf(\"hello %q\\n\", name)",
		"city, err := in.ReadString('\\n')\nfmt.Printf(\"city %q %v\\n\", city, err)\n_, err = in.ReadString('\\n')\nfmt.Println(\"then\", err)",
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, done, err := BuildDir(cfg, "stdin-test")
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "cells")
	if err := Build(ctx, cfg, "stdin", p, dir, bin); err != nil {
		t.Fatal(err)
	}
	sink := &inputSink{answers: []string{"Ada\n", "Paris\n"}}
	if err := RunFrom(ctx, cfg, "stdin", bin, dir, 1, 2, sink); err != nil {
		t.Fatal(err)
	}
	want := "name? hello \"Ada\\n\"\ncity \"Paris\\n\" <nil>\nthen EOF\n"
	if got := sink.stdout.String(); got != want || sink.asked != 3 {
		t.Errorf("stdout %q after %d inputs; want %q after 3 (two answers and the end)", got, sink.asked, want)
	}

	// A plain Sink: the program reads end-of-file at once.
	var plain plainSink
	start := time.Now()
	if err := RunFrom(ctx, cfg, "stdin", bin, dir, 1, 2, &plain); err != nil {
		t.Fatal(err)
	}
	if got, want := plain.String(), "name? hello \"\"\ncity \"\" EOF\nthen EOF\n"; got != want {
		t.Errorf("without input: stdout %q; want %q", got, want)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("without input the program took %v", el)
	}
}

// plainSink collects standard output and has no Input.
type plainSink struct{ strings.Builder }

func (s *plainSink) Stream(name, text string) {
	if name == "stdout" {
		s.WriteString(text)
	}
}

func (s *plainSink) Display(display.Record) {}
