package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// EdgeScores returns per-edge scores from per-node scores: for edge e from j to i,
//
//	out[e, h] = src[j, h] + dst[i, h]
//
// with src of shape (NumSrc, H) and dst of shape (NumDst, H); out has shape (E, H) in a's edge
// order. This is how GAT's attention logit a^T [W h_i || W h_j] splits into a term per endpoint.
// The gradient sums the edge gradients back to each endpoint.
func EdgeScores(a *graph.CSR, src, dst *G.Node) (*G.Node, error) {
	if err := checkArgs("EdgeScores", a, src); err != nil {
		return nil, err
	}
	if err := checkArgs("EdgeScores", a, dst); err != nil {
		return nil, err
	}
	return G.ApplyOp(&edgeScoresOp{opBase{name: "edge_scores", g: a}}, src, dst)
}

type edgeScoresOp struct{ opBase }

func (o *edgeScoresOp) Arity() int    { return 2 }
func (o *edgeScoresOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType, matrixType) }

func (o *edgeScoresOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	d, err := shapeOf(o.name, ns, 1)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "source scores", s, o.g.NumSrc); err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "destination scores", d, o.g.NumDst); err != nil {
		return nil, err
	}
	if s[1] != d[1] {
		return nil, fmt.Errorf("%s: source scores have %d heads, destination scores %d", o.name, s[1], d[1])
	}
	return tensor.Shape{o.g.NumEdges(), s[1]}, nil
}

func (o *edgeScoresOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *edgeScoresOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	src, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	dst, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "source scores", src.Shape(), o.g.NumSrc); err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "destination scores", dst.Shape(), o.g.NumDst); err != nil {
		return nil, err
	}
	heads := src.Shape()[1]
	if dst.Shape()[1] != heads || dst.Dtype() != src.Dtype() {
		return nil, shapeMismatch(o.name, src, dst)
	}
	out := o.output(prealloc, src.Dtype(), tensor.Shape{o.g.NumEdges(), heads}, src, dst)
	if src.Dtype() == tensor.Float32 {
		edgeScores(o.g, src.Float32s(), dst.Float32s(), out.Float32s(), heads)
	} else {
		edgeScores(o.g, src.Float64s(), dst.Float64s(), out.Float64s(), heads)
	}
	return out, nil
}

func edgeScores[T Float](a *graph.CSR, src, dst, out []T, heads int) {
	forRows(a, heads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := dst[i*heads : (i+1)*heads]
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				s := src[int(a.ColIdx[e])*heads:][:heads]
				o := out[e*heads : (e+1)*heads]
				for h := range o {
					o[h] = s[h] + d[h]
				}
			}
		}
	})
}

func (o *edgeScoresOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *edgeScoresOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	ds, err := G.ApplyOp(&edgeSumOp{opBase{name: "edge_scores_grad_src", g: o.g}, true}, grad)
	if err != nil {
		return nil, err
	}
	dd, err := G.ApplyOp(&edgeSumOp{opBase{name: "edge_scores_grad_dst", g: o.g}, false}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{ds, dd}, nil
}

// edgeSumOp sums a per-edge (E, H) tensor into its edges' sources (bySource) or destinations.
// By source it walks the reversed graph, so both directions are gathers.
type edgeSumOp struct {
	opBase
	bySource bool
}

func (o *edgeSumOp) Arity() int    { return 1 }
func (o *edgeSumOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *edgeSumOp) rows() int {
	if o.bySource {
		return o.g.NumSrc
	}
	return o.g.NumDst
}

func (o *edgeSumOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "edge gradient", s, o.g.NumEdges()); err != nil {
		return nil, err
	}
	return tensor.Shape{o.rows(), s[1]}, nil
}

func (o *edgeSumOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *edgeSumOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	g, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "edge gradient", g.Shape(), o.g.NumEdges()); err != nil {
		return nil, err
	}
	heads := g.Shape()[1]
	out := o.output(prealloc, g.Dtype(), tensor.Shape{o.rows(), heads}, g)
	a, perm := o.g, []int32(nil)
	if o.bySource {
		tr := o.g.Transpose()
		a, perm = tr.Graph, tr.Edge
	}
	if g.Dtype() == tensor.Float32 {
		edgeSum(a, perm, g.Float32s(), out.Float32s(), heads)
	} else {
		edgeSum(a, perm, g.Float64s(), out.Float64s(), heads)
	}
	return out, nil
}

// edgeSum sets out[i] = sum of g[edge] over the edges of row i of a, where edge is perm[e] when
// perm is not nil (a reversed graph) and e otherwise.
func edgeSum[T Float](a *graph.CSR, perm []int32, g, out []T, heads int) {
	forRows(a, heads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			o := out[i*heads : (i+1)*heads]
			clear(o)
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				k := e
				if perm != nil {
					k = int(perm[e])
				}
				for h, v := range g[k*heads : (k+1)*heads] {
					o[h] += v
				}
			}
		}
	})
}
