//go:build linux

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/ops/asm"
)

// scanRows is how many rows of the mapped matrix the search reads between checks of the memory
// budget: 64Ki rows of 128 float32 = 32 MiB.
const scanRows = 1 << 16

// hit is one search result: a row and its inner product with the query.
type hit struct {
	Row   int     `json:"row"`
	Score float32 `json:"score"`
}

// searchRun is what the exact k-NN scan over the mapped matrix measured.
type searchRun struct {
	Queries    int     `json:"queries"`
	K          int     `json:"k"`
	Seconds    float64 `json:"seconds"`
	GBps       float64 `json:"gbps_scanned"`
	Releases   int     `json:"releases"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Top        [][]hit `json:"top"`
}

// topK keeps the k best hits, best first, ties by lower row.
type topK struct {
	k    int
	hits []hit
}

func better(a, b hit) bool { return a.Score > b.Score || (a.Score == b.Score && a.Row < b.Row) }

func (t *topK) push(h hit) {
	if len(t.hits) == t.k && !better(h, t.hits[t.k-1]) {
		return
	}
	if len(t.hits) < t.k {
		t.hits = append(t.hits, h)
	} else {
		t.hits[t.k-1] = h
	}
	for i := len(t.hits) - 1; i > 0 && better(t.hits[i], t.hits[i-1]); i-- {
		t.hits[i], t.hits[i-1] = t.hits[i-1], t.hits[i]
	}
}

// exactSearch finds, for every query, the k rows of the mapped matrix with the largest inner
// product, reading each row once with the AVX2/AVX-512 dot kernel, in parallel over row ranges.
// With budget >= 0 the mapping is released whenever the file-backed resident set exceeds budget
// bytes, so the scan runs over a matrix larger than the memory the process may use.
func exactSearch(m *modelfile.Matrix, queries [][]float32, k, budget int) (top [][]hit, releases int, err error) {
	x, cols, rows := m.Data(), m.Cols(), m.Rows()
	workers := runtime.GOMAXPROCS(0)
	local := make([][]topK, workers)
	for w := range local {
		local[w] = make([]topK, len(queries))
		for q := range local[w] {
			local[w][q].k = k
		}
	}
	var wg sync.WaitGroup
	for lo := 0; lo < rows; lo += scanRows {
		hi := min(lo+scanRows, rows)
		for w := range workers {
			a, b := lo+(hi-lo)*w/workers, lo+(hi-lo)*(w+1)/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := a; i < b; i++ {
					row := x[i*cols : (i+1)*cols]
					for q, v := range queries {
						local[w][q].push(hit{Row: i, Score: asm.DotF32(v, row)})
					}
				}
			}()
		}
		wg.Wait()
		if budget >= 0 && fileResident() > budget {
			if err := m.Release(); err != nil {
				return nil, releases, err
			}
			releases++
		}
	}
	top = make([][]hit, len(queries))
	for q := range queries {
		merged := topK{k: k}
		for w := range local {
			for _, h := range local[w][q].hits {
				merged.push(h)
			}
		}
		top[q] = merged.hits
	}
	return top, releases, nil
}

// runSearch searches the cold, mapped matrix under the budget and checks every reported score
// against the row recomputed from the generator.
func runSearch(m *modelfile.Matrix, path, evictHow string, nq, k, budget int, seed uint64) (searchRun, *modelfile.Matrix, error) {
	rng := rand.New(rand.NewPCG(seed, 77))
	queries := make([][]float32, nq)
	for q := range queries {
		queries[q] = make([]float32, m.Cols())
		for j := range queries[q] {
			queries[q][j] = float32(rng.NormFloat64())
		}
	}
	m.Close()
	if err := evict(path, evictHow); err != nil {
		return searchRun{}, nil, err
	}
	m, err := modelfile.OpenMatrix(path)
	if err != nil {
		return searchRun{}, nil, err
	}
	runtime.GC()
	resetPeak()
	t := time.Now()
	top, releases, err := exactSearch(m, queries, k, budget)
	if err != nil {
		return searchRun{}, m, err
	}
	r := searchRun{Queries: nq, K: k, Seconds: time.Since(t).Seconds(), Releases: releases, Top: top}
	r.GBps = float64(m.Rows()) * float64(m.Cols()) * 4 / r.Seconds / 1e9
	r.PeakRSSMiB = readStatus()["VmHWM"] / 1024
	row := make([]float32, m.Cols())
	for q, hits := range top {
		if len(hits) != k {
			return r, m, fmt.Errorf("query %d: %d results, want %d", q, len(hits), k)
		}
		for _, h := range hits {
			fillRow(seed, h.Row, row)
			if want := asm.DotF32(queries[q], row); math.Abs(float64(want-h.Score)) > 1e-4*(1+math.Abs(float64(want))) {
				return r, m, fmt.Errorf("query %d: row %d scored %v, recomputed %v", q, h.Row, h.Score, want)
			}
		}
	}
	return r, m, nil
}
