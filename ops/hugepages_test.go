package ops

import (
	"github.com/gnnlab/gognn/internal/hugepage"

	"errors"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestHugePages runs IndexSelect and ScatterAdd over a matrix of several 2 MB pages with
// SetHugePages off, on with the system's madvise, and on with a madvise that fails, and checks
// the results are the same bits each way, that each buffer is advised once, and that an op given
// a new buffer advises that one.
func TestHugePages(t *testing.T) {
	const n, k, width = 500, 20000, 64 // 5 MB of float32 rows: at least one whole 2 MB page
	rng := rand.New(rand.NewPCG(9, 10))
	x := randDense(rng, tensor.Float32, k, width)
	x2 := x.Clone().(*tensor.Dense)
	idxv := make([]int, k)
	for i := range idxv {
		idxv[i] = rng.IntN(n)
	}
	idx := tensor.New(tensor.WithShape(k), tensor.WithBacking(idxv))
	run := func() (sel, add []float32) {
		gather := newGather(indexMap("IndexSelect", "index", k, k, false), false, false)
		scatter := newScatter(indexMap("ScatterAdd", "index", n, k, false), reduceSum, false)
		var out G.Value
		var err error
		for r := 0; r < 3; r++ { // swept, sorted and kept, kept: the last two read x grouped
			if out, err = scatter.UsePreallocDo(out, x, idx); err != nil {
				t.Fatal(err)
			}
		}
		add = append(add, out.(*tensor.Dense).Float32s()...)
		if _, err = scatter.UsePreallocDo(out, x2, idx); err != nil { // a second buffer to advise
			t.Fatal(err)
		}
		g, err := gather.Do(x, idx)
		if err != nil {
			t.Fatal(err)
		}
		return g.(*tensor.Dense).Float32s(), add
	}
	defer SetHugePages(SetHugePages(false))
	wantSel, wantAdd := run()

	SetHugePages(true)
	calls, failed := 0, 0
	defer func(f func([]byte) error) { madviseHuge = f }(madviseHuge)
	for _, fail := range []bool{false, true} {
		calls = 0
		madviseHuge = func(mem []byte) error {
			calls++
			if len(mem) == 0 || len(mem)%hugepage.Size != 0 {
				t.Errorf("madvise on %d bytes, want whole 2 MB pages", len(mem))
			}
			if fail {
				failed++
				return errors.New("no 2 MB page free")
			}
			return adviseAndCollapse(mem)
		}
		sel, add := run()
		// Advised: x by the scatter's grouped runs (once), x2 by its last run, x by the gather.
		if calls != 3 {
			t.Errorf("fail=%v: madvise called %d times, want 3", fail, calls)
		}
		for i := range wantSel {
			if sel[i] != wantSel[i] {
				t.Fatalf("fail=%v: IndexSelect element %d = %v, %v with 4 KB pages", fail, i, sel[i], wantSel[i])
			}
		}
		for i := range wantAdd {
			if add[i] != wantAdd[i] {
				t.Fatalf("fail=%v: ScatterAdd element %d = %v, %v with 4 KB pages", fail, i, add[i], wantAdd[i])
			}
		}
	}
	if failed != 3 {
		t.Errorf("the failing madvise ran %d times, want 3", failed)
	}
}
