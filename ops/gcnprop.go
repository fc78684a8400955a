package ops

import (
	"fmt"
	"math"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// GCNPropagate returns Kipf & Welling's propagation with a bias, in one pass and without a
// normalised copy of the graph:
//
//	out[i] = d_i^-1/2 ( sum_{j -> i} d_j^-1/2 x[j] + d_i^-1/2 x[i] ) + b      d_i = in-degree(i) + 1
//
// which is WeightedAggregate(a.GCNNorm(), x) + b: D^-1/2 (A+I) D^-1/2 x + b. a must be square,
// unweighted and without self-loops (the self-loop is implicit); b, a vector of x's width, may
// be nil. Its gradient is the same propagation over the reversed graph, and the column sums of
// the output gradient for b.
func GCNPropagate(a *graph.CSR, x, b *G.Node) (*G.Node, error) {
	if err := checkArgs("GCNPropagate", a, x); err != nil {
		return nil, err
	}
	if err := GCNPropagateSupports(a); err != nil {
		return nil, err
	}
	n := newGCNNorm(a)
	op := &gcnPropOp{opBase: opBase{name: "gcn_propagate", g: a}, norm: n, bias: b != nil}
	if b == nil {
		return G.ApplyOp(op, x)
	}
	return G.ApplyOp(op, x, b)
}

// GCNPropagateSupports returns nil when GCNPropagate accepts a, else why not.
func GCNPropagateSupports(a *graph.CSR) error {
	if a.NumSrc != a.NumDst {
		return fmt.Errorf("ops: GCNPropagate needs a square graph, have %d sources and %d destinations; use WeightedAggregate(a.GCNNorm(), x)", a.NumSrc, a.NumDst)
	}
	if a.Weights != nil {
		return fmt.Errorf("ops: GCNPropagate needs an unweighted graph; use WeightedAggregate(a.GCNNorm(), x)")
	}
	for i := 0; i < a.NumDst; i++ {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			if int(a.ColIdx[e]) == i {
				return fmt.Errorf("ops: GCNPropagate: node %d has a self-loop (the op adds its own); use WeightedAggregate(a.GCNNorm(), x)", i)
			}
		}
	}
	return nil
}

// gcnNorm holds d^-1/2 and the per-edge weights d_src^-1/2 of a graph and of its reverse,
// computed on first use per dtype.
type gcnNorm struct {
	a          *graph.CSR
	dinv       []float64
	once32     [2]sync.Once
	once64     [2]sync.Once
	dinv32     []float32
	w32        [2][]float32 // [0]: forward edges, [1]: reversed edges
	w64        [2][]float64
	onceDinv32 sync.Once
}

func newGCNNorm(a *graph.CSR) *gcnNorm {
	d := make([]float64, a.NumDst)
	for i := range d {
		d[i] = 1 / math.Sqrt(float64(a.RowPtr[i+1]-a.RowPtr[i]+1))
	}
	return &gcnNorm{a: a, dinv: d}
}

// edges returns the graph to gather over (a or its reverse) and its edge weights: the gathered
// node's d^-1/2.
func (n *gcnNorm) graphFor(reversed bool) *graph.CSR {
	if reversed {
		return n.a.Transpose().Graph
	}
	return n.a
}

func (n *gcnNorm) weights32(reversed bool) ([]float32, []float32) {
	k := 0
	if reversed {
		k = 1
	}
	n.onceDinv32.Do(func() { n.dinv32 = convert32(n.dinv) })
	n.once32[k].Do(func() {
		g := n.graphFor(reversed)
		w := make([]float32, g.NumEdges())
		for e, j := range g.ColIdx {
			w[e] = n.dinv32[j]
		}
		n.w32[k] = w
	})
	return n.w32[k], n.dinv32
}

func (n *gcnNorm) weights64(reversed bool) ([]float64, []float64) {
	k := 0
	if reversed {
		k = 1
	}
	n.once64[k].Do(func() {
		g := n.graphFor(reversed)
		w := make([]float64, g.NumEdges())
		for e, j := range g.ColIdx {
			w[e] = n.dinv[j]
		}
		n.w64[k] = w
	})
	return n.w64[k], n.dinv
}

func convert32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// gcnPropOp is the forward propagation (x, b) -> out, or with reversed set the gradient
// dout -> dx over the reversed graph, without bias.
type gcnPropOp struct {
	opBase
	norm     *gcnNorm
	bias     bool
	reversed bool
}

func (o *gcnPropOp) Arity() int {
	if o.bias {
		return 2
	}
	return 1
}

func (o *gcnPropOp) Type() hm.Type {
	if o.bias {
		return hm.NewFnType(matrixType, vectorType, matrixType)
	}
	return hm.NewFnType(matrixType, matrixType)
}

func (o *gcnPropOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.g.NumDst); err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *gcnPropOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *gcnPropOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumDst); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	var b *tensor.Dense
	if o.bias {
		if b, err = denseArg(o.name, vals, 1, 1); err != nil {
			return nil, err
		}
		if b.Shape()[0] != width || b.Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%s: bias of shape %v %v for input %v %v: want one %v per column", o.name, b.Shape(), b.Dtype(), x.Shape(), x.Dtype(), x.Dtype())
		}
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, b)
	g := o.norm.graphFor(o.reversed)
	if x.Dtype() == tensor.Float32 {
		w, dinv := o.norm.weights32(o.reversed)
		var bv []float32
		if b != nil {
			bv = b.Float32s()
		}
		gcnProp(g, w, dinv, x.Float32s(), y.Float32s(), bv, width)
	} else {
		w, dinv := o.norm.weights64(o.reversed)
		var bv []float64
		if b != nil {
			bv = b.Float64s()
		}
		gcnProp(g, w, dinv, x.Float64s(), y.Float64s(), bv, width)
	}
	return y, nil
}

// gcnProp sets y[i] = dinv[i] (sum_e w[e] x[ColIdx[e]] + dinv[i] x[i]) + b over the rows of a.
func gcnProp[T Float](a *graph.CSR, w, dinv, x, y, b []T, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			yi := y[i*width : (i+1)*width]
			xi := x[i*width : (i+1)*width]
			k.gatherSum(yi, x, width, a.ColIdx[e0:e1], w[e0:e1])
			di := dinv[i]
			if b != nil {
				b := b[:len(yi)]
				for j := range yi {
					yi[j] = di*(yi[j]+di*xi[j]) + b[j]
				}
				continue
			}
			for j := range yi {
				yi[j] = di * (yi[j] + di*xi[j])
			}
		}
	})
}

func (o *gcnPropOp) DiffWRT(int) []bool {
	if o.bias {
		return []bool{true, true}
	}
	return []bool{true}
}

func (o *gcnPropOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := &gcnPropOp{opBase: opBase{name: o.name + "_grad", g: o.norm.graphFor(!o.reversed)}, norm: o.norm, reversed: !o.reversed}
	dx, err := G.ApplyOp(back, grad)
	if err != nil {
		return nil, err
	}
	if !o.bias {
		return G.Nodes{dx}, nil
	}
	db, err := G.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, db}, nil
}
