package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddBias returns x + b with the vector b added to every row of the matrix x, in one pass over
// x split across the workers. Its gradients are the output gradient for x and that gradient's
// column sums for b. Gorgonia's BroadcastAdd first materialises b repeated to x's shape, a
// temporary as large as x, on every run.
func AddBias(x, b *G.Node) (*G.Node, error) {
	if x == nil || b == nil {
		return nil, fmt.Errorf("ops: AddBias: nil input")
	}
	xs, bs := x.Shape(), b.Shape()
	if len(xs) != 2 || len(bs) != 1 || bs[0] != xs[1] {
		return nil, fmt.Errorf("ops: AddBias: bias of shape %v for a matrix of shape %v: want one value per column", bs, xs)
	}
	if x.Dtype() != b.Dtype() {
		return nil, fmt.Errorf("ops: AddBias: matrix is %v, bias %v", x.Dtype(), b.Dtype())
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: AddBias: dtype %v, want float32 or float64", dt)
	}
	return G.ApplyOp(&addBiasOp{opBase: opBase{name: "add_bias"}}, x, b)
}

type addBiasOp struct{ opBase }

func (o *addBiasOp) Arity() int    { return 2 }
func (o *addBiasOp) Type() hm.Type { return hm.NewFnType(matrixType, vectorType, matrixType) }

func (o *addBiasOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, -1); err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *addBiasOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *addBiasOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	b, err := denseArg(o.name, vals, 1, 1)
	if err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	if b.Shape()[0] != width || b.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("%s: bias of shape %v %v for a matrix %v %v: want one %v per column", o.name, b.Shape(), b.Dtype(), x.Shape(), x.Dtype(), x.Dtype())
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, b)
	if x.Dtype() == tensor.Float32 {
		addBias(x.Float32s(), b.Float32s(), y.Float32s())
	} else {
		addBias(x.Float64s(), b.Float64s(), y.Float64s())
	}
	return y, nil
}

func addBias[T Float](x, b, y []T) {
	width := len(b)
	if width == 0 {
		return
	}
	k := kernelsFor[T]()
	forChunks(len(x)/width, width, func(lo, hi int) {
		copy(y[lo*width:hi*width], x[lo*width:hi*width])
		for i := lo; i < hi; i++ {
			k.axpy(1, b, y[i*width:(i+1)*width])
		}
	})
}

func (o *addBiasOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *addBiasOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	db, err := G.Sum(grad, 0)
	if err != nil {
		return nil, err
	}
	return G.Nodes{grad, db}, nil
}
