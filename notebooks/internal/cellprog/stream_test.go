package cellprog

import (
	"fmt"
	"strings"
	"testing"
)

// The streaming splitter gives what splitMarked gives, however the stream is cut into writes:
// every byte of text comes out under the same cell, and records at the same place.
func TestMarkSplitterAnyCut(t *testing.T) {
	m := func(kind, n string) string { return "\x00gognn-notebook:tok:" + kind + n + "\x00" }
	out := "init\n" + m("c", "1") + "a\n" + m("d", "0") + "b" + m("c", "12") + "\x00gognn-notebook:tok:zz" + m("c", "3") + "end\x00"
	var want strings.Builder
	segs, _ := splitMarked([]byte(out), "tok")
	cell := 0
	for _, s := range segs {
		switch {
		case s.cell > 0:
			cell = s.cell
		case s.record >= 0:
			fmt.Fprintf(&want, "[%d:rec]", cell)
		default:
			for _, b := range []byte(s.text) {
				fmt.Fprintf(&want, "%d:%q ", cell, b)
			}
		}
	}
	for cut := 0; cut <= len(out); cut++ {
		var got strings.Builder
		sp := &markSplitter{prefix: []byte("\x00gognn-notebook:tok:")}
		sp.text = func(s string) {
			for _, b := range []byte(s) {
				fmt.Fprintf(&got, "%d:%q ", sp.cell, b)
			}
		}
		sp.record = func(int) { fmt.Fprintf(&got, "[%d:rec]", sp.cell) }
		sp.Write([]byte(out[:cut]))
		for i := cut; i < len(out); i++ { // the rest byte by byte
			sp.Write([]byte{out[i]})
		}
		sp.flush()
		if got.String() != want.String() {
			t.Fatalf("cut at %d:\n%s\nwant\n%s", cut, got.String(), want.String())
		}
	}
}

func TestRedeclare(t *testing.T) {
	p, err := New([]string{"func f() int { return 1 }\ntype T int\nconst a, b = 1, 2\nx := f()", "func g() {}"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Append(5, "func f() int { return 2 }\nconst b = 3"); err != nil {
		t.Fatal(err)
	}
	if n := p.Redeclare(5); n != 2 {
		t.Errorf("removed %d declarations; want 2 (f and the const group)", n)
	}
	c := p.cells[0][0]
	if strings.Contains(c.text, "func f") || strings.Contains(c.text, "const") || !strings.Contains(c.text, "type T int") {
		t.Errorf("cell 1 declarations after redeclare: %q", c.text)
	}
	if strings.Count(c.text, "\n") != 2 {
		t.Errorf("lines changed: %q", c.text)
	}
	if got := strings.Join(p.Names(), ","); got != "T,b,f,g,x" {
		t.Errorf("Names = %s", got)
	}
}
