package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// SGC is the classifier of Wu et al., "Simplifying Graph Convolutional Networks" (ICML 2019):
// logits = P^K X W + b (nn.SGC), with P^K X computed once. Training decays every parameter and
// uses no dropout.
type SGC struct {
	Conv *nn.SGC
}

// NewSGC adds an SGC model with k propagation steps to the context's graph.
func NewSGC(c *nn.Context, in, classes, k int) (*SGC, error) {
	conv, err := nn.NewSGC(c, "sgc", in, classes, k)
	if err != nil {
		return nil, err
	}
	return &SGC{Conv: conv}, nil
}

// Forward returns the logits, shape (nodes, classes). Sparse features are made dense first:
// P^K X is dense.
func (m *SGC) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	xn, err := denseNode(c, x)
	if err != nil {
		return nil, err
	}
	return m.Conv.Forward(a, xn)
}

// Learnables returns every parameter.
func (m *SGC) Learnables() G.Nodes { return m.Conv.Learnables() }

// Decayed returns every parameter, as the paper's training decays them all.
func (m *SGC) Decayed() G.Nodes { return m.Conv.Learnables() }

// denseNode returns x as a (nodes, features) matrix node: a dense input as it is, sparse
// features as a constant dense copy of their values.
func denseNode(c *nn.Context, x nn.Features) (*G.Node, error) {
	switch f := x.(type) {
	case nn.Dense:
		return f.X, nil
	case *nn.SparseFeatures:
		rows, cols := f.Shape()
		d := tensor.New(tensor.WithShape(rows, cols), tensor.Of(c.Dtype))
		vals, ok := f.Values.Value().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("models: sparse features %s hold no values", f.Values.Name())
		}
		p := f.Pattern
		for i := 0; i < rows; i++ {
			for e := p.RowPtr[i]; e < p.RowPtr[i+1]; e++ {
				v, err := vals.At(e)
				if err != nil {
					return nil, err
				}
				if err := d.SetAt(v, i, int(p.ColIdx[e])); err != nil {
					return nil, err
				}
			}
		}
		return c.Constant("features", d), nil
	}
	return nil, fmt.Errorf("models: features of type %T: want nn.Dense or *nn.SparseFeatures", x)
}
