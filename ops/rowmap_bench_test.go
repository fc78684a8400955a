package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// BenchmarkGatherScatter times the edge-level ops alone on a random graph where every node has
// deg in-neighbours, float32 rows of width F, against a streaming pass over the same bytes: the
// bound each can approach. SetBytes counts the (E, F) edge matrix, so MB/s compares directly:
//
//	gather/*        GatherSrc, IndexSelect: E random rows read, E rows written;
//	                against a copy of E rows from a contiguous buffer
//	scatter/*       ScatterSum, ScatterAdd, GatherSrc's backward: E rows read, N rows written;
//	                against a sum of the same E rows in groups of deg from a contiguous buffer
//	                (ScatterAdd_grouped: the index sorted into groups run by run and summed group
//	                by group, the alternative to sweepSum)
//
// Every iteration runs the op and then its streaming pass, so both see the same load; the
// x-stream metric is the ratio of their total times (ns/op counts the op alone).
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

	copied := make([]float32, E*width)
	streamCopy := func() {
		s := m.Float32s()
		forChunks(E, width, func(lo, hi int) { copy(copied[lo*width:hi*width], s[lo*width:hi*width]) })
	}
	rowPtr := make([]int, n+1)
	for i := range rowPtr {
		rowPtr[i] = i * deg
	}
	contiguous := &graph.CSR{NumSrc: E, NumDst: n, RowPtr: rowPtr, ColIdx: iota32(E)}
	summed := make([]float32, n*width)
	streamSum := func() { spmm(contiguous, nil, m.Float32s(), summed, width) }

	run := func(name string, stream func(), op G.UsePreallocDoer, in ...G.Value) {
		b.Run(name+"/"+shape, func(b *testing.B) {
			b.SetBytes(edgeBytes)
			var out G.Value
			var opTime, streamTime time.Duration
			for b.Loop() {
				t0 := time.Now()
				if out, err = op.UsePreallocDo(out, in...); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				b.StopTimer()
				stream()
				streamTime += time.Since(t1)
				b.StartTimer()
				opTime += t1.Sub(t0)
			}
			b.ReportMetric(float64(opTime)/float64(streamTime), "x-stream")
		})
	}
	run("gather/GatherSrc", streamCopy, newGather(srcMap("GatherSrc", a), false, false), x)
	run("gather/IndexSelect", streamCopy, newGather(indexMap("IndexSelect", "index", n, E, false), false, false), x, idx)
	run("scatter/ScatterSum", streamSum, newScatter(dstMap("ScatterSum", a), reduceSum, false), m)
	run("scatter/GatherSrc_backward", streamSum, newScatter(srcMap("GatherSrc", a), reduceSum, true), m)
	run("scatter/ScatterAdd", streamSum, newScatter(indexMap("ScatterAdd", "index", n, E, false), reduceSum, false), m, idx)
	sweepScatters = false
	run("scatter/ScatterAdd_grouped", streamSum, newScatter(indexMap("ScatterAdd", "index", n, E, false), reduceSum, false), m, idx)
	sweepScatters = true
	prefetchGroups = false
	run("gather/GatherSrc_noprefetch", streamCopy, newGather(srcMap("GatherSrc", a), false, false), x)
	prefetchGroups = true
	b.Logf("asm backend: %s", asm.Backend())
}
