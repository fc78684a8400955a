package cellprog

import (
	"errors"
	"strings"
	"testing"
)

func TestSplitCell(t *testing.T) {
	type want struct {
		kind      chunkKind
		line, col int
		text      string
	}
	for _, tc := range []struct {
		name string
		src  string
		want []want
	}{
		{"empty", "", nil},
		{"comment only", "// nothing\n", nil},
		{"imports, func, statements", "import \"fmt\"\n\nfunc f() int { return 1 }\n\nx := f()\nfmt.Println(x)\n",
			[]want{{importChunk, 1, 1, `import "fmt"`}, {declChunk, 3, 1, "func f() int { return 1 }"}, {stmtChunk, 5, 1, "x := f()\nfmt.Println(x)"}}},
		{"import block after a statement", "x := 1\nimport (\n\t\"os\"\n)\n_ = x",
			[]want{{stmtChunk, 1, 1, "x := 1"}, {importChunk, 2, 1, "import (\n\t\"os\"\n)"}, {stmtChunk, 5, 1, "_ = x"}}},
		{"method, generic func, type, const", "type T struct{ n int }\nfunc (t *T) Inc() { t.n++ }\nfunc Map[A, B any](xs []A, f func(A) B) []B { return nil }\nconst k = 2",
			[]want{{declChunk, 1, 1, "type T struct{ n int }\nfunc (t *T) Inc() { t.n++ }\nfunc Map[A, B any](xs []A, f func(A) B) []B { return nil }\nconst k = 2"}}},
		{"func literals are statements", "func() { println(1) }()\nfunc(x int) int { return x }(2)\ngo func() {}()",
			[]want{{stmtChunk, 1, 1, "func() { println(1) }()\nfunc(x int) int { return x }(2)\ngo func() {}()"}}},
		{"var is a statement", "var (\n\ta = 1\n\tb = a\n)\nfunc g() {}\nvar c = func() int { return 3 }()",
			[]want{{stmtChunk, 1, 1, "var (\n\ta = 1\n\tb = a\n)"}, {declChunk, 5, 1, "func g() {}"}, {stmtChunk, 6, 1, "var c = func() int { return 3 }()"}}},
		{"semicolons on one line", "x := 1; func h() {}; y := x",
			[]want{{stmtChunk, 1, 1, "x := 1;"}, {declChunk, 1, 9, "func h() {};"}, {stmtChunk, 1, 22, "y := x"}}},
		{"trailing comment, labels, blocks", "outer:\nfor i := 0; i < 2; i++ { // loop\n\tif i > 0 {\n\t\tbreak outer\n\t}\n} // done\n",
			[]want{{stmtChunk, 1, 1, "outer:\nfor i := 0; i < 2; i++ { // loop\n\tif i > 0 {\n\t\tbreak outer\n\t}\n} // done"}}},
	} {
		chunks, err := splitCell(4, tc.src)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []want
		for _, c := range chunks {
			if c.cell != 4 {
				t.Errorf("%s: chunk of cell %d", tc.name, c.cell)
			}
			got = append(got, want{c.kind, c.line, c.col, c.text})
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d chunks %+v; want %+v", tc.name, len(got), got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: chunk %d = %+v; want %+v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
}

func TestSplitCellErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"package main\nx := 1", "cell 2, line 1:1: a cell has no package clause"},
		{"x := 1\ny := \"open", "cell 2, line 2:6: string literal not terminated"},
		{"x := 1\nif x {\n", "cell 2, line 2:6: this { is not closed"},
		{"f(a,\n  b[1:\n", "cell 2, line 1:2: this ( is not closed"},
		{"import \"fmt\"\nfunc main() {}", "cell 2, line 2:1: a cell cannot declare func main"},
		{"x := 1\n\ny := )", "cell 2, line 3:6: expected operand"},
		{"func f( {}", "cell 2, line 1"},
	} {
		_, err := splitCell(2, tc.src)
		var ce *cellError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("splitCell(%q) = %v; want a cell error containing %q", tc.src, err, tc.want)
		}
	}
}

// FuzzSplitCell: any cell source is split or rejected with an error, never a panic, and chunks
// lie inside the cell in order.
func FuzzSplitCell(f *testing.F) {
	for _, s := range []string{"import \"fmt\"\nfmt.Println(1)", "func (t T) M() {}", "x := 1; func f() {}", "func(", "(((", "}}}", "package p", "var x = `"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		chunks, err := splitCell(1, src)
		if err != nil {
			return
		}
		for _, c := range chunks {
			if !strings.Contains(src, c.text) || c.line < 1 || c.col < 1 {
				t.Fatalf("chunk %+v is not in the cell %q", c, src)
			}
		}
		p, err := newProgram([]string{src})
		if err != nil {
			t.Fatalf("newProgram of a cell that splits: %v", err)
		}
		if _, err := p.source("f.ipynb", "main.go"); err != nil {
			t.Fatalf("source of a cell that splits: %v", err)
		}
	})
}

