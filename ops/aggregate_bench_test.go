package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// BenchmarkAggregate times each aggregation's forward pass (and the backward pass of the linear
// ones) on a random graph where every node has exactly deg in-neighbours, float32 features.
// SetBytes counts the gathered feature bytes, N*deg*F*4, so MB/s is the gather bandwidth. The
// stream case reads the same number of bytes sequentially with the same kernel: the bound a
// gather can approach.
func BenchmarkAggregate(b *testing.B) {
	const n, deg, width = 100000, 16, 128
	a := randomWeighted(b, n, deg, 1)
	unweighted := &graph.CSR{NumSrc: a.NumSrc, NumDst: a.NumDst, RowPtr: a.RowPtr, ColIdx: a.ColIdx}
	rng := rand.New(rand.NewPCG(1, 1))
	x := randDense(rng, tensor.Float32, n, width)
	dy := randDense(rng, tensor.Float32, n, width)
	w := randDense(rng, tensor.Float32, a.NumEdges())
	out := tensor.New(tensor.WithShape(n, width), tensor.Of(tensor.Float32))
	dw := tensor.New(tensor.WithShape(a.NumEdges()), tensor.Of(tensor.Float32))
	gathered := int64(n) * deg * width * 4
	shape := fmt.Sprintf("N=%d/deg=%d/F=%d", n, deg, width)

	run := func(name string, op G.UsePreallocDoer, prealloc G.Value, in ...G.Value) {
		b.Run(name+"/"+shape, func(b *testing.B) {
			b.SetBytes(gathered)
			for b.Loop() {
				if _, err := op.UsePreallocDo(prealloc, in...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	sum := newSpmm("sum_aggregate", unweighted)
	weighted := newSpmm("weighted_aggregate", a)
	run("sum", sum, out, x)
	run("mean", newSpmm("mean_aggregate", a.MeanWeights()), out, x)
	run("max", &maxOp{opBase{name: "max_aggregate", g: a}}, out, x)
	run("weighted", weighted, out, x)
	run("edge_weighted", &edgeWeightedOp{opBase{name: "edge_weighted_aggregate", g: a}, 1, 1, false}, out, x, w)
	run("backward/sum", newSpmm("sum_aggregate_grad", unweighted.Transpose().Graph), out, dy)
	run("backward/weighted", newSpmm("weighted_aggregate_grad", a.Transpose().Graph), out, dy)
	run("backward/edge_weighted_x", &edgeWeightedGradX{opBase{name: "edge_weighted_aggregate_grad_x", g: a}, 1, 1}, out, w, dy)
	run("backward/edge_weighted_w", &edgeWeightedGradW{opBase{name: "edge_weighted_aggregate_grad_w", g: a}, 1, 1}, dw, x, dy)
	run("backward/max", &maxGradOp{opBase{name: "max_aggregate_grad", g: a}}, out, x, dy)

	b.Run("stream/"+shape, func(b *testing.B) {
		// The same bytes laid out contiguously: row r of the stream graph reads rows
		// r*deg .. r*deg+deg-1, so the whole pass is one sequential read.
		src := make([]float32, n*deg*width)
		for i := range src {
			src[i] = float32(i & 7)
		}
		seq := make([]int32, n*deg)
		for i := range seq {
			seq[i] = int32(i)
		}
		rowPtr := make([]int, n+1)
		for i := range rowPtr {
			rowPtr[i] = i * deg
		}
		stream := &graph.CSR{NumSrc: n * deg, NumDst: n, RowPtr: rowPtr, ColIdx: seq}
		y := make([]float32, n*width)
		b.SetBytes(gathered)
		b.ResetTimer()
		for b.Loop() {
			spmm(stream, nil, src, y, width)
		}
	})
	b.Logf("asm backend: %s", asm.Backend())
}
