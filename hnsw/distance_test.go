package hnsw

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDistanceKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 37; n++ {
		a, b := make([]float32, n), make([]float32, n+3) // b longer: only len(a) is read
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		var l2, dot float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			l2 += d * d
			dot += float64(a[i]) * float64(b[i])
		}
		if got := l2F32(a, b); math.Abs(float64(got)-l2) > 1e-5*(1+l2) {
			t.Errorf("l2F32 n=%d: %v, want %v", n, got, l2)
		}
		if got := l2F32Go(a, b); math.Abs(float64(got)-l2) > 1e-5*(1+l2) {
			t.Errorf("l2F32Go n=%d: %v, want %v", n, got, l2)
		}
		if got := dotF32(a, b); math.Abs(float64(got)-dot) > 1e-5*(1+math.Abs(dot)*4) {
			t.Errorf("dotF32 n=%d: %v, want %v", n, got, dot)
		}
		if got := dotF32Go(a, b); math.Abs(float64(got)-dot) > 1e-5*(1+math.Abs(dot)*4) {
			t.Errorf("dotF32Go n=%d: %v, want %v", n, got, dot)
		}
	}
}

func TestDistanceMetrics(t *testing.T) {
	a, b := []float32{1, 2, 3}, []float32{4, 0, -1}
	if got := distance(L2, a, b); got != 9+4+16 {
		t.Errorf("L2 = %v, want 29", got)
	}
	if got := distance(InnerProduct, a, b); got != -1 {
		t.Errorf("IP = %v, want -1", got)
	}
	if got := distance(Cosine, a, b); got != 0 { // 1 - a.b; prepare normalises beforehand
		t.Errorf("Cosine = %v, want 1 - 1 = 0", got)
	}
}

func TestPrepare(t *testing.T) {
	v, err := prepare(Cosine, 2, []float32{3, 4}, "x", nil)
	if err != nil || math.Abs(float64(v[0])-0.6) > 1e-7 || math.Abs(float64(v[1])-0.8) > 1e-7 {
		t.Errorf("cosine prepare = %v, %v; want [0.6 0.8]", v, err)
	}
	for _, c := range []struct {
		m    Metric
		v    []float32
		want string
	}{
		{L2, []float32{1}, "dimension 1"},
		{L2, []float32{1, float32(math.NaN())}, "NaN at position 1"},
		{L2, []float32{float32(math.Inf(-1)), 1}, "-Inf at position 0"},
		{L2, []float32{3e38, 3e38}, "overflow"},
		{Cosine, []float32{0, 0}, "zero vector"},
	} {
		if _, err := prepare(c.m, 2, c.v, "x", nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("prepare(%v, %v) error %v, want one containing %q", c.m, c.v, err, c.want)
		}
	}
}

func TestHeapsAndSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 5, 31, 32, 33, 200} {
		c := make([]cand, n)
		for i := range c {
			c[i] = cand{float32(rng.IntN(10)), int32(rng.IntN(1000))}
		}
		var mn minHeap
		var mx maxHeap
		for _, x := range c {
			mn.push(x)
			mx.push(x)
		}
		sortCands(c)
		for i := range c {
			if i > 0 && c[i].less(c[i-1]) {
				t.Fatalf("n=%d: sortCands out of order at %d", n, i)
			}
			if got := mn.pop(); got != c[i] {
				t.Fatalf("n=%d: minHeap pop %d = %v, want %v", n, i, got, c[i])
			}
			if got := mx.pop(); got != c[n-1-i] {
				t.Fatalf("n=%d: maxHeap pop %d = %v, want %v", n, i, got, c[n-1-i])
			}
		}
	}
}

// TestHeuristic checks Algorithm 4 on points of a line: around base 0, candidates at 1, 2 and -1.5.
// 2 is closer to 1 than to the base and is pruned; -1.5 is on the other side and kept.
func TestHeuristic(t *testing.T) {
	for _, keep := range []bool{false, true} {
		ix, err := New(Config{Dim: 1, M: 2, KeepPruned: keep})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []float32{0, 1, 2, -1.5} {
			ix.reserve(ix.Len() + 1)
			copy(ix.vecs[ix.Len():], []float32{x})
			ix.n.Add(1)
		}
		c := []cand{{1, 1}, {4, 2}, {2.25, 3}}
		sortCands(c)
		got := ix.heuristic(c, 2)
		if len(got) != 2 || got[0].id != 1 || got[1].id != 3 {
			t.Errorf("keep=%t: heuristic kept %v, want ids 1 and 3", keep, got)
		}
		got = ix.heuristic([]cand{{1, 1}, {4, 2}}, 3)
		if len(got) != 2 {
			t.Errorf("keep=%t: fewer candidates than m: kept %v, want both", keep, got)
		}
		got = ix.heuristic([]cand{{1, 1}, {4, 2}}, 2)
		if want := map[bool]int{false: 1, true: 2}[keep]; len(got) != want {
			t.Errorf("keep=%t: kept %v, want %d", keep, got, want)
		}
	}
}

var sink float32

// BenchmarkL2F32 times the squared distance at 128 dimensions: the kernel l2F32 runs (asm) and
// the Go loop it replaced (go).
func BenchmarkL2F32(b *testing.B) {
	x, y := make([]float32, 128), make([]float32, 128)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	for _, f := range []struct {
		name string
		l2   func(a, b []float32) float32
	}{{"asm", l2F32}, {"go", l2F32Go}} {
		b.Run(f.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink += f.l2(x, y)
			}
		})
	}
}

// l2F32Go is the pure Go squared distance unrolled by four that l2F32 was before it used the
// kernel of ops/asm: a second reference, and the baseline of BenchmarkL2F32.
func l2F32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i < len(a)-3; i += 4 {
		x := a[i : i+4 : len(a)]
		y := b[i : i+4 : len(a)]
		d0 := x[0] - y[0]
		d1 := x[1] - y[1]
		d2 := x[2] - y[2]
		d3 := x[3] - y[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dotF32Go is the pure Go inner product, unrolled by four: the reference dotF32 is checked
// against, and the baseline of the benchmarks.
func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i < len(a)-3; i += 4 {
		x := a[i : i+4 : len(a)]
		y := b[i : i+4 : len(a)]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func BenchmarkDotF32Go(b *testing.B) {
	x, y := make([]float32, 128), make([]float32, 128)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	for i := 0; i < b.N; i++ {
		sink += dotF32Go(x, y)
	}
}

func BenchmarkDotF32(b *testing.B) {
	x, y := make([]float32, 128), make([]float32, 128)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	for i := 0; i < b.N; i++ {
		sink += dotF32(x, y)
	}
}
