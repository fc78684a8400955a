package vecmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormalize checks unit length and that Normalize, in place or not, gives the same bits.
func TestNormalize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 64, 300} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 10)
		}
		sq := SquaredNorm(v)
		out := make([]float32, n)
		Normalize(out, v, sq)
		in := append([]float32(nil), v...)
		Normalize(in, in, SquaredNorm(in))
		var u float64
		for i, x := range out {
			if math.Float32bits(x) != math.Float32bits(in[i]) {
				t.Fatalf("n=%d: in place %v, copy %v at %d", n, in[i], x, i)
			}
			u += float64(x) * float64(x)
		}
		if math.Abs(u-1) > 1e-6 {
			t.Errorf("n=%d: |Normalize(v)|^2 = %v, want 1", n, u)
		}
	}
}

// TestDistances compares Dot and L2Squared with float64 sums.
func TestDistances(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 16, 33, 128} {
		a, b := make([]float32, n), make([]float32, n)
		var dot, l2 float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			dot += float64(a[i]) * float64(b[i])
			d := float64(a[i] - b[i])
			l2 += d * d
		}
		if got := Dot(a, b); math.Abs(float64(got)-dot) > 1e-4*(1+math.Abs(dot)) {
			t.Errorf("n=%d: Dot = %v, want %v", n, got, dot)
		}
		if got := L2Squared(a, b); math.Abs(float64(got)-l2) > 1e-4*(1+l2) {
			t.Errorf("n=%d: L2Squared = %v, want %v", n, got, l2)
		}
	}
}
