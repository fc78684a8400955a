package hnsw

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestAdviseHugePages: a large table is advised without error where the kernel has transparent
// huge pages, and small ones are left alone.
func TestAdviseHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("no transparent huge pages here (%q, %v)", mode, err)
	}
	if err := adviseHugePages(make([]float32, 2*minHugeTable)); err != nil {
		t.Errorf("advising a %d MB table: %v", 8*minHugeTable>>20, err)
	}
	if err := adviseHugePages(make([]float32, 16)); err != nil {
		t.Errorf("a small table: %v", err)
	}
	defer func(on bool) { hugePages = on }(hugePages)
	hugePages = false
	if err := adviseHugePages(make([]float32, 2*minHugeTable)); err != nil {
		t.Errorf("with huge pages off: %v", err)
	}
}

// BenchmarkSearchHugePages times a search (k 10, ef 64) on two indexes of the same
// HNSW_BENCH_N (default 100,000) clustered 128-dimensional vectors, built with 4 KB and with
// 2 MB pages, both kept alive so that the second cannot reuse the first's memory:
//
//	go test ./hnsw -run XXX -bench SearchHugePages -benchtime 20000x
func BenchmarkSearchHugePages(b *testing.B) {
	n, dim := 100000, 128
	if s := os.Getenv("HNSW_BENCH_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cent := make([]float32, 100*dim)
	for i := range cent {
		cent[i] = float32(rng.NormFloat64())
	}
	const queries = 2000
	all := make([]float32, (n+queries)*dim)
	for i := range n + queries {
		c := rng.IntN(100)
		for j := range dim {
			all[i*dim+j] = cent[c*dim+j] + 0.5*float32(rng.NormFloat64())
		}
	}
	defer func(on bool) { hugePages = on }(hugePages)
	var kept []*Index
	for _, on := range []bool{false, true} {
		hugePages = on
		ix, err := New(Config{Dim: dim, EfConstruction: 100, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if _, err := ix.Add(all[i*dim : (i+1)*dim]); err != nil {
				b.Fatal(err)
			}
		}
		kept = append(kept, ix)
		name := map[bool]string{false: "4KB", true: "2MB"}[on]
		b.Run(name, func(b *testing.B) {
			q := 0
			for b.Loop() {
				if _, err := ix.Search(all[(n+q)*dim:(n+q+1)*dim], 10, 64); err != nil {
					b.Fatal(err)
				}
				q = (q + 1) % queries
			}
		})
	}
	runtime.KeepAlive(kept)
}
