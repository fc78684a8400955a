package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNormState is the mode and the statistics of one BatchNorm op. The op reads Training,
// Eps and the running statistics when it runs, so a layer switches the mode of a compiled graph
// by setting Training between runs.
type BatchNormState struct {
	// Training selects the batch's statistics (true) or the running ones (false).
	Training bool
	// Eps is added to the variance before its square root (PyTorch's default is 1e-5).
	Eps float64
	// RunningMean and RunningVar, shape (F), float32 or float64, are used in evaluation mode.
	RunningMean, RunningVar *tensor.Dense
	// BatchMean and BatchVar are the mean and biased variance per feature of the last run in
	// training mode, Rows its number of rows; Ran reports that such a run happened since the
	// caller last cleared it.
	BatchMean, BatchVar []float64
	Rows                int
	Ran                 bool
}

// BatchNorm normalises each column of x, shape (n, F), and applies a gain and a bias, both
// shape (F), in one pass for the statistics and one for the output (Ioffe & Szegedy 2015):
//
//	y[i,j] = (x[i,j] - mu[j]) / sqrt(sigma2[j] + Eps) * gain[j] + bias[j]
//
// In training mode mu and sigma2 are the column means and biased variances of x (accumulated
// in float64) and are kept in s.BatchMean and s.BatchVar; in evaluation mode they are
// s.RunningMean and s.RunningVar. The gradients are those of the mode the forward ran in:
// through the batch statistics in training mode (dx = gain/sqrt(sigma2+Eps)/n * (n dy -
// sum_i dy - xhat sum_i dy xhat)), with the statistics as constants in evaluation mode. The
// generic route (mean, broadcast subtraction, square, mean, broadcast division) allocates a
// temporary of x's size at each step, on every run.
//
// Preconditions: x has at least one row; x, gain and bias share a float dtype; s is not nil and
// belongs to this op only, and in evaluation mode holds running statistics of F values.
func BatchNorm(x, gain, bias *G.Node, s *BatchNormState) (*G.Node, error) {
	if x == nil || gain == nil || bias == nil || s == nil {
		return nil, fmt.Errorf("ops: BatchNorm: nil input or state")
	}
	xs, gs, bs := x.Shape(), gain.Shape(), bias.Shape()
	if len(xs) != 2 || xs[0] < 1 {
		return nil, fmt.Errorf("ops: BatchNorm: input of shape %v: want a matrix (rows x features) with at least one row", xs)
	}
	if len(gs) != 1 || gs[0] != xs[1] || len(bs) != 1 || bs[0] != xs[1] {
		return nil, fmt.Errorf("ops: BatchNorm: gain %v and bias %v for an input %v: want one value per column", gs, bs, xs)
	}
	dt := x.Dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: BatchNorm: dtype %v, want float32 or float64", dt)
	}
	if gain.Dtype() != dt || bias.Dtype() != dt {
		return nil, fmt.Errorf("ops: BatchNorm: input is %v, gain %v, bias %v: want one dtype", dt, gain.Dtype(), bias.Dtype())
	}
	if !(s.Eps >= 0) {
		return nil, fmt.Errorf("ops: BatchNorm: eps %v: want eps >= 0", s.Eps)
	}
	return G.ApplyOp(&batchNormOp{opBase: opBase{name: "batch_norm"}, s: s}, x, gain, bias)
}

type batchNormOp struct {
	opBase
	s *BatchNormState
	// What the last forward run used, read by the backward ops: per column, the mean and
	// 1/sqrt(variance + eps), and whether they were the batch's.
	mean, invStd []float64
	training     bool
}

