package ops

import (
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// MaxAggregate returns out[i][f] = max_{j -> i} x[j][f], the element-wise maximum over
// in-neighbours; a node without in-edges gets a zero row. The gradient flows whole to the
// neighbour that attains the maximum, the first in edge order on ties (as ScatterMax). This is
// not PyTorch Geometric's rule: its max aggregation is torch.scatter_reduce(reduce="amax"),
// whose gradient is split evenly among tied elements (checked with PyTorch 1.13); the two agree
// wherever the maximum is unique, which is almost everywhere for real-valued features.
func MaxAggregate(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkArgs("MaxAggregate", a, x); err != nil {
		return nil, err
	}
	return G.ApplyOp(&maxOp{opBase{name: "max_aggregate", g: a}}, x)
}

type maxOp struct{ opBase }

func (o *maxOp) Arity() int    { return 1 }
func (o *maxOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType) }

func (o *maxOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return o.aggregatedShape(ns, 0)
}

func (o *maxOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *maxOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, width, err := o.sourceInput(vals, 0)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), tensor.Shape{o.g.NumDst, width}, x)
	if x.Dtype() == tensor.Float32 {
		rowMax(o.g, x.Float32s(), y.Float32s(), nil, width)
	} else {
		rowMax(o.g, x.Float64s(), y.Float64s(), nil, width)
	}
	return y, nil
}

func (o *maxOp) DiffWRT(int) []bool { return []bool{true} }

func (o *maxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&maxGradOp{opBase{name: "max_aggregate_grad", g: o.g}}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// maxGradOp computes dx from (x, dy): it finds the arg-max edges again rather than keeping them
// from the forward pass, so the op holds no state between runs and graphs can be re-run or shared
// freely.
type maxGradOp struct{ opBase }

func (o *maxGradOp) Arity() int    { return 2 }
func (o *maxGradOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType, matrixType) }

func (o *maxGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *maxGradOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *maxGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, dy, width, err := inputAndGrad(o.name, vals, o.g.NumSrc, o.g.NumDst)
	if err != nil {
		return nil, err
	}
	dx := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, dy)
	if x.Dtype() == tensor.Float32 {
		maxBackward(o.g, x.Float32s(), dy.Float32s(), dx.Float32s(), width)
	} else {
		maxBackward(o.g, x.Float64s(), dy.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}

// maxBackward routes dy[i][f] to dx[argmax][f]. It is a scatter, so it runs in parallel over
// feature columns (which never conflict) and, within a column, in destination order: the sums
// are the same for any worker count.
func maxBackward[T Float](a *graph.CSR, x, dy, dx []T, width int) {
	arg := make([]int32, a.NumDst*width)
	rowMax(a, x, nil, arg, width)
	clear(dx)
	forColumns(a.NumDst, width, func(lo, hi int) {
		for i := 0; i < a.NumDst; i++ {
			ar, g := arg[i*width:(i+1)*width], dy[i*width:(i+1)*width]
			for f := lo; f < hi; f++ {
				if e := ar[f]; e >= 0 {
					dx[int(a.ColIdx[e])*width+f] += g[f]
				}
			}
		}
	})
}
