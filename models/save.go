package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/internal/arch"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/nn"
)

// Architecture holds the hyper-parameters that rebuild a GCN, GAT or GraphSAGE model without
// knowing it in advance; Save stores it as the model file's architecture JSON and Load returns
// it, for Build. Fields a model does not use stay zero (and are omitted from the JSON):
//
//	gcn:  In -> Hidden -> Classes                       (Heads, OutHeads, Aggr unused)
//	gat:  In -> Heads x Hidden (concat) -> Classes, mean over OutHeads   (Aggr unused)
//	sage: In -> Hidden -> Classes, both layers aggregating with Aggr (Heads, OutHeads unused),
//	      run over the full graph by Build
type Architecture struct {
	Model    string  `json:"model"` // "gcn", "gat" or "sage"
	In       int     `json:"in"`
	Hidden   int     `json:"hidden"`
	Heads    int     `json:"heads,omitempty"`
	Classes  int     `json:"classes"`
	OutHeads int     `json:"out_heads,omitempty"`
	Aggr     string  `json:"aggr,omitempty"` // sage: mean, max, sum or lstm
	Dropout  float64 `json:"dropout"`
}

// Validate reports the first field that Build could not use.
func (a Architecture) Validate() error {
	if err := arch.Check(a.Model, a.Aggr, a.In, a.Hidden, a.Heads, a.Classes, a.OutHeads, a.Dropout); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	return nil
}

// Model is a node classifier that Build returns: GCN, GAT or GraphSAGE (over the full graph).
type Model interface {
	// Forward returns the logits, shape (nodes, classes).
	Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error)
	// Learnables returns every parameter, in creation order.
	Learnables() G.Nodes
	// Decayed returns the parameters the paper applies weight decay to.
	Decayed() G.Nodes
}

var (
	_ Model = (*GCN)(nil)
	_ Model = (*GAT)(nil)
)

// Build adds the model that arch describes to the context's graph, with fresh parameters (or
// the context's stored ones of the same names and shapes); Restore then loads saved values.
func Build(c *nn.Context, arch Architecture) (Model, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	switch arch.Model {
	case "gat":
		return NewGAT(c, arch)
	case "sage":
		m, err := NewSAGE(c, arch.In, arch.Hidden, arch.Classes, nn.Aggregator(arch.Aggr), arch.Dropout)
		if err != nil {
			return nil, err
		}
		return fullGraphSAGE{m}, nil
	}
	return NewGCN(c, arch.In, arch.Hidden, arch.Classes, arch.Dropout)
}

// fullGraphSAGE runs a GraphSAGE model over whole graphs (graph.CSR.FullBlocks), as a Model.
type fullGraphSAGE struct{ *SAGE }

func (m fullGraphSAGE) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	return m.SAGE.Forward(c, a.FullBlocks(2), x)
}

// Decayed returns every parameter: GraphSAGE training decays them all.
func (m fullGraphSAGE) Decayed() G.Nodes { return m.Learnables() }