func (o *batchNormOp) Arity() int { return 3 }
func (o *batchNormOp) Type() hm.Type {
	return hm.NewFnType(matrixType, vectorType, vectorType, matrixType)
}
func (o *batchNormOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s(%p)", o.name, o.s) }
func (o *batchNormOp) Hashcode() uint32      { return hashOf(o) }

func (o *batchNormOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return matrixShape(o.name, ns, false)
}

// matrixShape returns the shape of input 0, a matrix, or its number of columns as a vector
// shape (columns).
func matrixShape(op string, ns []G.DimSizer, columns bool) (tensor.Shape, error) {
	s, err := shapeOf(op, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(op, "input", s, -1); err != nil {
		return nil, err
	}
	if columns {
		return tensor.Shape{s[1]}, nil
	}
	return s.Clone(), nil
}

func (o *batchNormOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *batchNormOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	rows, width := x.Shape()[0], x.Shape()[1]
	var gb [2]*tensor.Dense
	for k := range gb {
		if gb[k], err = denseArg(o.name, vals, k+1, 1); err != nil {
			return nil, err
		}
		if gb[k].Shape()[0] != width || gb[k].Dtype() != x.Dtype() {
			return nil, fmt.Errorf("%s: gain or bias of shape %v %v for an input %v %v: want one %v per column", o.name, gb[k].Shape(), gb[k].Dtype(), x.Shape(), x.Dtype(), x.Dtype())
		}
	}
	if rows < 1 {
		return nil, fmt.Errorf("%s: input of shape %v: want at least one row", o.name, x.Shape())
	}
	if len(o.mean) != width {
		o.mean, o.invStd = make([]float64, width), make([]float64, width)
	}
	s := o.s
	o.training = s.Training
	if s.Training {
		if x.Dtype() == tensor.Float32 {
			columnStats(x.Float32s(), o.mean, o.invStd)
		} else {
			columnStats(x.Float64s(), o.mean, o.invStd)
		}
		// o.invStd holds the variances until the loop below.
		s.BatchMean = append(s.BatchMean[:0], o.mean...)
		s.BatchVar = append(s.BatchVar[:0], o.invStd...)
		s.Rows, s.Ran = rows, true
	} else {
		for k, r := range []*tensor.Dense{s.RunningMean, s.RunningVar} {
			if r == nil || r.Shape().TotalSize() != width || (r.Dtype() != tensor.Float32 && r.Dtype() != tensor.Float64) {
				return nil, fmt.Errorf("%s: evaluation mode needs running statistics of %d float values; running %s is %v", o.name, width, [2]string{"mean", "variance"}[k], r)
			}
		}
		copy(o.mean, floats(s.RunningMean))
		copy(o.invStd, floats(s.RunningVar))
	}
	for j, v := range o.invStd {
		o.invStd[j] = 1 / math.Sqrt(v+s.Eps)
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, gb[0], gb[1])
	if x.Dtype() == tensor.Float32 {
		batchNormForward(x.Float32s(), gb[0].Float32s(), gb[1].Float32s(), o.mean, o.invStd, y.Float32s())
	} else {
		batchNormForward(x.Float64s(), gb[0].Float64s(), gb[1].Float64s(), o.mean, o.invStd, y.Float64s())
	}
	return y, nil
}

// floats returns a float32 or float64 vector's values as float64s.
func floats(t *tensor.Dense) []float64 {
	if t.Dtype() == tensor.Float32 {
		out := make([]float64, t.Len())
		for i, v := range t.Float32s() {
			out[i] = float64(v)
		}
		return out
	}
	return t.Float64s()
}

// columnStats sets mean and variance (biased) to the column means and variances of the
// row-major matrix x with len(mean) columns, in two passes accumulated in float64.
func columnStats[T Float](x []T, mean, variance []float64) {
	width := len(mean)
	rows := len(x) / width
	clear(mean)
	clear(variance)
	for i := 0; i < rows; i++ {
		row := x[i*width : (i+1)*width]
		m := mean[:len(row)] // lets the compiler drop the bounds checks
		for j, v := range row {
			m[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(rows)
	}
	for i := 0; i < rows; i++ {
		row := x[i*width : (i+1)*width]
		m, va := mean[:len(row)], variance[:len(row)]
		for j, v := range row {
			d := float64(v) - m[j]
			va[j] += d * d
		}
	}
	for j := range variance {
		variance[j] /= float64(rows)
	}
}

// batchNormForward writes y = (x - mean) * invStd * gain + bias per column, as x*scale + shift.
func batchNormForward[T Float](x, gain, bias []T, mean, invStd []float64, y []T) {
	width := len(gain)
	scale, shift := make([]T, width), make([]T, width)
	for j := range scale {
		sc := float64(gain[j]) * invStd[j]
		scale[j], shift[j] = T(sc), T(float64(bias[j])-mean[j]*sc)
	}
	forChunks(len(x)/width, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr, yr := x[i*width:(i+1)*width], y[i*width:(i+1)*width]
			yr, sc, sh := yr[:len(xr)], scale[:len(xr)], shift[:len(xr)]
			for j, v := range xr {
				yr[j] = v*sc[j] + sh[j]
			}
		}
	})
}

func (o *batchNormOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (o *batchNormOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("%s: %d inputs, want 3", o.name, len(inputs))
	}
	dg, err := G.ApplyOp(&batchNormGradGain{opBase: opBase{name: "batch_norm_grad_gain"}, fwd: o}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&columnSumOp{opBase{name: "batch_norm_grad_bias"}}, grad)
	if err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&batchNormGradX{opBase: opBase{name: "batch_norm_grad_x"}, fwd: o}, inputs[0], inputs[1], grad, dg, db)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg, db}, nil
}

