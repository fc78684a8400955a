package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// GatherSrc returns the (E, F) matrix of the source rows of a's edges, in a's edge order: row e
// is x[a.ColIdx[e]], as x.index_select(0, edge_index[0]) in PyTorch Geometric. x is
// (a.NumSrc, F). The gradient scatters onto the sources, dx[j] = sum over the out-edges e of j
// of dout[e], summed in edge order over a's transpose (no atomics: the same bits for any number
// of workers). A source without out-edges gets a zero gradient.
func GatherSrc(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("ops: GatherSrc: nil graph")
	}
	if _, err := checkFeatureNode("GatherSrc", "x", x, a.NumSrc); err != nil {
		return nil, err
	}
	return G.ApplyOp(newGather(srcMap("GatherSrc", a), false, false), x)
}

// GatherDst returns the (E, F) matrix of the destination rows of a's edges, in a's edge order:
// row e is x[i] for the destination i of edge e (x_i of a message function). x is (a.NumDst, F).
// The gradient is the per-destination sum of the edge rows, dx[i] = sum_{e into i} dout[e]
// (ScatterSum).
func GatherDst(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("ops: GatherDst: nil graph")
	}
	if _, err := checkFeatureNode("GatherDst", "x", x, a.NumDst); err != nil {
		return nil, err
	}
	return G.ApplyOp(newGather(dstMap("GatherDst", a), false, false), x)
}

// IndexSelect returns the (K, F) matrix of rows x[idx[k]], as torch.index_select(x, 0, idx). x
// is (N, F); idx is a 1-D tensor.Int node of length K (NewIndex makes one), whose value may be
// replaced between runs (SetIndex or gorgonia.Let) without rebuilding the graph; its length is
// fixed by its shape. An index outside [0, N) is an error of the run. Indices may repeat.
//
// The op is differentiable in x: dx[j] = sum over k with idx[k] = j of dout[k] (ScatterAdd),
// summed in k order. It is not differentiable in idx (integers have no gradient; as with
// gorgonia.ByIndices, idx must not be among gorgonia.Grad's targets).
func IndexSelect(x, idx *G.Node) (*G.Node, error) {
	s, err := checkFeatureNode("IndexSelect", "x", x, -1)
	if err != nil {
		return nil, err
	}
	k, err := checkIndexNode("IndexSelect", "idx", idx)
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(newGather(indexMap("IndexSelect", "index", s[0], k, false), false, false), x, idx)
}

// gatherOp copies node rows onto items, y[k] = x[rows[k]] for a rowMap; with mean, each row is
// divided by the number of items of its node, which makes it the adjoint of a mean scatter.
type gatherOp struct {
	opBase
	m       *rowMap
	mean    bool
	grad    bool // the backward op of a scatter
	scratch mapScratch
	huge    hugeMemo
	inv32   []float32
	inv64   []float64
}

func newGather(m *rowMap, mean, grad bool) *gatherOp {
	name := "gather_" + m.String()
	if mean {
		name = "gather_mean_" + m.String()
	}
	return &gatherOp{opBase: opBase{name: name, g: m.g}, m: m, mean: mean, grad: grad}
}

func (o *gatherOp) Arity() int {
	if o.m.fixed() {
		return 1
	}
	return 2
}

func (o *gatherOp) Type() hm.Type {
	if o.m.fixed() {
		return hm.NewFnType(matrixType, matrixType)
	}
	return hm.NewFnType(matrixType, intVectorType, matrixType)
}

func (o *gatherOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.m.nodes); err != nil {
		return nil, err
	}
	return tensor.Shape{o.m.items, s[1]}, nil
}

func (o *gatherOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *gatherOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	op := o.m.errPrefix(o.grad)
	x, err := denseArg(op, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(op, "input", x.Shape(), o.m.nodes); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	need := groupNone
	if o.mean {
		need = groupAlways
	}
	rows, gr, err := o.m.resolve(op, &o.scratch, vals, 1, need)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), tensor.Shape{o.m.items, width}, x)
	if x.Dtype() == tensor.Float32 {
		var scale []float32
		if o.mean {
			o.inv32 = inverseCounts(gr, o.inv32)
			scale = o.inv32
		}
		if o.m.scattered() {
			adviseHuge(&o.huge, x.Float32s())
		}
		gatherRows(rows, x.Float32s(), y.Float32s(), width, scale)
	} else {
		var scale []float64
		if o.mean {
			o.inv64 = inverseCounts(gr, o.inv64)
			scale = o.inv64
		}
		if o.m.scattered() {
			adviseHuge(&o.huge, x.Float64s())
		}
		gatherRows(rows, x.Float64s(), y.Float64s(), width, scale)
	}
	return y, nil
}

func (o *gatherOp) DiffWRT(n int) []bool { return diffFirst(n) }

func (o *gatherOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	reduce := reduceSum
	if o.mean {
		reduce = reduceMean
	}
	return adjoint(newScatter(o.m, reduce, true), inputs, grad)
}

// diffFirst says an op is differentiable in its first input only (the others are indices).
func diffFirst(n int) []bool {
	d := make([]bool, n)
	if n > 0 {
		d[0] = true
	}
	return d
}

// adjoint applies the backward op of a gather or scatter to the output gradient and the
// forward's index input, if any; the index gets no gradient.
func adjoint(back G.Op, inputs G.Nodes, grad *G.Node) (G.Nodes, error) {
	args := append(G.Nodes{grad}, inputs[1:]...)
	dx, err := G.ApplyOp(back, args...)
	if err != nil {
		return nil, err
	}
	out := make(G.Nodes, len(inputs))
	out[0] = dx
	return out, nil
}
