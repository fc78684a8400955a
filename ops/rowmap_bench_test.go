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

// BenchmarkGatherScatter times the edge-level ops alone on a random graph where every node has
// deg in-neighbours, float32 rows of width F, beside a streaming pass over the same bytes: the
// bound each can approach. SetBytes counts the (E, F) edge matrix, so MB/s compares directly:
//
//	gather/*        GatherSrc, IndexSelect: E random rows read, E rows written
//	stream/copy     the same E rows copied from a contiguous buffer (sequential read and write)
//	scatter/*       ScatterSum, ScatterAdd, GatherSrc's backward: E rows read, N rows written
//	stream/sum      the same E rows summed in groups of deg from a contiguous buffer
func BenchmarkGatherScatter(b *testing.B) {
	const n, deg, width = 100000, 16, 128
	a, err := graph.Random(n, deg, 1)
	if err != nil {
		b.Fatal(err)
	}
	E := a.NumEdges()
	rng := rand.New(rand.NewPCG(1, 1))
	x := randDense(rng, tensor.Float32, n, width)
	m := randDense(rng, tensor.Float32, E, width)
	src, _ := edgeLists(a)
	idx := tensor.New(tensor.WithShape(E), tensor.WithBacking(src))
	edgeBytes := int64(E) * width * 4
	shape := fmt.Sprintf("N=%d/deg=%d/F=%d", n, deg, width)
	run := func(name string, op G.UsePreallocDoer, in ...G.Value) {
		b.Run(name+"/"+shape, func(b *testing.B) {
			b.SetBytes(edgeBytes)
			var out G.Value
			for b.Loop() {
				if out, err = op.UsePreallocDo(out, in...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("gather/GatherSrc", newGather(srcMap("GatherSrc", a), false, false), x)
	run("gather/IndexSelect", newGather(indexMap("IndexSelect", "index", n, E, false), false, false), x, idx)
	run("scatter/ScatterSum", newScatter(dstMap("ScatterSum", a), reduceSum, false), m)
	run("scatter/GatherSrc_backward", newScatter(srcMap("GatherSrc", a), reduceSum, true), m)
	run("scatter/ScatterAdd", newScatter(indexMap("ScatterAdd", "index", n, E, false), reduceSum, false), m, idx)
	prefetchGroups = false
	run("scatter/GatherSrc_backward_noprefetch", newScatter(srcMap("GatherSrc", a), reduceSum, true), m)
	run("gather/GatherSrc_noprefetch", newGather(srcMap("GatherSrc", a), false, false), x)
	prefetchGroups = true

	b.Run("stream/copy/"+shape, func(b *testing.B) {
		s, d := m.Float32s(), make([]float32, E*width)
		b.SetBytes(edgeBytes)
		for b.Loop() {
			forChunks(E, width, func(lo, hi int) { copy(d[lo*width:hi*width], s[lo*width:hi*width]) })
		}
	})
	b.Run("stream/sum/"+shape, func(b *testing.B) {
		rowPtr := make([]int, n+1)
		for i := range rowPtr {
			rowPtr[i] = i * deg
		}
		stream := &graph.CSR{NumSrc: E, NumDst: n, RowPtr: rowPtr, ColIdx: iota32(E)}
		y := make([]float32, n*width)
		b.SetBytes(edgeBytes)
		for b.Loop() {
			spmm(stream, nil, m.Float32s(), y, width)
		}
	})
	b.Logf("asm backend: %s", asm.Backend())
}
