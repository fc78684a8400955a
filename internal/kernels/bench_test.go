package kernels

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// The gather benchmarks model sum aggregation over a graph of benchN nodes with benchDeg
// in-neighbours each, drawn uniformly: every call gathers benchDeg rows of width w from an x of
// benchN rows, into the destination's own row of y, one destination after the other as a layer
// does. SetBytes counts the gathered bytes (benchDeg*w*size per call), so MB/s is the gather
// bandwidth; a whole pass is benchN calls.
const (
	benchN   = 100_000
	benchDeg = 16
)

var benchWidths = []int{16, 32, 64, 128, 256, 512}

var benchRows = sync.OnceValue(func() []int32 {
	r := rand.New(rand.NewPCG(11, 12))
	rows := make([]int32, benchN*benchDeg)
	for i := range rows {
		rows[i] = int32(r.IntN(benchN))
	}
	return rows
})

func benchMatrix(n, w int) []float32 {
	r := rand.New(rand.NewPCG(uint64(w), 13))
	x := make([]float32, n*w)
	for i := range x {
		x[i] = r.Float32()*2 - 1
	}
	return x
}

func BenchmarkGatherSumF32(b *testing.B) {
	benchGatherSum(b, false)
}

// BenchmarkGatherSumF32Weighted is the same with edge weights (alpha), as in GCN.
func BenchmarkGatherSumF32Weighted(b *testing.B) {
	benchGatherSum(b, true)
}

func benchGatherSum(b *testing.B, weighted bool) {
	rows := benchRows()
	var alpha []float32
	if weighted {
		alpha = benchMatrix(benchN, benchDeg)
	}
	for _, w := range benchWidths {
		x, y := benchMatrix(benchN, w), make([]float32, benchN*w)
		for _, l := range available() {
			b.Run(fmt.Sprintf("w=%d/%v", w, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(benchDeg * w * 4))
				i := 0
				for b.Loop() {
					var a []float32
					if weighted {
						a = alpha[i*benchDeg : (i+1)*benchDeg]
					}
					GatherSumF32(y[i*w:(i+1)*w], x, w, rows[i*benchDeg:(i+1)*benchDeg], a)
					if i++; i == benchN {
						i = 0
					}
				}
			})
		}
	}
}

// BenchmarkGatherSumF32Pass times one whole aggregation pass (benchN destinations, width 128)
// per op: the figure a layer sees.
func BenchmarkGatherSumF32Pass(b *testing.B) {
	const w = 128
	rows := benchRows()
	x, y := benchMatrix(benchN, w), make([]float32, benchN*w)
	for _, l := range available() {
		b.Run(fmt.Sprintf("w=%d/%v", w, l), func(b *testing.B) {
			defer setBackend(l)()
			b.SetBytes(benchN * benchDeg * w * 4)
			for b.Loop() {
				for i := 0; i < benchN; i++ {
					GatherSumF32(y[i*w:(i+1)*w], x, w, rows[i*benchDeg:(i+1)*benchDeg], nil)
				}
			}
		})
	}
}

// BenchmarkGatherSumF32Cached gathers from 256 rows only, which stay in L1/L2: the kernels'
// arithmetic and loop overhead without the memory system.
func BenchmarkGatherSumF32Cached(b *testing.B) {
	const n = 256
	rows := benchRows()
	for _, w := range benchWidths {
		x, y := benchMatrix(n, w), make([]float32, w)
		idx := make([]int32, len(rows))
		for i, r := range rows {
			idx[i] = r % n
		}
		for _, l := range available() {
			b.Run(fmt.Sprintf("w=%d/%v", w, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(benchDeg * w * 4))
				i := 0
				for b.Loop() {
					GatherSumF32(y, x, w, idx[i*benchDeg:(i+1)*benchDeg], nil)
					if i++; i == benchN {
						i = 0
					}
				}
			})
		}
	}
}

func BenchmarkGatherMaxF32(b *testing.B) {
	rows := benchRows()
	for _, w := range []int{16, 128, 512} {
		x, y, arg := benchMatrix(benchN, w), make([]float32, benchN*w), make([]int32, benchN*w)
		for _, l := range available() {
			b.Run(fmt.Sprintf("w=%d/%v", w, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(benchDeg * w * 4))
				i := 0
				for b.Loop() {
					GatherMaxF32(y[i*w:(i+1)*w], arg[i*w:(i+1)*w], x, w, rows[i*benchDeg:(i+1)*benchDeg], int32(i*benchDeg))
					if i++; i == benchN {
						i = 0
					}
				}
			})
		}
	}
}

// The vector benchmarks use lengths that stay in L1 or L2; SetBytes counts x and y.

func BenchmarkAxpyF32(b *testing.B) {
	for _, n := range []int{128, 1024, 16384} {
		x, y := benchMatrix(n, 1), benchMatrix(n, 2)
		for _, l := range available() {
			b.Run(fmt.Sprintf("n=%d/%v", n, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					AxpyF32(1e-3, x, y)
				}
			})
		}
	}
}

var sink float32

func BenchmarkDotF32(b *testing.B) {
	for _, n := range []int{128, 1024, 16384} {
		x, y := benchMatrix(n, 1), benchMatrix(n, 2)
		for _, l := range available() {
			b.Run(fmt.Sprintf("n=%d/%v", n, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					sink += DotF32(x, y)
				}
			})
		}
	}
}

// BenchmarkL2SquaredF32 includes the dimensions of typical embeddings (128) and of HNSW's
// benchmarks.
func BenchmarkL2SquaredF32(b *testing.B) {
	for _, n := range []int{64, 128, 1024, 16384} {
		x, y := benchMatrix(n, 1), benchMatrix(n, 2)
		for _, l := range available() {
			b.Run(fmt.Sprintf("n=%d/%v", n, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					sink += L2SquaredF32(x, y)
				}
			})
		}
	}
}

func BenchmarkScaleF32(b *testing.B) {
	for _, n := range []int{128, 1024, 16384} {
		x := benchMatrix(n, 1)
		for _, l := range available() {
			b.Run(fmt.Sprintf("n=%d/%v", n, l), func(b *testing.B) {
				defer setBackend(l)()
				b.SetBytes(int64(4 * n))
				for b.Loop() {
					ScaleF32(1, x)
				}
			})
		}
	}
}
