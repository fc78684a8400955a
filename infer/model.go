// Package infer runs the forward pass of the node classifiers that package models trains and
// saves (GCN, GraphSAGE with every aggregator, GAT) in plain Go, without Gorgonia: it reads
// the model files that models.Save and models.SaveTo write (package modelfile) and computes the
// logits of every node of a graph from its features, in evaluation mode (no dropout). It is the
// inference path of programs built without the training stack, such as the serving
// WebAssembly build of the JavaScript package (engine, tag gognn_serve).
//
// The products and gathers run on the SIMD kernels of package ops/asm (pure Go under wasm and
// with the tag noasm). Work splits by destination row over GOMAXPROCS goroutines, so a result
// does not depend on the number of threads. Outputs equal those of the Gorgonia models built by
// models.Build within float32 rounding (the sums are taken in another order).
package infer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/internal/arch"
	"github.com/gnnlab/gognn/modelfile"
)

// Architecture is the architecture JSON of a model file that models.Save wrote: the fields of
// models.Architecture, with the same names and meaning (a test keeps the two in step).
//
//	gcn:  In -> Hidden -> Classes
//	gat:  In -> Heads x Hidden (concatenated, ELU) -> Classes, averaged over OutHeads
//	sage: In -> Hidden -> Classes, both layers aggregating with Aggr (mean, max, sum or lstm)
type Architecture struct {
	Model    string  `json:"model"`
	In       int     `json:"in"`
	Hidden   int     `json:"hidden"`
	Heads    int     `json:"heads,omitempty"`
	Classes  int     `json:"classes"`
	OutHeads int     `json:"out_heads,omitempty"`
	Aggr     string  `json:"aggr,omitempty"`
	Dropout  float64 `json:"dropout"`
}

// validate reports the first field that New cannot use: the check models.Architecture's
// Validate makes (package internal/arch).
func (a Architecture) validate() error {
	if err := arch.Check(a.Model, a.Aggr, a.In, a.Hidden, a.Heads, a.Classes, a.OutHeads, a.Dropout); err != nil {
		return fmt.Errorf("infer: %w", err)
	}
	return nil
}

// Model is a loaded node classifier: two layers of the kind its Architecture names, with
// their parameters. It is immutable and safe for concurrent use.
type Model struct {
	Arch   Architecture
	layer1 layer
	layer2 layer
}

// layer is one graph layer of a model: its output (g.NumDst, out) from x (g.NumSrc, in), over
// the graph the model runs on (see Model.graph), followed by the activation when it is the
// first layer.
type layer interface {
	forward(g *graph.CSR, x []float32) []float32
}

// Load reads a model file from r, to its end (modelfile.ReadFrom checks every byte), and
// builds the model its architecture describes. A damaged file gives modelfile's error, an
// architecture or set of tensors that is not a models.Save file of a supported model an error
// naming what differs.
func Load(r io.Reader) (*Model, error) {
	f, values, err := modelfile.ReadFrom(r)
	if err != nil {
		return nil, err
	}
	var arch Architecture
	dec := json.NewDecoder(bytes.NewReader(f.Architecture))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&arch); err != nil {
		return nil, fmt.Errorf("infer: architecture %s: %w; was the file written by models.Save?", f.Architecture, err)
	}
	shapes := make(map[string][]int, len(f.Tensors))
	for _, t := range f.Tensors {
		shapes[t.Name] = t.Shape
	}
	return newModel(arch, values, shapes)
}

// New builds the model arch describes from its parameters by name (as models.Load returns
// them: float32, row-major), each of the size models.Build gives it.
func New(arch Architecture, values map[string][]float32) (*Model, error) {
	return newModel(arch, values, nil)
}

