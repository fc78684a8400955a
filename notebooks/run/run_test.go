package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests build and run real programs with the Go toolchain: a few seconds in all.

func toolchainConfig(t *testing.T) config {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: the runner needs it to build notebooks")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	return config{Root: root, GoCmd: goCmd, Quick: true, Timeout: 2 * time.Minute, Log: t.Logf}
}

func copyNotebook(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunWritesOutputs(t *testing.T) {
	cfg := toolchainConfig(t)
	path := copyNotebook(t, "works.ipynb")
	before, _ := os.ReadFile(path)

	// -check runs the notebook and leaves the file alone.
	n, err := runFile(context.Background(), cfg, true, path, "works.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("ran %d code cells; want 5", n)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Fatal("-check wrote the notebook")
	}

	if _, err := runFile(context.Background(), cfg, false, path, "works.ipynb"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := parseNotebook(data)
	if err != nil {
		t.Fatalf("the written notebook does not parse: %v", err)
	}
	if again, _ := nb.marshal(); !bytes.Equal(again, data) {
		t.Error("the written notebook is not in the runner's stable format")
	}
	orig, _ := parseNotebook(before)
	var code []nbCell
	for i, c := range nb.cells {
		if c.source != orig.cells[i].source || c.kind != orig.cells[i].kind {
			t.Errorf("cells[%d] changed", i)
		}
		if c.kind == "markdown" {
			if _, ok := c.obj["outputs"]; ok {
				t.Errorf("markdown cells[%d] got outputs", i)
			}
		}
		if c.kind == "code" {
			code = append(code, c)
		}
	}
	for i, c := range code {
		if got := c.obj["execution_count"]; got == nil || got.(interface{ String() string }).String() != string(rune('1'+i)) {
			t.Errorf("code cell %d: execution_count %v", i+1, got)
		}
	}

	outs := func(cell int) []map[string]any {
		var list []map[string]any
		for _, o := range code[cell-1].obj["outputs"].([]any) {
			list = append(list, o.(map[string]any))
		}
		return list
	}
	text := func(o map[string]any, key string) string {
		v := o[key]
		if d, ok := o["data"].(map[string]any); ok && key != "text" {
			v = d[key]
		}
		var b strings.Builder
		for _, l := range v.([]any) {
			b.WriteString(l.(string))
		}
		return b.String()
	}
	kinds := func(cell int) string {
		var k []string
		for _, o := range outs(cell) {
			s := o["output_type"].(string)
			if s == "stream" {
				s += ":" + o["name"].(string)
			}
			k = append(k, s)
		}
		return strings.Join(k, " ")
	}

	// Cell 1: a function and a variable, printed.
	if k := kinds(1); k != "stream:stdout" {
		t.Errorf("cell 1 outputs %q", k)
	} else if got := text(outs(1)[0], "text"); got != "square: 9\n" {
		t.Errorf("cell 1 printed %q", got)
	}
	// Cell 2: the variable of cell 1, and Markdown between two prints, in order.
	if k := kinds(2); k != "stream:stdout display_data stream:stdout" {
		t.Errorf("cell 2 outputs %q", k)
	} else {
		o := outs(2)
		if got := text(o[0], "text"); got != "sum of squares below 4: 14\n" {
			t.Errorf("cell 2 printed %q", got)
		}
		if got := text(o[1], "text/markdown"); got != "**total** = 14" {
			t.Errorf("cell 2 markdown %q", got)
		}
		if got := text(o[2], "text"); got != "after the markdown\n" {
			t.Errorf("cell 2 printed %q after the markdown", got)
		}
	}
	// Cell 3: a PNG that decodes to the 4x4 image drawn.
	if k := kinds(3); k != "display_data" {
		t.Errorf("cell 3 outputs %q", k)
	} else {
		b64, _ := outs(3)[0]["data"].(map[string]any)["image/png"].(string)
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("cell 3 image/png is not base64: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("cell 3 image/png is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 4 {
			t.Errorf("cell 3 image is %v", b)
		}
	}
	// Cell 4 is empty.
	if k := kinds(4); k != "" {
		t.Errorf("empty cell 4 outputs %q", k)
	}
	// Cell 5: unused variables accepted, Display shows once, -quick reaches the program, and the
	// last line's value is the cell's result.
	if k := kinds(5); k != "stream:stdout display_data stream:stdout execute_result" {
		t.Errorf("cell 5 outputs %q", k)
	} else {
		o := outs(5)
		if got := text(o[1], "text/html"); got != "<b>once</b>" {
			t.Errorf("cell 5 html %q", got)
		}
		if got := text(o[2], "text"); got != "quick: true\n" {
			t.Errorf("cell 5 printed %q; want quick: true", got)
		}
		if got := text(o[3], "text/plain"); got != "28" {
			t.Errorf("cell 5 result %q", got)
		}
	}
}

func TestRunCompileError(t *testing.T) {
	cfg := toolchainConfig(t)
	path := copyNotebook(t, "compile_error.ipynb")
	before, _ := os.ReadFile(path)
	_, err := runFile(context.Background(), cfg, false, path, "compile_error.ipynb")
	if err == nil {
		t.Fatal("a notebook that does not compile ran")
	}
	want := "compile_error.ipynb: cell 2, line 2:17: undefined: undefinedName"
	if err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("a failed notebook was rewritten")
	}
}

func TestRunPanic(t *testing.T) {
	cfg := toolchainConfig(t)
	path := copyNotebook(t, "panic.ipynb")
	_, err := runFile(context.Background(), cfg, true, path, "panic.ipynb")
	if err == nil {
		t.Fatal("a notebook that panics passed")
	}
	want := "panic.ipynb: cell 3: panic: runtime error: index out of range [5] with length 3\n" +
		"\tat cell 1, line 4 (in at)\n" +
		"\tat cell 3, line 2"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error:\n%v\nwant it to start with:\n%s", err, want)
	}
}

func TestRunTimeout(t *testing.T) {
	cfg := toolchainConfig(t)
	cfg.Timeout = 1500 * time.Millisecond
	path := filepath.Join(t.TempDir(), "slow.ipynb")
	nb := `{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": "import \"time\"\n"},
		{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": "time.Sleep(time.Minute)"}],
		"metadata": {"kernelspec": {"display_name": "Go", "language": "go", "name": "gophernotes"}}, "nbformat": 4, "nbformat_minor": 4}`
	if err := os.WriteFile(path, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := runFile(context.Background(), cfg, true, path, "slow.ipynb")
	if err == nil || !strings.Contains(err.Error(), "timed out after 1.5s") {
		t.Fatalf("error %v; want a timeout", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the timeout took %v to stop the program", d)
	}
	t.Log(err)
}

// A later cell may declare a variable again, with := or var and another type, as gophernotes
// allows; a closure made before keeps the variable it captured.
func TestRunRedeclaresVariables(t *testing.T) {
	cfg := toolchainConfig(t)
	path := filepath.Join(t.TempDir(), "redeclare.ipynb")
	cell := func(src string) string {
		return `{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": ` + strconv.Quote(src) + `}`
	}
	nb := `{"cells": [` + cell("import \"fmt\"\nx := 1\nshow := func() { fmt.Println(\"old\", x) }") + `, ` +
		cell("var x = \"two\"\nfmt.Println(x)\nshow()") + `, ` + cell("x := 3.5\nfmt.Println(x)") + `],
		"metadata": {"kernelspec": {"display_name": "Go", "language": "go", "name": "gophernotes"}}, "nbformat": 4, "nbformat_minor": 4}`
	if err := os.WriteFile(path, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runFile(context.Background(), cfg, false, path, "redeclare.ipynb"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	parsed, err := parseNotebook(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range parsed.cells {
		for _, o := range c.obj["outputs"].([]any) {
			text, _ := sourceText(o.(map[string]any)["text"])
			got = append(got, text)
		}
	}
	if want := []string{"two\nold 1\n", "3.5\n"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("outputs %q; want %q", got, want)
	}
}
