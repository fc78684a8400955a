package hnsw_test

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/vecio"
)

// Benchmarks run on 128-dimensional clustered data. HNSW_BENCH_N sets the base size of the search
// benchmarks (default 20000; the build is timed and logged once), e.g.
//
//	HNSW_BENCH_N=100000 go test ./hnsw -run XXX -bench Search -benchtime 2000x -timeout 30m
const benchDim = 128

func benchN() int {
	if s := os.Getenv("HNSW_BENCH_N"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 20000
}

var bench struct {
	once    sync.Once
	ix      *hnsw.Index
	queries []float32
	truth   []int32
}

const benchQueries = 200

func benchIndex(b *testing.B) {
	bench.once.Do(func() {
		n := benchN()
		base, queries := dataset(n, benchQueries, benchDim, 11)
		start := time.Now()
		bench.ix = build(b, hnsw.Config{Dim: benchDim, M: 16, EfConstruction: 200, Seed: 1}, base)
		el := time.Since(start)
		fmt.Fprintf(os.Stderr, "hnsw bench: built %d x %d (M=16, efC=200) in %v (%.0f inserts/s)\n", n, benchDim, el.Round(time.Millisecond), float64(n)/el.Seconds())
		var err error
		if bench.truth, err = vecio.GroundTruth(base, queries, benchDim, 10, hnsw.L2); err != nil {
			b.Fatal(err)
		}
		bench.queries = queries
	})
	if bench.ix == nil {
		b.Fatal("benchmark index was not built")
	}
}

// BenchmarkAdd times one insertion into an index that grows to b.N vectors.
func BenchmarkAdd(b *testing.B) {
	n := min(b.N, 200000)
	base, _ := dataset(n, 0, benchDim, 12)
	ix, err := hnsw.New(hnsw.Config{Dim: benchDim, M: 16, EfConstruction: 200, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % n
		if _, err := ix.Add(base[j*benchDim : (j+1)*benchDim]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch times one k=10 query at each ef and reports recall@10 and queries per second.
func BenchmarkSearch(b *testing.B) {
	benchIndex(b)
	for _, ef := range []int{10, 20, 40, 80, 160, 320} {
		b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
			r := recallOf(b, searchAll(b, bench.ix, bench.queries, 10, ef), bench.truth, 10, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := i % benchQueries
				if _, err := bench.ix.Search(bench.queries[q*benchDim:(q+1)*benchDim], 10, ef); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(r, "recall@10")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
		})
	}
}

// BenchmarkSearchParallel runs searches on all GOMAXPROCS threads (ef = 80).
func BenchmarkSearchParallel(b *testing.B) {
	benchIndex(b)
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := int(next.Add(1)) % benchQueries
			if _, err := bench.ix.Search(bench.queries[q*benchDim:(q+1)*benchDim], 10, 80); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
}

// BenchmarkSearchDuringAdd: searches (ef = 80) while one goroutine keeps inserting into a 5000
// node index; reports search qps and the inserts done meanwhile.
func BenchmarkSearchDuringAdd(b *testing.B) {
	const start = 5000
	base, queries := dataset(start+100000, benchQueries, benchDim, 13)
	ix := build(b, hnsw.Config{Dim: benchDim, M: 16, EfConstruction: 200, Seed: 1}, base[:start*benchDim])
	var stop atomic.Bool
	var added atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := start; i < start+100000 && !stop.Load(); i++ {
			if _, err := ix.Add(base[i*benchDim : (i+1)*benchDim]); err != nil {
				b.Error(err)
				return
			}
			added.Add(1)
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := i % benchQueries
		if _, err := ix.Search(queries[q*benchDim:(q+1)*benchDim], 10, 80); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stop.Store(true)
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
	b.ReportMetric(float64(added.Load())/b.Elapsed().Seconds(), "inserts/s")
}
