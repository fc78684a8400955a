package asm

import (
	"math"
	"slices"
	"testing"

	"github.com/gnnlab/gognn/internal/kernels"
)

// TestForwards checks that each function is its namesake in internal/kernels, where the kernels
// are tested against their references on every backend: same results, same panics.
func TestForwards(t *testing.T) {
	x := make([]float32, 4*24)
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	rows := []int32{3, 0, 2, 2}
	alpha := []float32{0.5, -1, 2, 0.25}
	if got, want := DotF32(x[:24], x[24:48]), kernels.DotF32(x[:24], x[24:48]); got != want {
		t.Errorf("DotF32 = %v, kernels.DotF32 = %v", got, want)
	}
	if got, want := L2SquaredF32(x[:24], x[24:48]), kernels.L2SquaredF32(x[:24], x[24:48]); got != want {
		t.Errorf("L2SquaredF32 = %v, kernels.L2SquaredF32 = %v", got, want)
	}
	y, want := make([]float32, 24), make([]float32, 24)
	GatherSumF32(y, x, 24, rows, alpha)
	kernels.GatherSumF32(want, x, 24, rows, alpha)
	if !slices.Equal(y, want) {
		t.Errorf("GatherSumF32 = %v, kernels.GatherSumF32 = %v", y, want)
	}
	arg, wantArg := make([]int32, 24), make([]int32, 24)
	GatherMaxF32(y, arg, x, 24, rows, 7)
	kernels.GatherMaxF32(want, wantArg, x, 24, rows, 7)
	if !slices.Equal(y, want) || !slices.Equal(arg, wantArg) {
		t.Errorf("GatherMaxF32 = %v %v, kernels.GatherMaxF32 = %v %v", y, arg, want, wantArg)
	}
	if Backend() != kernels.Backend() {
		t.Errorf("Backend() = %q, kernels.Backend() = %q", Backend(), kernels.Backend())
	}
	defer func() {
		if recover() == nil {
			t.Error("GatherSumF32 with a row out of range did not panic")
		}
	}()
	GatherSumF32(y, x, 24, []int32{4}, nil)
}
