package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// SAGEPropagate returns GraphSAGE's combination of a projected neighbourhood and a projected
// self, with the bias, in one pass over the destinations:
//
//	out[i] = agg_{j -> i} neigh[j] + self[i] + b
//
// where agg is the mean over i's in-neighbours (0 without any) when mean is set, else their
// sum. neigh has a row per source of a and self at least a row per destination (the
// destinations are the first sources, as in a sampled block); b, a vector of their width, may
// be nil. With neigh = x W_l and self = x W_r it is lin_l(agg x) + lin_r(x): aggregation is
// linear, so projecting first gathers the narrower rows, and the sum, the bias and the
// neighbourhood's 1/deg cost no pass of their own. The gradient is the same aggregation over the
// reversed graph for neigh, the output gradient (zero past the destinations) for self, and its
// column sums for b.
func SAGEPropagate(a *graph.CSR, neigh, self, b *G.Node, mean bool) (*G.Node, error) {
	if err := checkArgs("SAGEPropagate", a, neigh); err != nil {
		return nil, err
	}
	if self == nil {
		return nil, fmt.Errorf("ops: SAGEPropagate: nil self input")
	}
	s := self.Shape()
	if len(s) != 2 || s[0] < a.NumDst || s[1] != neigh.Shape()[1] {
		return nil, fmt.Errorf("ops: SAGEPropagate: self has shape %v, want at least %d rows of %d (the destinations, neighbourhood's width)", s, a.NumDst, neigh.Shape()[1])
	}
	if self.Dtype() != neigh.Dtype() {
		return nil, fmt.Errorf("ops: SAGEPropagate: self is %v, neighbourhood %v", self.Dtype(), neigh.Dtype())
	}
	name := "sage_sum_propagate"
	if mean {
		name = "sage_mean_propagate"
	}
	op := &sagePropOp{opBase: opBase{name: name, g: a}, scale: meanScale(a, mean), bias: b != nil}
	if b == nil {
		return G.ApplyOp(op, neigh, self)
	}
	return G.ApplyOp(op, neigh, self, b)
}

// meanScale returns 1/in-degree (1 without in-edges) of a's destinations for a mean, nil (the
// factor 1) for a sum.
func meanScale(a *graph.CSR, mean bool) *nodeScale {
	if !mean {
		return nil
	}
	return &nodeScale{a: a, of: func(d int) float64 { return 1 / float64(max(d, 1)) }}
}

// sagePropOp is the forward pass (neigh, self[, b]) -> out.
type sagePropOp struct {
	opBase
	scale *nodeScale
	bias  bool
}

func (o *sagePropOp) Arity() int {
	if o.bias {
		return 3
	}
	return 2
}

func (o *sagePropOp) Type() hm.Type {
	if o.bias {
		return hm.NewFnType(matrixType, matrixType, vectorType, matrixType)
	}
	return hm.NewFnType(matrixType, matrixType, matrixType)
}

func (o *sagePropOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return o.aggregatedShape(ns, 0)
}

func (o *sagePropOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *sagePropOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	neigh, width, err := o.sourceInput(vals, 0)
	if err != nil {
		return nil, err
	}
	self, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if s := self.Shape(); s[0] < o.g.NumDst || s[1] != width || self.Dtype() != neigh.Dtype() {
		return nil, fmt.Errorf("%s: self %v %v for a neighbourhood %v %v: want at least %d rows of %d", o.name, s, self.Dtype(), neigh.Shape(), neigh.Dtype(), o.g.NumDst, width)
	}
	var b *tensor.Dense
	if o.bias {
		if b, err = denseArg(o.name, vals, 2, 1); err != nil {
			return nil, err
		}
		if b.Shape()[0] != width || b.Dtype() != neigh.Dtype() {
			return nil, fmt.Errorf("%s: bias of shape %v %v for width %d %v", o.name, b.Shape(), b.Dtype(), width, neigh.Dtype())
		}
	}
	y := o.output(prealloc, neigh.Dtype(), tensor.Shape{o.g.NumDst, width}, neigh, self, b)
	if neigh.Dtype() == tensor.Float32 {
		var bv []float32
		if b != nil {
			bv = b.Float32s()
		}
		sageProp(o.g, o.scale.float32s(), neigh.Float32s(), self.Float32s(), y.Float32s(), bv, width)
	} else {
		var bv []float64
		if b != nil {
			bv = b.Float64s()
		}
		sageProp(o.g, o.scale.float64s(), neigh.Float64s(), self.Float64s(), y.Float64s(), bv, width)
	}
	return y, nil
}