// dyXhatSums sets out to the column sums of dy * xhat, xhat = (x - mean) * invStd.
func dyXhatSums[T Float](x, dy []T, mean, invStd, out []float64) {
	width := len(mean)
	clear(out)
	for i := 0; i < len(x)/width; i++ {
		xr, dr := x[i*width:(i+1)*width], dy[i*width:(i+1)*width]
		xr, m, is, o := xr[:len(dr)], mean[:len(dr)], invStd[:len(dr)], out[:len(dr)]
		for j, d := range dr {
			o[j] += float64(d) * (float64(xr[j]) - m[j]) * is[j]
		}
	}
}

// batchNormGradX is the gradient with respect to x; inputs x, gain, the output gradient and the
// gradients of the gain and the bias (its column sums against xhat and its column sums).
type batchNormGradX struct {
	opBase
	fwd *batchNormOp
}

func (o *batchNormGradX) Arity() int { return 5 }
func (o *batchNormGradX) Type() hm.Type {
	return hm.NewFnType(matrixType, vectorType, matrixType, vectorType, vectorType, matrixType)
}
func (o *batchNormGradX) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s(%p)", o.name, o.fwd) }
func (o *batchNormGradX) Hashcode() uint32      { return hashOf(o) }
func (o *batchNormGradX) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return matrixShape(o.name, ns, false)
}
func (o *batchNormGradX) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *batchNormGradX) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	gain, err := denseArg(o.name, vals, 1, 1)
	if err != nil {
		return nil, err
	}
	dy, err := denseArg(o.name, vals, 2, 2)
	if err != nil {
		return nil, err
	}
	dg, err := denseArg(o.name, vals, 3, 1)
	if err != nil {
		return nil, err
	}
	db, err := denseArg(o.name, vals, 4, 1)
	if err != nil {
		return nil, err
	}
	f := o.fwd
	width := x.Shape()[1]
	if !dy.Shape().Eq(x.Shape()) || dy.Dtype() != x.Dtype() || gain.Dtype() != x.Dtype() || len(f.mean) != width ||
		dg.Dtype() != x.Dtype() || db.Dtype() != x.Dtype() || dg.Len() != width || db.Len() != width || gain.Len() != width {
		return nil, fmt.Errorf("%s: input %v %v, gradient %v %v, %d statistics: want one shape and dtype, the forward run first", o.name, x.Shape(), x.Dtype(), dy.Shape(), dy.Dtype(), len(f.mean))
	}
	dx := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, gain, dy, dg, db)
	if x.Dtype() == tensor.Float32 {
		batchNormBackward(x.Float32s(), gain.Float32s(), dy.Float32s(), dg.Float32s(), db.Float32s(), f.mean, f.invStd, f.training, dx.Float32s())
	} else {
		batchNormBackward(x.Float64s(), gain.Float64s(), dy.Float64s(), dg.Float64s(), db.Float64s(), f.mean, f.invStd, f.training, dx.Float64s())
	}
	return dx, nil
}

