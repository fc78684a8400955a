package ops

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestIndexGroupingCache runs ScatterAdd again and again on one op, as a training loop does, and
// checks every path of the grouping cache against the reference: a new index (swept), the same
// index again (sorted once and kept), again (the kept grouping, not sorted anew), an index changed
// in place without SetIndex (noticed), an index out of range (an error that leaves the cache
// valid), for 1, 2 and 3 workers.
func TestIndexGroupingCache(t *testing.T) {
	defer forceParallel()()
	const n, k, width = 37, 300, 5
	rng := rand.New(rand.NewPCG(5, 6))
	x := randDense(rng, tensor.Float64, k, width)
	x64 := asFloat64(x)
	first := make([]int, k)
	for i := range first {
		first[i] = rng.IntN(n)
	}
	for _, w := range []int{1, 2, 3} {
		SetMaxWorkers(w)
		op := newScatter(indexMap("ScatterAdd", "index", n, k, false), reduceSum, false)
		idxv := append([]int(nil), first...)
		idx := tensor.New(tensor.WithShape(k), tensor.WithBacking(idxv))
		var out G.Value
		run := func(step string) {
			t.Helper()
			var err error
			if out, err = op.UsePreallocDo(out, x, idx); err != nil {
				t.Fatalf("%d workers, %s: %v", w, step, err)
			}
			want := refScatter("sum", idxv, n, x64, width)
			if d := firstDiff(want, asFloat64(out.(*tensor.Dense))); d >= 0 {
				t.Fatalf("%d workers, %s: element %d differs from the reference", w, step, d)
			}
		}
		run("new index")
		snap := op.m.last.Load()
		if snap == nil || snap.group != nil {
			t.Fatalf("%d workers: after a new index the snapshot is %+v, want rows and no grouping", w, snap)
		}
		run("same index")
		snap = op.m.last.Load()
		if snap.group == nil {
			t.Fatalf("%d workers: an index seen twice was not grouped", w)
		}
		run("same index again")
		if op.m.last.Load() != snap {
			t.Fatalf("%d workers: a kept grouping was rebuilt for an unchanged index", w)
		}
		idxv[k/2] = (idxv[k/2] + 1) % n // in place, no SetIndex
		run("index changed in place")
		if s := op.m.last.Load(); s == snap || s.group != nil {
			t.Fatalf("%d workers: a changed index kept the old grouping", w)
		}
		run("changed index again")
		snap = op.m.last.Load()
		idxv[0] = n
		if _, err := op.UsePreallocDo(out, x, idx); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("%d workers: index out of range: %v", w, err)
		}
		if op.m.last.Load() != snap {
			t.Fatalf("%d workers: an index out of range replaced the kept one", w)
		}
		idxv[0] = first[0]
		run("valid again")
	}
}

// TestIndexGroupingAlways checks that a ScatterMax, which groups every index it sees, keeps the
// grouping at once and agrees with the reference when the index changes and when it does not.
func TestIndexGroupingAlways(t *testing.T) {
	const n, k, width = 11, 40, 3
	rng := rand.New(rand.NewPCG(7, 8))
	x := randDense(rng, tensor.Float64, k, width)
	x64 := asFloat64(x)
	op := newScatter(indexMap("ScatterMax", "index", n, k, false), reduceMax, false)
	idxv := make([]int, k)
	idx := tensor.New(tensor.WithShape(k), tensor.WithBacking(idxv))
	for run := 0; run < 6; run++ {
		if run%3 == 0 {
			for i := range idxv {
				idxv[i] = rng.IntN(n)
			}
		}
		out, err := op.Do(x, idx)
		if err != nil {
			t.Fatal(err)
		}
		if op.m.last.Load().group == nil {
			t.Fatalf("run %d: a max scatter did not keep its grouping", run)
		}
		if d := firstDiff(refScatter("max", idxv, n, x64, width), asFloat64(out.(*tensor.Dense))); d >= 0 {
			t.Fatalf("run %d: element %d differs from the reference", run, d)
		}
	}
}

// TestIndexGroupingAllocs checks that scatters by an index that changes every run (a new sample
// of edges each epoch) reuse the buffers of the groupings they replace instead of allocating
// new ones.
func TestIndexGroupingAllocs(t *testing.T) {
	const n, k, width = 1000, 100000, 2
	rng := rand.New(rand.NewPCG(11, 12))
	x := randDense(rng, tensor.Float32, k, width)
	var idx [3]*tensor.Dense
	for j := range idx {
		v := make([]int, k)
		for i := range v {
			v[i] = rng.IntN(n)
		}
		idx[j] = tensor.New(tensor.WithShape(k), tensor.WithBacking(v))
	}
	for _, r := range []reduction{reduceSum, reduceMax} {
		op := newScatter(indexMap("ScatterAdd", "index", n, k, false), r, false)
		var out G.Value
		var err error
		step := func(i int) {
			if out, err = op.UsePreallocDo(out, x, idx[i%len(idx)]); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 4; i++ {
			step(i)
		}
		const runs = 6
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := 4; i < 4+runs; i++ {
			step(i)
		}
		runtime.ReadMemStats(&after)
		// One index buffer is 4k bytes; a run that allocated its rows or grouping anew would
		// take at least that.
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4*k/8 {
			t.Errorf("%s: %d bytes allocated per run, want under %d", reductionNames[r], per, 4*k/8)
		}
	}
}
