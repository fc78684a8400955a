package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// ScatterSum returns out[i] = sum over the in-edges e of i of m[e]: edge rows (messages)
// summed onto destinations, as scatter(m, edge_index[1], reduce="sum") in PyTorch Geometric. m
// is (E, F) in a's edge order; out is (a.NumDst, F); a node without in-edges gets a zero row.
// Each row is summed in edge order by one worker, so results do not depend on the number of
// workers. The gradient is GatherDst of the output gradient.
func ScatterSum(a *graph.CSR, m *G.Node) (*G.Node, error) {
	return scatterEdges("ScatterSum", a, m, reduceSum)
}

// ScatterMean returns out[i] = (1/deg(i)) sum over the in-edges e of i of m[e], and a zero row
// for a node without in-edges. The gradient is dm[e] = dout[i] / deg(i).
func ScatterMean(a *graph.CSR, m *G.Node) (*G.Node, error) {
	return scatterEdges("ScatterMean", a, m, reduceMean)
}

// ScatterMax returns out[i][f] = max over the in-edges e of i of m[e][f], and a zero row for a
// node without in-edges. The gradient goes whole to the edge attaining the maximum; on ties, to
// the first such edge in a's edge order (torch_scatter's scatter_max also routes the whole
// gradient to one arg-max, while torch.scatter_reduce(reduce="amax"), which PyTorch Geometric's
// max aggregation uses, splits it evenly among the tied edges). NaN counts as the maximum.
func ScatterMax(a *graph.CSR, m *G.Node) (*G.Node, error) {
	return scatterEdges("ScatterMax", a, m, reduceMax)
}

func scatterEdges(op string, a *graph.CSR, m *G.Node, r reduction) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("ops: %s: nil graph", op)
	}
	if _, err := checkFeatureNode(op, "edge matrix m", m, a.NumEdges()); err != nil {
		return nil, err
	}
	return G.ApplyOp(newScatter(dstMap(op, a), r, false), m)
}

// ScatterAdd returns the (n, F) matrix out[j] = sum over k with idx[k] = j of src[k], as
// torch.zeros(n, F).index_add_(0, idx, src): the inverse of IndexSelect. src is (K, F); idx is a
// 1-D tensor.Int node of length K whose value may change between runs (see IndexSelect); an
// index outside [0, n) is an error of the run. Rows are summed in k order by one worker each,
// so results do not depend on the number of workers: a new index by a sweep of src in k order,
// an index that comes back unchanged (the usual case in a training loop) group by group, after a
// counting sort of idx done once and kept while idx stays the same. It is differentiable in src
// (dsrc[k] = dout[idx[k]]), not in idx.
func ScatterAdd(src, idx *G.Node, n int) (*G.Node, error) {
	k, err := checkIndexNode("ScatterAdd", "idx", idx)
	if err != nil {
		return nil, err
	}
	if _, err := checkFeatureNode("ScatterAdd", "src", src, k); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("ops: ScatterAdd: %d output rows; want n >= 0", n)
	}
	return G.ApplyOp(newScatter(indexMap("ScatterAdd", "index", n, k, false), reduceSum, false), src, idx)
}

type reduction int

const (
	reduceSum reduction = iota
	reduceMean
	reduceMax
)

var reductionNames = [...]string{"sum", "mean", "max"}

// scatterOp reduces the items of each node of a rowMap: y[i] = reduce over items k with
// rows[k] = i of x[k].
type scatterOp struct {
	opBase
	m       *rowMap
	reduce  reduction
	grad    bool // the backward op of a gather
	scratch mapScratch
	huge    hugeMemo
}

func newScatter(m *rowMap, r reduction, grad bool) *scatterOp {
	return &scatterOp{opBase: opBase{name: "scatter_" + reductionNames[r] + "_" + m.String(), g: m.g}, m: m, reduce: r, grad: grad}
}

func (o *scatterOp) Arity() int {
	if o.m.fixed() {
		return 1
	}
	return 2
}

func (o *scatterOp) Type() hm.Type {
	if o.m.fixed() {
		return hm.NewFnType(matrixType, matrixType)
	}
	return hm.NewFnType(matrixType, intVectorType, matrixType)
}

func (o *scatterOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.m.items); err != nil {
		return nil, err
	}
	return tensor.Shape{o.m.nodes, s[1]}, nil
}