// newModel checks that values holds exactly the parameters arch needs, of their sizes (and,
// when shapes is not nil, their shapes), and builds the model.
func newModel(arch Architecture, values map[string][]float32, shapes map[string][]int) (*Model, error) {
	if err := arch.validate(); err != nil {
		return nil, err
	}
	p := &params{values: values, shapes: shapes, used: map[string]bool{}}
	m := &Model{Arch: arch}
	switch arch.Model {
	case "gcn":
		m.layer1 = p.gcn("gcn1", arch.In, arch.Hidden, true)
		m.layer2 = p.gcn("gcn2", arch.Hidden, arch.Classes, false)
	case "sage":
		m.layer1 = p.sage("sage1", arch.Aggr, arch.In, arch.Hidden, arch.Hidden, true)
		m.layer2 = p.sage("sage2", arch.Aggr, arch.Hidden, arch.Classes, arch.Hidden, false)
	case "gat":
		m.layer1 = p.gat("gat1", arch.In, arch.Hidden, arch.Heads, true)
		m.layer2 = p.gat("gat2", arch.Heads*arch.Hidden, arch.Classes, arch.OutHeads, false)
	}
	var extra []string
	for name := range values {
		if !p.used[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		p.problems = append(p.problems, fmt.Sprintf("the file's tensor %s is no parameter of the model", name))
	}
	if len(p.problems) > 0 {
		return nil, fmt.Errorf("infer: model %s: %s; the file must be one that models.Save wrote for this architecture", arch.Model, strings.Join(p.problems, "; "))
	}
	return m, nil
}

// Forward returns the model's logits, a (g.NumDst, Classes) row-major matrix, for the node
// features x, a (g.NumDst, In) row-major matrix. g must be square (an ordinary graph, stored
// by destination as graph.CSR); GCN and GAT add the self-loops they need themselves, as the
// Gorgonia layers do.
func (m *Model) Forward(g *graph.CSR, x []float32) ([]float32, error) {
	if g == nil {
		return nil, fmt.Errorf("infer: Forward was given no graph")
	}
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("infer: Forward needs a square graph (every node a source and a destination); this one has %d sources and %d destinations", g.NumSrc, g.NumDst)
	}
	if len(x) != g.NumDst*m.Arch.In {
		return nil, fmt.Errorf("infer: Forward: %d feature values for %d nodes of %d features: want %d", len(x), g.NumDst, m.Arch.In, g.NumDst*m.Arch.In)
	}
	g, err := m.graph(g)
	if err != nil {
		return nil, fmt.Errorf("infer: Forward: %w", err)
	}
	h := m.layer1.forward(g, x)
	return m.layer2.forward(g, h), nil
}

// graph returns the graph both layers run on: GCN's normalised one, D^-1/2 (A+I) D^-1/2; GAT's
// with self-loops (each node attends to itself); GraphSAGE's as given.
func (m *Model) graph(g *graph.CSR) (*graph.CSR, error) {
	switch m.Arch.Model {
	case "gcn":
		return g.GCNNorm()
	case "gat":
		return g.AddSelfLoops(1)
	}
	return g, nil
}

// params hands out a model file's parameters by name, recording what is missing or misshapen.
type params struct {
	values   map[string][]float32
	shapes   map[string][]int
	used     map[string]bool
	problems []string
}

// get returns the parameter name of the given shape, or nil after recording the problem.
func (p *params) get(name string, shape ...int) []float32 {
	p.used[name] = true
	v, ok := p.values[name]
	size := 1
	for _, d := range shape {
		size *= d
	}
	switch {
	case !ok:
		p.problems = append(p.problems, fmt.Sprintf("parameter %s %v is missing from the file", name, shape))
		return nil
	case p.shapes != nil && !slices.Equal(p.shapes[name], shape):
		p.problems = append(p.problems, fmt.Sprintf("parameter %s has shape %v in the model but %v in the file", name, shape, p.shapes[name]))
		return nil
	case len(v) != size:
		p.problems = append(p.problems, fmt.Sprintf("parameter %s has shape %v in the model but %d values in the file", name, shape, len(v)))
		return nil
	}
	return v
}

// linear returns the dense layer name.weight (in, out) and, with bias, name.bias (out).
func (p *params) linear(name string, in, out int, bias bool) linear {
	l := linear{in: in, out: out, w: p.get(name+".weight", in, out)}
	if bias {
		l.b = p.get(name+".bias", out)
	}
	return l
}
