package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LogSoftmax returns the row-wise log-softmax of a matrix, y[i][c] = x[i][c] - log sum_k
// exp(x[i][k]), computed stably (the row maximum is subtracted first), with the gradient
// dx = g - softmax(x) * sum(g) per row. It replaces Gorgonia's LogSoftMax on the classifier
// head: one pass, no goroutine per row.
func LogSoftmax(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("ops: LogSoftmax: nil input node")
	}
	return G.ApplyOp(&logSoftmaxOp{opBase{name: "log_softmax"}}, x)
}

type logSoftmaxOp struct{ opBase }

func (*logSoftmaxOp) Arity() int                         { return 1 }
func (*logSoftmaxOp) Type() hm.Type                      { return hm.NewFnType(matrixType, matrixType) }
func (*logSoftmaxOp) DiffWRT(int) []bool                 { return []bool{true} }
func (o *logSoftmaxOp) Do(v ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, v...) }

func (*logSoftmaxOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf("log_softmax", ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix("log_softmax", "input", s, -1); err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *logSoftmaxOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg("log_softmax", vals, 0, 2)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x)
	cols := x.Shape()[1]
	if x.Dtype() == tensor.Float32 {
		logSoftmax(x.Float32s(), y.Float32s(), cols)
	} else {
		logSoftmax(x.Float64s(), y.Float64s(), cols)
	}
	return y, nil
}

func logSoftmax[T Float](x, y []T, cols int) {
	if cols == 0 {
		return
	}
	forChunks(len(x)/cols, cols, func(lo, hi int) { logSoftmaxRows(x[lo*cols:hi*cols], y[lo*cols:hi*cols], cols) })
}

func logSoftmaxRows[T Float](x, y []T, cols int) {
	exp := expFor[T]()
	for i := 0; i+cols <= len(x); i += cols {
		row, out := x[i:i+cols], y[i:i+cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		sum := 0.0
		for _, v := range row {
			sum += exp(float64(v) - m)
		}
		lse := m + math.Log(sum)
		for c, v := range row {
			out[c] = T(float64(v) - lse)
		}
	}
}

func (*logSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&logSoftmaxGradOp{opBase{name: "log_softmax_grad"}}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// logSoftmaxGradOp computes dx from (y, g) where y is the log-softmax output.
type logSoftmaxGradOp struct{ opBase }

func (*logSoftmaxGradOp) Arity() int                         { return 2 }
func (*logSoftmaxGradOp) Type() hm.Type                      { return hm.NewFnType(matrixType, matrixType, matrixType) }
func (o *logSoftmaxGradOp) Do(v ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, v...) }

func (*logSoftmaxGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf("log_softmax_grad", ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *logSoftmaxGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	y, err := denseArg("log_softmax_grad", vals, 0, 2)
	if err != nil {
		return nil, err
	}
	g, err := denseArg("log_softmax_grad", vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if !g.Shape().Eq(y.Shape()) || g.Dtype() != y.Dtype() {
		return nil, shapeMismatch("log_softmax_grad", y, g)
	}
	dx := o.output(prealloc, y.Dtype(), y.Shape().Clone(), y, g)
	cols := y.Shape()[1]
	if y.Dtype() == tensor.Float32 {
		logSoftmaxBackward(y.Float32s(), g.Float32s(), dx.Float32s(), cols)
	} else {
		logSoftmaxBackward(y.Float64s(), g.Float64s(), dx.Float64s(), cols)
	}
	return dx, nil
}

func logSoftmaxBackward[T Float](y, g, dx []T, cols int) {
	if cols == 0 {
		return
	}
	forChunks(len(y)/cols, cols, func(lo, hi int) {
		logSoftmaxBackwardRows(y[lo*cols:hi*cols], g[lo*cols:hi*cols], dx[lo*cols:hi*cols], cols)
	})
}

func logSoftmaxBackwardRows[T Float](y, g, dx []T, cols int) {
	exp := expFor[T]()
	for i := 0; i+cols <= len(y); i += cols {
		sum := 0.0
		for _, v := range g[i : i+cols] {
			sum += float64(v)
		}
		for c := i; c < i+cols; c++ {
			dx[c] = g[c] - T(exp(float64(y[c]))*sum)
		}
	}
}
