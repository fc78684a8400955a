package ops

import (
	"fmt"
	"math"
	"slices"
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

// gcnNorm is d^-1/2 of a graph's nodes (d counting the self-loop) and the graph.
type gcnNorm struct {
	a *graph.CSR
	nodeScale
}

func newGCNNorm(a *graph.CSR) *gcnNorm {
	return &gcnNorm{a, nodeScale{a: a, of: func(d int) float64 { return 1 / math.Sqrt(float64(d+1)) }}}
}

// graphFor returns the graph to gather over: a, or its reverse for the gradient.
func (n *gcnNorm) graphFor(reversed bool) *graph.CSR {
	if reversed {
		return n.a.Transpose().Graph
	}
	return n.a
}

// nodeScale is a factor per node of a graph computed from its in-degree (GCN's (d+1)^-1/2,
// SAGE mean's 1/d), made on first use for the dtype asked. Weights that are such a factor of
// the gathered node are looked up per row as a gather goes (gatherScaled) rather than stored
// per edge: at 16 edges per node a weight array would be a quarter of a 64-wide layer's output.
// A nil *nodeScale is the factor 1 (float32s and float64s return nil).
type nodeScale struct {
	a              *graph.CSR
	of             func(inDegree int) float64
	once32, once64 sync.Once
	v32            []float32
	v64            []float64
}

func (s *nodeScale) float32s() []float32 {
	if s == nil {
		return nil
	}
	s.once32.Do(func() { s.v32 = scaleOf[float32](s.a, s.of) })
	return s.v32
}

func (s *nodeScale) float64s() []float64 {
	if s == nil {
		return nil
	}
	s.once64.Do(func() { s.v64 = scaleOf[float64](s.a, s.of) })
	return s.v64
}

func scaleOf[T Float](a *graph.CSR, of func(int) float64) []T {
	v := make([]T, a.NumDst)
	for i := range v {
		v[i] = T(of(a.RowPtr[i+1] - a.RowPtr[i]))
	}
	return v
}

// gatherScaled is the kernel gatherSum of rows weighted by s[row] (s nil: 1); w is the caller's
// scratch for the weights, grown as needed.
func gatherScaled[T Float](k *kernelSet[T], y, x []T, width int, rows []int32, s []T, w *[]T) {
	if s == nil {
		k.gatherSum(y, x, width, rows, nil)
		return
	}
	ws := slices.Grow((*w)[:0], len(rows))[:len(rows)]
	for i, j := range rows {
		ws[i] = s[j]
	}
	k.gatherSum(y, x, width, rows, ws)
	*w = ws
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
		var bv []float32
		if b != nil {
			bv = b.Float32s()
		}
		gcnProp(g, o.norm.float32s(), x.Float32s(), y.Float32s(), bv, width)
	} else {
		var bv []float64
		if b != nil {
			bv = b.Float64s()
		}
		gcnProp(g, o.norm.float64s(), x.Float64s(), y.Float64s(), bv, width)
	}
	return y, nil
}

// gcnProp sets y[i] = dinv[i] (sum_{j -> i} dinv[j] x[j] + dinv[i] x[i]) + b over the rows of a:
// the self-loop is one more row of the gather, then a scale and the bias, all on kernels.
func gcnProp[T Float](a *graph.CSR, dinv, x, y, b []T, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		var rows []int32 // the row's sources and itself
		var w []T
		for i := lo; i < hi; i++ {
			rows = append(append(rows[:0], a.ColIdx[a.RowPtr[i]:a.RowPtr[i+1]]...), int32(i))
			yi := y[i*width : (i+1)*width]
			gatherScaled(k, yi, x, width, rows, dinv, &w)
			k.scale(dinv[i], yi)
			if b != nil {
				k.axpy(1, b, yi)
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