func (o *scatterOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *scatterOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	op := o.m.errPrefix(o.grad)
	x, err := denseArg(op, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(op, "input", x.Shape(), o.m.items); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	need := groupAlways
	if o.reduce != reduceMax && !o.m.sorted && sweepScatters {
		need = groupCached
	}
	rows, gr, err := o.m.resolve(op, &o.scratch, vals, 1, need)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), tensor.Shape{o.m.nodes, width}, x)
	scattered := o.m.scattered()
	switch {
	case gr == nil:
		o.sweep(rows, x, y, width)
	case x.Dtype() == tensor.Float32:
		if scattered {
			adviseHuge(&o.huge, x.Float32s())
		}
		scatterRows(o.reduce, gr, x.Float32s(), y.Float32s(), width, scattered)
	default:
		if scattered {
			adviseHuge(&o.huge, x.Float64s())
		}
		scatterRows(o.reduce, gr, x.Float64s(), y.Float64s(), width, scattered)
	}
	return y, nil
}

// sweep runs a sum or mean scatter over an ungrouped index by sweepSum.
func (o *scatterOp) sweep(rows []int32, x, y *tensor.Dense, width int) {
	m := o.m
	bounds := ownerBounds(m.nodes, m.items, width)
	var counts []int32
	if o.reduce == reduceMean {
		if cap(o.scratch.counts) < m.nodes {
			o.scratch.counts = make([]int32, m.nodes)
		}
		counts = o.scratch.counts[:m.nodes]
	}
	if x.Dtype() == tensor.Float32 {
		sweepSum(rows, bounds, x.Float32s(), y.Float32s(), width, o.reduce == reduceMean, counts)
	} else {
		sweepSum(rows, bounds, x.Float64s(), y.Float64s(), width, o.reduce == reduceMean, counts)
	}
}

func scatterRows[T Float](r reduction, gr *graph.CSR, x, y []T, width int, scattered bool) {
	if r == reduceMax {
		rowMax(gr, x, y, nil, width)
		return
	}
	sumGroups(gr, x, y, width, r == reduceMean, scattered)
}

func (o *scatterOp) DiffWRT(n int) []bool { return diffFirst(n) }

func (o *scatterOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	switch o.reduce {
	case reduceMax:
		args := append(G.Nodes{inputs[0], grad}, inputs[1:]...)
		dx, err := G.ApplyOp(newScatterMaxGrad(o.m), args...)
		if err != nil {
			return nil, err
		}
		out := make(G.Nodes, len(inputs))
		out[0] = dx
		return out, nil
	case reduceMean:
		return adjoint(newGather(o.m, true, true), inputs, grad)
	}
	return adjoint(newGather(o.m, false, true), inputs, grad)
}

// scatterMaxGradOp computes dx from (x, dy[, idx]) for a max scatter, finding the arg-max items
// again rather than keeping them from the forward pass, so the op holds no state between runs.
type scatterMaxGradOp struct {
	opBase
	m       *rowMap
	scratch mapScratch
}

func newScatterMaxGrad(m *rowMap) *scatterMaxGradOp {
	return &scatterMaxGradOp{opBase: opBase{name: "scatter_max_grad_" + m.String(), g: m.g}, m: m}
}

func (o *scatterMaxGradOp) Arity() int {
	if o.m.fixed() {
		return 2
	}
	return 3
}

func (o *scatterMaxGradOp) Type() hm.Type {
	if o.m.fixed() {
		return hm.NewFnType(matrixType, matrixType, matrixType)
	}
	return hm.NewFnType(matrixType, matrixType, intVectorType, matrixType)
}

func (o *scatterMaxGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *scatterMaxGradOp) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *scatterMaxGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	op := o.m.errPrefix(true)
	x, dy, width, err := inputAndGrad(op, vals, o.m.items, o.m.nodes)
	if err != nil {
		return nil, err
	}
	_, gr, err := o.m.resolve(op, &o.scratch, vals, 2, groupAlways)
	if err != nil {
		return nil, err
	}
	dx := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, dy)
	if x.Dtype() == tensor.Float32 {
		maxGroupsBackward(gr, x.Float32s(), dy.Float32s(), dx.Float32s(), width)
	} else {
		maxGroupsBackward(gr, x.Float64s(), dy.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}