func TestPrepareShowsLastValue(t *testing.T) {
	p, err := newProgram([]string{"x := 2\nx\nx * 3", "func f() {}\nx", "x\nfunc g() {}", "<-ch", "f()"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{
		"x := 2\n_ = x\n_nbdisplay.Result(x * 3)", // a value mid-cell is discarded, the last one shown
		"_nbdisplay.Result(x)",                    // the last statement, after a declaration
		"_ = x",                                   // a declaration ends the cell: no value
		"<-ch",                                    // a receive is a statement
		"f()",                                     // calls are not shown
	} {
		if got := stmtText(p, i+1); got != want {
			t.Errorf("cell %d: %q; want %q", i+1, got, want)
		}
	}
}

func stmtText(p *program, cell int) string {
	for _, c := range p.cells[cell-1] {
		if c.kind == stmtChunk {
			return c.text
		}
	}
	return ""
}

// The fix-ups put a use of an unused variable where the variable is in scope.
func TestFixUnusedVariables(t *testing.T) {
	src := "for i, v := range xs {\n\tprintln(v)\n}\n" + // 1: range key
		"if err := f(); true {\n}\n" + // 4: if init
		"switch w := any(1).(type) {\ncase int:\ncase string:\n}\n" + // 6: type switch
		"select {\ncase m := <-ch:\n}\n" + // 10: select
		"{\n\tk := 1\n}\n" + // 13: block
		"func() {\n\tz := 2\n}()" // 16: closure
	p, err := newProgram([]string{"x := 1", src})
	if err != nil {
		t.Fatal(err)
	}
	errs := parseCompileErrors("# command-line-arguments\n" +
		"cell2.go:1:5: declared and not used: i\n" +
		"cell2.go:4:4: declared and not used: err\n" +
		"cell2.go:6:8: w declared and not used\n" +
		"cell2.go:11:6: declared and not used: m\n" +
		"cell2.go:14:2: declared and not used: k\n" +
		"cell2.go:17:2: declared and not used: z\n" +
		"cell1.go:1:8: \"os\" imported and not used\n")
	if len(errs) != 7 {
		t.Fatalf("parsed %d errors: %+v", len(errs), errs)
	}
	if !p.fix(errs) {
		t.Fatal("fix failed")
	}
	want := "for i, v := range xs { _ = i; \n\tprintln(v)\n}\n" +
		"if err := f(); true { _ = err; \n}\n" +
		"switch w := any(1).(type) {\ncase int: _ = w; \ncase string: _ = w; \n}\n" +
		"select {\ncase m := <-ch: _ = m; \n}\n" +
		"{\n\tk := 1; _ = k\n}\n" +
		"func() {\n\tz := 2; _ = z\n}()"
	if got := stmtText(p, 2); got != want {
		t.Errorf("fixed cell:\n%s\nwant:\n%s", got, want)
	}
	if !p.dropped["os"] {
		t.Error("unused import os not dropped")
	}
	if p.fix([]compileError{{cell: 2, line: 1, col: 1, msg: "undefined: q"}}) {
		t.Error("fix claims to fix an undefined name")
	}
}

func TestParseCompileErrors(t *testing.T) {
	errs := parseCompileErrors("# command-line-arguments\n" +
		"cell3.go:2:17: undefined: y\n" +
		"main.go:40: something odd\n" +
		"cell1.go:2:2: no required module provides package example.com/x; to add it:\n\tgo get example.com/x\n" +
		"cell2.go:1:6[/x/main.go:30:6]: f redeclared in this block\n\tcell1.go:8:6[/x/main.go:23:6]: other declaration of f\n")
	want := []string{
		"cell 3, line 2:17: undefined: y",
		"main.go:40: something odd",
		"cell 1, line 2:2: no required module provides package example.com/x; to add it:\n\tgo get example.com/x",
		"cell 2, line 1:6: f redeclared in this block\n\tcell 1, line 8:6: other declaration of f",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %+v", errs)
	}
	for i := range want {
		if errs[i].String() != want[i] {
			t.Errorf("error %d = %q; want %q", i, errs[i], want[i])
		}
	}
	if e := parseCompileErrors("go: cannot find main module"); len(e) != 1 || e[0].msg != "go: cannot find main module" {
		t.Errorf("non-positional output: %+v", e)
	}
}

func TestSplitMarked(t *testing.T) {
	m := func(kind string, n string) string { return "\x00gognn-notebook:tok:" + kind + n + "\x00" }
	out := "init\n" + m("c", "1") + "a\n" + m("d", "0") + "b" + m("c", "2") + "\x00gognn-notebook:tok:zz" + m("c", "3")
	segs, last := splitMarked([]byte(out), "tok")
	if last != 3 {
		t.Errorf("last cell %d; want 3", last)
	}
	var got []string
	for _, s := range segs {
		switch {
		case s.cell > 0:
			got = append(got, "cell"+string(rune('0'+s.cell)))
		case s.record >= 0:
			got = append(got, "rec"+string(rune('0'+s.record)))
		default:
			got = append(got, s.text)
		}
	}
	want := []string{"init\n", "cell1", "a\n", "rec0", "b", "cell2", "\x00gognn-notebook:tok:", "zz", "cell3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("segments %q; want %q", got, want)
	}
}

func TestRunFailureMessage(t *testing.T) {
	stderr := []segment{
		{cell: 1, record: -1}, {record: -1, text: "log from cell 1\n"},
		{cell: 2, record: -1}, {record: -1, text: "panic: boom\n\tmore\n\ngoroutine 1 [running]:\nmain.f(...)\n\tcell1.go:4\nmain.main()\n\tcell2.go:7 +0x1d\nexit status 2\n"},
	}
	err := runFailure("nb.ipynb", 2, stderr, errors.New("exit status 2"))
	want := "nb.ipynb: cell 2: panic: boom\n\tmore\n\tat cell 1, line 4 (in f)\n\tat cell 2, line 7"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	stderr = []segment{{cell: 3, record: -1}, {record: -1, text: "2026/01/01 loading: no such file\n"}}
	err = runFailure("nb.ipynb", 3, stderr, errors.New("exit status 1"))
	want = "nb.ipynb: cell 3: exit status 1\n\t2026/01/01 loading: no such file"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
}

func TestRedefine(t *testing.T) {
	p, err := newProgram([]string{"err := f()\nx := 1", "x := 2\nif err := g(); err != nil {\n}\nerr := h()"})
	if err != nil {
		t.Fatal(err)
	}
	errs := parseCompileErrors("cell2.go:1:3: no new variables on left side of :=\ncell2.go:4:5: no new variables on left side of :=\n")
	if !p.fix(errs) {
		t.Fatal("fix failed")
	}
	want := "x =  2\nif err := g(); err != nil {\n}\nerr =  h()"
	if got := stmtText(p, 2); got != want {
		t.Errorf("fixed cell %q; want %q", got, want)
	}
}

func TestHints(t *testing.T) {
	p, err := newProgram([]string{"func f() int { return n }", "m := n\nn := 3", "func g() {}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		e    compileError
		want string
	}{
		{compileError{cell: 1, line: 1, col: 23, msg: "undefined: n"}, "n is a variable of cell 2, and variables live in the notebook's main function"},
		{compileError{cell: 2, line: 1, col: 6, msg: "undefined: n"}, ""}, // declared in the same cell, below: Go's message says enough
		{compileError{cell: 1, line: 1, col: 1, msg: "undefined: q"}, ""},
		{compileError{cell: 3, line: 1, col: 6, msg: "g redeclared in this block\n\tcell 1, line 1:6: other declaration of g"}, "declared once per notebook"},
	} {
		if got := p.hint(tc.e); !strings.Contains(got, tc.want) || (tc.want == "" && got != "") {
			t.Errorf("hint(%v) = %q; want %q", tc.e, got, tc.want)
		}
	}
	p2, _ := newProgram([]string{"fmt.Println(k)", "k := 1"})
	if got := p2.hint(compileError{cell: 1, line: 1, col: 13, msg: "undefined: k"}); got != "k is declared later, in cell 2" {
		t.Errorf("hint = %q", got)
	}
}

func TestFixUnusedValues(t *testing.T) {
	p, err := newProgram([]string{"xs := []int{1}\nlen(xs)\nfloat64(len(xs))"})
	if err != nil {
		t.Fatal(err)
	}
	errs := parseCompileErrors("cell1.go:2:1: len(xs) (value of type int) is not used\ncell1.go:3:1: float64(len(xs)) (value of type float64) is not used\n")
	if !p.fix(errs) {
		t.Fatal("fix failed")
	}
	want := "xs := []int{1}\n_ = len(xs)\n_nbdisplay.Result(float64(len(xs)))"
	if got := stmtText(p, 1); got != want {
		t.Errorf("fixed cell %q; want %q", got, want)
	}
}