// batchNormBackward writes dx from the output gradient dy and its column sums sumDy (the
// bias's gradient) and sumDyXhat (the gain's). With batch statistics, n rows:
//
//	dx[i,j] = gain[j] invStd[j] (dy[i,j] - sumDy[j]/n - xhat[i,j] sumDyXhat[j]/n)
//
// with running statistics dx = dy * gain * invStd.
func batchNormBackward[T Float](x, gain, dy, sumDyXhat, sumDy []T, mean, invStd []float64, training bool, dx []T) {
	width := len(gain)
	rows := len(x) / width
	// dx = a dy + b (x - mean) + c per column.
	a, b, c := make([]T, width), make([]T, width), make([]T, width)
	for j := range a {
		k := float64(gain[j]) * invStd[j]
		a[j] = T(k)
		if training {
			b[j] = T(-k * invStd[j] * float64(sumDyXhat[j]) / float64(rows))
			c[j] = T(-k * float64(sumDy[j]) / float64(rows))
		}
	}
	mu := make([]T, width)
	for j := range mu {
		mu[j] = T(mean[j])
	}
	forChunks(rows, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr, dr, out := x[i*width:(i+1)*width], dy[i*width:(i+1)*width], dx[i*width:(i+1)*width]
			xr, dr = xr[:len(out)], dr[:len(out)]
			a, b, c, mu := a[:len(out)], b[:len(out)], c[:len(out)], mu[:len(out)]
			for j := range out {
				out[j] = a[j]*dr[j] + b[j]*(xr[j]-mu[j]) + c[j]
			}
		}
	})
}

// columnSumOp returns the column sums of a matrix (the bias's gradient), accumulated in
// float64.
type columnSumOp struct{ opBase }

func (o *columnSumOp) Arity() int    { return 1 }
func (o *columnSumOp) Type() hm.Type { return hm.NewFnType(matrixType, vectorType) }
func (o *columnSumOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return matrixShape(o.name, ns, true)
}
func (o *columnSumOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *columnSumOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	out := o.output(prealloc, x.Dtype(), tensor.Shape{width}, x)
	sums := make([]float64, width)
	if x.Dtype() == tensor.Float32 {
		columnSums(x.Float32s(), sums)
		for j, v := range sums {
			out.Float32s()[j] = float32(v)
		}
	} else {
		columnSums(x.Float64s(), sums)
		copy(out.Float64s(), sums)
	}
	return out, nil
}

func columnSums[T Float](x []T, sums []float64) {
	width := len(sums)
	for i := 0; i < len(x)/width; i++ {
		row := x[i*width : (i+1)*width]
		s := sums[:len(row)]
		for j, v := range row {
			s[j] += float64(v)
		}
	}
}

// batchNormGradGain is the gradient with respect to the gain, sum_i dy * xhat; inputs x and
// the output gradient.
type batchNormGradGain struct {
	opBase
	fwd *batchNormOp
}

func (o *batchNormGradGain) Arity() int            { return 2 }
func (o *batchNormGradGain) Type() hm.Type         { return hm.NewFnType(matrixType, matrixType, vectorType) }
func (o *batchNormGradGain) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s(%p)", o.name, o.fwd) }
func (o *batchNormGradGain) Hashcode() uint32      { return hashOf(o) }
func (o *batchNormGradGain) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return matrixShape(o.name, ns, true)
}
func (o *batchNormGradGain) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *batchNormGradGain) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	dy, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	f := o.fwd
	width := x.Shape()[1]
	if !dy.Shape().Eq(x.Shape()) || dy.Dtype() != x.Dtype() || len(f.mean) != width {
		return nil, fmt.Errorf("%s: input %v %v, gradient %v %v, %d statistics: want one shape and dtype, the forward run first", o.name, x.Shape(), x.Dtype(), dy.Shape(), dy.Dtype(), len(f.mean))
	}
	dg := o.output(prealloc, x.Dtype(), tensor.Shape{width}, x, dy)
	sums := make([]float64, width)
	if x.Dtype() == tensor.Float32 {
		dyXhatSums(x.Float32s(), dy.Float32s(), f.mean, f.invStd, sums)
		for j, v := range sums {
			dg.Float32s()[j] = float32(v)
		}
	} else {
		dyXhatSums(x.Float64s(), dy.Float64s(), f.mean, f.invStd, sums)
		copy(dg.Float64s(), sums)
	}
	return dg, nil
}

var (
	_ G.SDOp            = (*batchNormOp)(nil)
	_ G.UsePreallocDoer = (*batchNormOp)(nil)
	_ G.UsePreallocDoer = (*batchNormGradX)(nil)
	_ G.UsePreallocDoer = (*batchNormGradGain)(nil)
	_ G.UsePreallocDoer = (*columnSumOp)(nil)
)