// sageProp sets y[i] = inv[i] sum_{j -> i} neigh[j] + self[i] + b (inv nil: 1; self, b nil: 0).
func sageProp[T Float](a *graph.CSR, inv, neigh, self, y, b []T, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yi := y[i*width : (i+1)*width]
			k.gatherSum(yi, neigh, width, a.ColIdx[a.RowPtr[i]:a.RowPtr[i+1]], nil)
			if inv != nil {
				k.scale(inv[i], yi)
			}
			if self != nil {
				k.axpy(1, self[i*width:(i+1)*width], yi)
			}
			if b != nil {
				k.axpy(1, b, yi)
			}
		}
	})
}

func (o *sagePropOp) DiffWRT(int) []bool {
	if o.bias {
		return []bool{true, true, true}
	}
	return []bool{true, true}
}

func (o *sagePropOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	tr := o.g.Transpose().Graph
	dn, err := G.ApplyOp(&sageNeighGradOp{opBase{name: o.name + "_grad_neigh", g: tr}, o.scale}, grad)
	if err != nil {
		return nil, err
	}
	ds := grad
	if rows := inputs[1].Shape()[0]; rows != o.g.NumDst {
		if ds, err = G.ApplyOp(&padRowsOp{opBase{name: o.name + "_grad_self", g: o.g}, rows}, grad); err != nil {
			return nil, err
		}
	}
	if !o.bias {
		return G.Nodes{dn, ds}, nil
	}
	db, err := G.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dn, ds, db}, nil
}

// sageNeighGradOp is dneigh[j] = sum_{j -> i} inv[i] dout[i], a gather over the reversed graph
// (its g) weighted by the gathered row's 1/deg.
type sageNeighGradOp struct {
	opBase
	scale *nodeScale
}

func (o *sageNeighGradOp) Arity() int    { return 1 }
func (o *sageNeighGradOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *sageNeighGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return o.aggregatedShape(ns, 0)
}

func (o *sageNeighGradOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *sageNeighGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	dy, width, err := o.sourceInput(vals, 0)
	if err != nil {
		return nil, err
	}
	dx := o.output(prealloc, dy.Dtype(), tensor.Shape{o.g.NumDst, width}, dy)
	if dy.Dtype() == tensor.Float32 {
		scaledGather(o.g, o.scale.float32s(), dy.Float32s(), dx.Float32s(), width)
	} else {
		scaledGather(o.g, o.scale.float64s(), dy.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}

// scaledGather sets y[i] = sum_{j -> i} s[j] x[j] (s nil: 1), looking up each row's weights in
// s rather than storing one per edge.
func scaledGather[T Float](a *graph.CSR, s, x, y []T, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		var w []T
		for i := lo; i < hi; i++ {
			gatherScaled(k, y[i*width:(i+1)*width], x, width, a.ColIdx[a.RowPtr[i]:a.RowPtr[i+1]], s, &w)
		}
	})
}

// padRowsOp copies a (NumDst, F) gradient into the first rows of a (rows, F) zero matrix: the
// gradient of an input that has rows past the destinations, which the output does not read.
type padRowsOp struct {
	opBase
	rows int
}

func (o *padRowsOp) Arity() int    { return 1 }
func (o *padRowsOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *padRowsOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "gradient", s, o.g.NumDst); err != nil {
		return nil, err
	}
	return tensor.Shape{o.rows, s[1]}, nil
}

func (o *padRowsOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *padRowsOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	g, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "gradient", g.Shape(), o.g.NumDst); err != nil {
		return nil, err
	}
	width := g.Shape()[1]
	y := o.output(prealloc, g.Dtype(), tensor.Shape{o.rows, width}, g)
	if g.Dtype() == tensor.Float32 {
		padRows(g.Float32s(), y.Float32s())
	} else {
		padRows(g.Float64s(), y.Float64s())
	}
	return y, nil
}

func padRows[T Float](g, y []T) {
	copy(y, g)
	clear(y[len(g):])
}
