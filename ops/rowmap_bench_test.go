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
//
// ScatterAdd runs with the same index every run, as in a training loop (after the warm-up runs
// its grouping is kept, see rowMap.resolve); ScatterAdd_new_index alternates two indices, so
// every run sweeps (sweepSum). The *_huge rows run with SetHugePages on, over copies of the
// inputs, so that the rows without it keep 4 KB pages; their streaming pass reads the same copies.
//
// Two untimed warm-up runs of each op come first (a fixed map builds its grouping, an index is
// swept then sorted, a buffer is collapsed into 2 MB pages): first-ms reports the first of them.
// Then every iteration runs the op and then its streaming pass, so both see the same load; the
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
	other := append([]int(nil), src...)
	rng.Shuffle(len(other), func(i, j int) { other[i], other[j] = other[j], other[i] })
	idx2 := tensor.New(tensor.WithShape(E), tensor.WithBacking(other))
	edgeBytes := int64(E) * width * 4
	shape := fmt.Sprintf("N=%d/deg=%d/F=%d", n, deg, width)

	copied := make([]float32, E*width)
	streamCopy := func(m *tensor.Dense) func() {
		return func() {
			s := m.Float32s()
			forChunks(E, width, func(lo, hi int) { copy(copied[lo*width:hi*width], s[lo*width:hi*width]) })
		}
	}
	rowPtr := make([]int, n+1)
	for i := range rowPtr {
		rowPtr[i] = i * deg
	}
	contiguous := &graph.CSR{NumSrc: E, NumDst: n, RowPtr: rowPtr, ColIdx: iota32(E)}
	summed := make([]float32, n*width)
	streamSum := func(m *tensor.Dense) func() {
		return func() { spmm(contiguous, nil, m.Float32s(), summed, width) }
	}

	// run times op (made anew for every -count, with fresh caches) against stream; ins are the
	// inputs of successive runs, in turn.
	run := func(name string, stream func(), newOp func() G.UsePreallocDoer, ins ...[]G.Value) {
		b.Run(name+"/"+shape, func(b *testing.B) {
			b.SetBytes(edgeBytes)
			op := newOp()
			var out G.Value
			var opTime, streamTime, first time.Duration
			runs := 0
			do := func() time.Duration {
				t0 := time.Now()
				if out, err = op.UsePreallocDo(out, ins[runs%len(ins)]...); err != nil {
					b.Fatal(err)
				}
				runs++
				return time.Since(t0)
			}
			first = do()
			do()
			stream()
			for b.Loop() {
				t := do()
				b.StopTimer()
				t1 := time.Now()
				stream()
				streamTime += time.Since(t1)
				b.StartTimer()
				opTime += t
			}
			b.ReportMetric(float64(opTime)/float64(streamTime), "x-stream")
			b.ReportMetric(float64(first)/1e6, "first-ms")
		})
	}
	gatherSrc := func() G.UsePreallocDoer { return newGather(srcMap("GatherSrc", a), false, false) }
	indexSelect := func() G.UsePreallocDoer {
		return newGather(indexMap("IndexSelect", "index", n, E, false), false, false)
	}
	srcBackward := func() G.UsePreallocDoer { return newScatter(srcMap("GatherSrc", a), reduceSum, true) }
	scatterAdd := func() G.UsePreallocDoer {
		return newScatter(indexMap("ScatterAdd", "index", n, E, false), reduceSum, false)
	}
	run("gather/GatherSrc", streamCopy(m), gatherSrc, []G.Value{x})
	run("gather/IndexSelect", streamCopy(m), indexSelect, []G.Value{x, idx})
	run("scatter/ScatterSum", streamSum(m), func() G.UsePreallocDoer {
		return newScatter(dstMap("ScatterSum", a), reduceSum, false)
	}, []G.Value{m})
	run("scatter/GatherSrc_backward", streamSum(m), srcBackward, []G.Value{m})
	run("scatter/ScatterAdd", streamSum(m), scatterAdd, []G.Value{m, idx})
	run("scatter/ScatterAdd_new_index", streamSum(m), scatterAdd, []G.Value{m, idx}, []G.Value{m, idx2})
	prefetchGroups = false
	run("gather/GatherSrc_noprefetch", streamCopy(m), gatherSrc, []G.Value{x})
	prefetchGroups = true

	defer SetHugePages(SetHugePages(true))
	xh, mh := x.Clone().(*tensor.Dense), m.Clone().(*tensor.Dense)
	run("gather/GatherSrc_huge", streamCopy(mh), gatherSrc, []G.Value{xh})
	run("gather/IndexSelect_huge", streamCopy(mh), indexSelect, []G.Value{xh, idx})
	run("scatter/GatherSrc_backward_huge", streamSum(mh), srcBackward, []G.Value{mh})
	run("scatter/ScatterAdd_huge", streamSum(mh), scatterAdd, []G.Value{mh, idx})
	b.Logf("asm backend: %s", asm.Backend())
}
