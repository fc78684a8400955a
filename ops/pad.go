package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// PadNeighbors lays out each destination's in-neighbour features as a sequence, for sequence
// aggregators such as GraphSAGE's LSTM: out has shape (T*NumDst, F), time-major, where row
// t*NumDst + i holds x[j] for the t-th in-edge j -> i of i in edge order (sources ascending, a
// defined order that the LSTM's output depends on) and zeros when i has fewer than t+1 in-edges.
// T is the largest in-degree, at least 1. Mask gives the matching (T*NumDst, 1) 0/1 validity
// column.
func PadNeighbors(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkArgs("PadNeighbors", a, x); err != nil {
		return nil, err
	}
	return G.ApplyOp(&padOp{opBase{name: "pad_neighbors", g: a}}, x)
}

// MaxInDegree returns the sequence length PadNeighbors uses for a: the largest in-degree, at
// least 1.
func MaxInDegree(a *graph.CSR) int {
	t := 1
	for i := 0; i < a.NumDst; i++ {
		t = max(t, a.RowPtr[i+1]-a.RowPtr[i])
	}
	return t
}

// PadMask returns the validity of PadNeighbors' rows: 1 where row t*NumDst+i holds a neighbour.
func PadMask(a *graph.CSR) []float64 {
	t := MaxInDegree(a)
	m := make([]float64, t*a.NumDst)
	for i := 0; i < a.NumDst; i++ {
		for k := 0; k < a.RowPtr[i+1]-a.RowPtr[i]; k++ {
			m[k*a.NumDst+i] = 1
		}
	}
	return m
}

type padOp struct{ opBase }

func (o *padOp) Arity() int     { return 1 }
func (o *padOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *padOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.g.NumSrc); err != nil {
		return nil, err
	}
	return tensor.Shape{MaxInDegree(o.g) * o.g.NumDst, s[1]}, nil
}

func (o *padOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *padOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumSrc); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	out := output(prealloc, x.Dtype(), tensor.Shape{MaxInDegree(o.g) * o.g.NumDst, width}, x)
	if x.Dtype() == tensor.Float32 {
		pad(o.g, x.Float32s(), out.Float32s(), width)
	} else {
		pad(o.g, x.Float64s(), out.Float64s(), width)
	}
	return out, nil
}

func pad[T Float](a *graph.CSR, x, out []T, width int) {
	clear(out)
	n := a.NumDst
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				t := e - a.RowPtr[i]
				copy(out[(t*n+i)*width:(t*n+i+1)*width], x[int(a.ColIdx[e])*width:])
			}
		}
	})
}

func (o *padOp) DiffWRT(int) []bool { return []bool{true} }

func (o *padOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&unpadOp{opBase{name: "pad_neighbors_grad", g: o.g}}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// unpadOp sums the padded rows' gradients back into the source rows they were copied from:
// dx[j] = sum over edges j -> i of g[t(e)*NumDst + i], walked over the reversed graph.
type unpadOp struct{ opBase }

func (o *unpadOp) Arity() int     { return 1 }
func (o *unpadOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *unpadOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{o.g.NumSrc, s[1]}, nil
}

func (o *unpadOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *unpadOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	g, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if want := MaxInDegree(o.g) * o.g.NumDst; g.Shape()[0] != want {
		return nil, fmt.Errorf("%s: gradient has %d rows, want %d", o.name, g.Shape()[0], want)
	}
	width := g.Shape()[1]
	dx := output(prealloc, g.Dtype(), tensor.Shape{o.g.NumSrc, width}, g)
	if g.Dtype() == tensor.Float32 {
		unpad(o.g, g.Float32s(), dx.Float32s(), width)
	} else {
		unpad(o.g, g.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}

func unpad[T Float](a *graph.CSR, g, dx []T, width int) {
	tr := a.Transpose()
	n := a.NumDst
	forRows(tr.Graph, width, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			d := dx[j*width : (j+1)*width]
			clear(d)
			for r := tr.Graph.RowPtr[j]; r < tr.Graph.RowPtr[j+1]; r++ {
				e := int(tr.Edge[r])
				i := int(tr.Graph.ColIdx[r])
				t := e - a.RowPtr[i]
				for k, v := range g[(t*n+i)*width : (t*n+i+1)*width] {
					d[k] += v
				}
			}
		}
	})
}