// Save writes arch and every parameter of params (name, shape and values, converted to
// float32) to path in precision p (see package modelfile: fp32 is exact, fp16 and int8 are
// lossy). The file is replaced atomically: a failed or interrupted Save, even a killed
// process, leaves any previous file at path as it was.
func Save(path string, arch Architecture, params G.Nodes, p modelfile.Precision) error {
	tensors, err := saveTensors(arch, params)
	if err != nil {
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	return modelfile.Write(path, arch, tensors, p)
}

// SaveTo writes the model file that Save would store (the same bytes) to w.
func SaveTo(w io.Writer, arch Architecture, params G.Nodes, p modelfile.Precision) error {
	tensors, err := saveTensors(arch, params)
	if err != nil {
		return fmt.Errorf("models: SaveTo: %w", err)
	}
	return modelfile.WriteTo(w, arch, tensors, p)
}

// saveTensors checks arch and returns the parameters as model file tensors.
func saveTensors(arch Architecture, params G.Nodes) ([]modelfile.Tensor, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	tensors := make([]modelfile.Tensor, len(params))
	for i, n := range params {
		data, err := float32s(n)
		if err != nil {
			return nil, err
		}
		tensors[i] = modelfile.Tensor{Name: n.Name(), Shape: slices.Clone([]int(n.Shape())), Data: data}
	}
	return tensors, nil
}

// float32s returns a parameter's values as float32: its own backing slice for a float32
// parameter, a rounded copy for a float64 one.
func float32s(n *G.Node) ([]float32, error) {
	t, ok := n.Value().(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("parameter %s has value %T, want a *tensor.Dense", n.Name(), n.Value())
	}
	switch t.Dtype() {
	case tensor.Float32:
		return t.Float32s(), nil
	case tensor.Float64:
		d := t.Float64s()
		out := make([]float32, len(d))
		for i, v := range d {
			out[i] = float32(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("parameter %s has dtype %v, want float32 or float64", n.Name(), t.Dtype())
}

// Load reads and checks the model file at path (package modelfile checks every byte) and
// returns its architecture and its parameters as float32 by name, dequantised. A damaged file
// gives an error wrapping modelfile.ErrFormat (the module-wide ErrCorrupt: errors.Is also
// tells a *modelfile.ChecksumError, TruncatedError or MagicError apart), a file of another
// format version a *modelfile.VersionError.
func Load(path string) (Architecture, map[string][]float32, error) {
	f, values, err := modelfile.Read(path)
	if err != nil {
		return Architecture{}, nil, err
	}
	arch, err := fileArchitecture(f)
	if err != nil {
		return Architecture{}, nil, fmt.Errorf("models: load %s: %w", path, err)
	}
	return arch, values, nil
}

// LoadFrom is Load of a model file read from r, to its end, with the same checks and errors.
func LoadFrom(r io.Reader) (Architecture, map[string][]float32, error) {
	f, values, err := modelfile.ReadFrom(r)
	if err != nil {
		return Architecture{}, nil, err
	}
	arch, err := fileArchitecture(f)
	if err != nil {
		return Architecture{}, nil, fmt.Errorf("models: LoadFrom: %w", err)
	}
	return arch, values, nil
}

// fileArchitecture decodes and validates a model file's architecture.
func fileArchitecture(f *modelfile.File) (Architecture, error) {
	var arch Architecture
	dec := json.NewDecoder(bytes.NewReader(f.Architecture))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&arch); err != nil {
		return Architecture{}, fmt.Errorf("architecture %s: %w; was the file written by models.Save?", f.Architecture, err)
	}
	if err := arch.Validate(); err != nil {
		return Architecture{}, err
	}
	return arch, nil
}

// Restore copies values into the parameters' tensors in place (so the context's store, which
// shares them, and every graph built over it see the restored model). Every parameter must
// have a value of its size and every value a parameter; otherwise Restore changes nothing and
// returns an error naming each offending parameter.
func Restore(params G.Nodes, values map[string][]float32) error {
	var problems []string
	seen := make(map[string]bool, len(params))
	for _, n := range params {
		name := n.Name()
		seen[name] = true
		v, ok := values[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("parameter %s %s is missing from the file", name, shapeString(n.Shape())))
			continue
		}
		if size := n.Shape().TotalSize(); len(v) != size {
			problems = append(problems, fmt.Sprintf("parameter %s has shape %s in the model but %d values in the file", name, shapeString(n.Shape()), len(v)))
			continue
		}
		t, ok := n.Value().(*tensor.Dense)
		if !ok || (t.Dtype() != tensor.Float32 && t.Dtype() != tensor.Float64) {
			problems = append(problems, fmt.Sprintf("parameter %s has value %T of dtype %v, want a float32 or float64 *tensor.Dense", name, n.Value(), n.Dtype()))
		}
	}
	var extra []string
	for name := range values {
		if !seen[name] {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		problems = append(problems, fmt.Sprintf("the file's tensor %s is no parameter of the model", name))
	}
	if len(problems) > 0 {
		return errors.New("models: restore: " + strings.Join(problems, "; ") + "; build the model from the file's architecture (models.Build)")
	}
	for _, n := range params {
		t := n.Value().(*tensor.Dense)
		v := values[n.Name()]
		if t.Dtype() == tensor.Float32 {
			copy(t.Float32s(), v)
			continue
		}
		d := t.Float64s()
		for i, x := range v {
			d[i] = float64(x)
		}
	}
	return nil
}

// shapeString formats a shape as "(1433, 16)".
func shapeString(s tensor.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
