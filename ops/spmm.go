package ops

import (
	"errors"
	"sync"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// SumAggregate returns out[i] = sum_{j -> i} x[j]: the sum of the feature rows of each node's
// in-neighbours. x is NumSrc x F; out is NumDst x F; a node without in-edges gets a zero row.
// Edge weights of a, if any, are ignored (see WeightedAggregate).
func SumAggregate(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkArgs("SumAggregate", a, x); err != nil {
		return nil, err
	}
	u := a
	if a.Weights != nil {
		u = &graph.CSR{NumSrc: a.NumSrc, NumDst: a.NumDst, RowPtr: a.RowPtr, ColIdx: a.ColIdx}
	}
	return G.ApplyOp(newSpmm("sum_aggregate", u), x)
}

// MeanAggregate returns out[i] = (1/deg(i)) sum_{j -> i} x[j], the mean over in-neighbours
// (GraphSAGE-mean); a node without in-edges gets a zero row.
func MeanAggregate(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkArgs("MeanAggregate", a, x); err != nil {
		return nil, err
	}
	op := newSpmm("mean_aggregate", a.MeanWeights())
	// 1/deg rounded to float32 would make the float64 op inexact; compute it in float64.
	op.exact64 = func() []float64 {
		w := make([]float64, a.NumEdges())
		for i := 0; i < a.NumDst; i++ {
			lo, hi := a.RowPtr[i], a.RowPtr[i+1]
			for e := lo; e < hi; e++ {
				w[e] = 1 / float64(hi-lo)
			}
		}
		return w
	}
	return G.ApplyOp(op, x)
}

// WeightedAggregate returns out[i] = sum_{e: j -> i} a.Weights[e] x[j] with the graph's edge
// weights as constants: with a = g.GCNNorm() this is GCN propagation, D^-1/2 (A+I) D^-1/2 x.
// For learned, differentiable weights use EdgeWeightedAggregate.
func WeightedAggregate(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkArgs("WeightedAggregate", a, x); err != nil {
		return nil, err
	}
	if a.Weights == nil {
		return nil, errors.New("ops: WeightedAggregate needs edge weights; build them with graph.CSR.GCNNorm or WithWeights")
	}
	return G.ApplyOp(newSpmm("weighted_aggregate", a), x)
}

// spmmOp multiplies node features by a fixed sparse matrix, out = A x, where A's entries are the
// graph's edge weights (1 when it has none). Its gradient is the same op on the reversed graph.
type spmmOp struct {
	opBase
	// exact64, when set, gives the float64 edge weights; otherwise they are the graph's float32
	// weights widened.
	exact64 func() []float64
	once    sync.Once
	w64     []float64
}

func newSpmm(name string, a *graph.CSR) *spmmOp { return &spmmOp{opBase: opBase{name: name, g: a}} }

func (o *spmmOp) Arity() int    { return 1 }
func (o *spmmOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *spmmOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return o.aggregatedShape(ns, 0)
}

func (o *spmmOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *spmmOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, width, err := o.sourceInput(vals, 0)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), tensor.Shape{o.g.NumDst, width}, x)
	if x.Dtype() == tensor.Float32 {
		spmm(o.g, o.g.Weights, x.Float32s(), y.Float32s(), width)
	} else {
		spmm(o.g, o.weights64(), x.Float64s(), y.Float64s(), width)
	}
	return y, nil
}

func (o *spmmOp) weights64() []float64 {
	o.once.Do(func() {
		if o.exact64 != nil {
			o.w64 = o.exact64()
		} else {
			o.w64 = convert[float64](o.g.Weights)
		}
	})
	return o.w64
}

func (o *spmmOp) DiffWRT(int) []bool { return []bool{true} }

func (o *spmmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	tr := o.g.Transpose()
	back := newSpmm(o.name+"_grad", tr.Graph)
	if o.exact64 != nil {
		back.exact64 = func() []float64 { return permute(o.weights64(), tr.Edge) }
	}
	dx, err := G.ApplyOp(back, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
