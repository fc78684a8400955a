package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// notebook is a parsed .ipynb file. The whole JSON tree is kept, so fields the runner does not
// know (cell ids, metadata, widgets) survive a rewrite unchanged; the runner only replaces the
// outputs and execution counts of code cells.
type notebook struct {
	root  map[string]any
	cells []nbCell
}

// nbCell is one cell of the notebook.
type nbCell struct {
	index  int    // position in the notebook's cells array
	code   int    // 1-based number among code cells, 0 for other cells
	kind   string // "code", "markdown" or "raw"
	source string
	obj    map[string]any
}

// parseNotebook reads and validates an nbformat 4 notebook of the gophernotes kernel. Errors say
// which field is wrong and what it should be; the caller adds the file name.
func parseNotebook(data []byte) (*notebook, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keep numbers as written
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not a JSON notebook: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("not a JSON notebook: more data after the notebook object")
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a notebook: the file holds a JSON %s, not an object", jsonKind(v))
	}
	if n, ok := root["nbformat"].(json.Number); !ok || n.String() != "4" {
		return nil, fmt.Errorf("nbformat is %s; the runner reads nbformat 4 notebooks (as Jupyter 4 and later write)", describe(root["nbformat"]))
	}
	if m, ok := root["nbformat_minor"]; ok {
		if _, ok := m.(json.Number); !ok {
			return nil, fmt.Errorf("nbformat_minor is %s, not a number", describe(m))
		}
	}
	if err := checkKernel(root["metadata"]); err != nil {
		return nil, err
	}
	list, ok := root["cells"].([]any)
	if !ok {
		return nil, fmt.Errorf("cells is %s, not a list of cells", describe(root["cells"]))
	}
	nb := &notebook{root: root}
	code := 0
	for i, c := range list {
		obj, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("cells[%d] is %s, not an object", i, describe(c))
		}
		kind, _ := obj["cell_type"].(string)
		if kind != "code" && kind != "markdown" && kind != "raw" {
			return nil, fmt.Errorf("cells[%d]: cell_type is %s; want \"code\", \"markdown\" or \"raw\"", i, describe(obj["cell_type"]))
		}
		src, err := sourceText(obj["source"])
		if err != nil {
			return nil, fmt.Errorf("cells[%d] (%s): %w", i, kind, err)
		}
		if m, ok := obj["metadata"]; ok {
			if _, ok := m.(map[string]any); !ok {
				return nil, fmt.Errorf("cells[%d] (%s): metadata is %s, not an object", i, kind, describe(m))
			}
		}
		cell := nbCell{index: i, kind: kind, source: src, obj: obj}
		if kind == "code" {
			code++
			cell.code = code
			if o, ok := obj["outputs"]; ok {
				if _, ok := o.([]any); !ok {
					return nil, fmt.Errorf("cells[%d] (code cell %d): outputs is %s, not a list", i, code, describe(o))
				}
			}
			if n, ok := obj["execution_count"]; ok && n != nil {
				if _, ok := n.(json.Number); !ok {
					return nil, fmt.Errorf("cells[%d] (code cell %d): execution_count is %s, not a number or null", i, code, describe(n))
				}
			}
		}
		nb.cells = append(nb.cells, cell)
	}
	return nb, nil
}

// checkKernel requires the gophernotes kernel, so that a Python notebook is not fed to the Go
// compiler and a notebook without a kernel is not opened in the wrong one.
func checkKernel(md any) error {
	const want = `metadata.kernelspec {"name": "gophernotes", "language": "go", "display_name": "Go"}`
	m, ok := md.(map[string]any)
	if !ok {
		return fmt.Errorf("metadata is %s; a gophernotes notebook has %s", describe(md), want)
	}
	ks, ok := m["kernelspec"].(map[string]any)
	if !ok {
		return fmt.Errorf("metadata.kernelspec is %s; set %s", describe(m["kernelspec"]), want)
	}
	if name, _ := ks["name"].(string); name != "gophernotes" {
		return fmt.Errorf("metadata.kernelspec.name is %s; the runner runs gophernotes (Go) notebooks: set %s", describe(ks["name"]), want)
	}
	if lang, ok := ks["language"]; ok && lang != "go" {
		return fmt.Errorf("metadata.kernelspec.language is %s, not \"go\"", describe(lang))
	}
	return nil
}

// sourceText joins a cell source, which nbformat allows as one string or a list of strings.
func sourceText(v any) (string, error) {
	switch s := v.(type) {
	case string:
		return s, nil
	case []any:
		var b strings.Builder
		for i, line := range s {
			l, ok := line.(string)
			if !ok {
				return "", fmt.Errorf("source[%d] is %s; source is a string or a list of strings", i, describe(line))
			}
			b.WriteString(l)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("source is %s; source is a string or a list of strings", describe(v))
}

// setOutputs replaces the outputs of the code cells, outputs[i] going to code cell i+1, and
// numbers their executions 1..n. It returns n.
func (nb *notebook) setOutputs(outputs [][]any) int {
	n := 0
	for _, c := range nb.cells {
		if c.kind != "code" {
			continue
		}
		var out []any
		if c.code <= len(outputs) {
			out = outputs[c.code-1]
		}
		if out == nil {
			out = []any{}
		}
		c.obj["outputs"] = out
		c.obj["execution_count"] = json.Number(fmt.Sprint(c.code))
		n++
	}
	return n
}

// marshal writes the notebook as Jupyter does: keys sorted, one-space indent, no HTML escaping,
// a final newline.
func (nb *notebook) marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb.root); err != nil { // Encode ends with a newline
		return nil, err
	}
	return buf.Bytes(), nil
}

// splitLines splits text into lines as nbformat stores multi-line strings.
func splitLines(s string) []any { return cellprog.SplitLines(s) }

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	}
	return "object"
}

// describe shows a JSON value in an error: short values as they are, others by kind.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "missing or null"
	case json.Number:
		return v.String()
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("%q", v)
	case bool:
		return fmt.Sprint(v)
	}
	if k := jsonKind(v); k == "object" {
		return "an object"
	} else {
		return "a " + k
	}
}
