package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

const kernel = `"metadata": {"kernelspec": {"name": "gophernotes", "language": "go", "display_name": "Go"}}`

func TestParseNotebookErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`[1]`, "JSON list, not an object"},
		{`{"nbformat": 4`, "not a JSON notebook"},
		{`{"nbformat": 4, ` + kernel + `, "cells": []} {}`, "more data after"},
		{`{"nbformat": 3, ` + kernel + `, "cells": []}`, "nbformat is 3"},
		{`{` + kernel + `, "cells": []}`, "nbformat is missing"},
		{`{"nbformat": 4, "nbformat_minor": "x", ` + kernel + `, "cells": []}`, "nbformat_minor"},
		{`{"nbformat": 4, "cells": []}`, "metadata is missing"},
		{`{"nbformat": 4, "metadata": {}, "cells": []}`, "metadata.kernelspec is missing"},
		{`{"nbformat": 4, "metadata": {"kernelspec": {"name": "python3"}}, "cells": []}`, `kernelspec.name is "python3"`},
		{`{"nbformat": 4, "metadata": {"kernelspec": {"name": "gophernotes", "language": "python"}}, "cells": []}`, "language"},
		{`{"nbformat": 4, ` + kernel + `}`, "cells is missing"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [3]}`, "cells[0] is 3, not an object"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "sql", "source": ""}]}`, `cells[0]: cell_type is "sql"`},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "code"}]}`, "cells[0] (code): source is missing"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "code", "source": ["a", 1]}]}`, "source[1] is 1"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "markdown", "source": "", "metadata": []}]}`, "metadata is a list"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "code", "source": "", "outputs": {}}]}`, "code cell 1): outputs is an object"},
		{`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "code", "source": "", "execution_count": "1"}]}`, "execution_count"},
	} {
		_, err := parseNotebook([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseNotebook(%s) = %v; want an error containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestParseNotebook(t *testing.T) {
	nb, err := parseNotebook([]byte(`{"nbformat": 4, "nbformat_minor": 4, ` + kernel + `, "cells": [
		{"cell_type": "markdown", "source": ["# T\n", "x"]},
		{"cell_type": "code", "source": "a := 1", "execution_count": null, "outputs": []},
		{"cell_type": "raw", "source": ""},
		{"cell_type": "code", "source": ["b := 2\n", "_ = b"], "id": "k"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range nb.cells {
		got = append(got, c.kind+":"+string(rune('0'+c.code))+":"+c.source)
	}
	want := []string{"markdown:0:# T\nx", "code:1:a := 1", "raw:0:", "code:2:b := 2\n_ = b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells = %q; want %q", got, want)
	}
}

// A notebook Jupyter wrote comes back byte for byte when the runner writes it unchanged.
func TestMarshalKeepsJupyterFormat(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.ipynb")
	if len(files) == 0 {
		t.Fatal("no testdata notebooks")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		nb, err := parseNotebook(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := nb.marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("%s: marshal changed the file:\n%s", f, out)
		}
	}
}

func TestMarshalEscaping(t *testing.T) {
	nb, err := parseNotebook([]byte(`{"nbformat": 4, "nbformat_minor": 4, ` + kernel + `, "cells": [{"cell_type": "markdown", "source": "<b>&</b> é 1.50", "metadata": {"x": 1.50}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := nb.marshal()
	for _, want := range []string{`"<b>&</b> é 1.50"`, `"x": 1.50`, "\n \"cells\": [\n  {\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("marshal output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(string(out), "}\n") {
		t.Errorf("marshal output does not end with a newline")
	}
}

// splitLines follows Python's str.splitlines(True), as nbformat does.
func TestSplitLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []any
	}{
		{"", []any{}},
		{"a", []any{"a"}},
		{"a\n", []any{"a\n"}},
		{"a\nb", []any{"a\n", "b"}},
		{"a\r\nb\rc\n\n", []any{"a\r\n", "b\r", "c\n", "\n"}},
		{"a\vb\fc\x1cd\u0085e\u2028f", []any{"a\v", "b\f", "c\x1c", "d\u0085", "e\u2028", "f"}},
	} {
		if got := splitLines(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLines(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzParseNotebook: the parser never panics, and what it accepts survives a write and a reread
// with the same cells.
func FuzzParseNotebook(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.ipynb")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"nbformat": 4, ` + kernel + `, "cells": [{"cell_type": "code", "source": ["x := 1\n"], "outputs": [1]}]}`))
	f.Add([]byte(`{"nbformat": 4.0, "cells": null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := parseNotebook(data)
		if err != nil {
			return
		}
		nb.setOutputs([][]any{{cellprog.Stream("stdout", "x\n")}})
		out, err := nb.marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		nb2, err := parseNotebook(out)
		if err != nil {
			t.Fatalf("reparse of written notebook: %v\n%s", err, out)
		}
		if len(nb2.cells) != len(nb.cells) {
			t.Fatalf("cells: %d after rewrite, %d before", len(nb2.cells), len(nb.cells))
		}
		for i := range nb.cells {
			a, b := nb.cells[i], nb2.cells[i]
			if a.kind != b.kind || a.code != b.code || (a.source != b.source && strings.ToValidUTF8(a.source, "\uFFFD") != b.source) {
				t.Fatalf("cell %d changed: %q %q -> %q %q", i, a.kind, a.source, b.kind, b.source)
			}
		}
	})
}
