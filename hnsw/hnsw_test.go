package hnsw_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/vecio"
)

// size returns n, or n/div under the race detector.
func size(n, div int) int {
	if raceEnabled {
		return n / div
	}
	return n
}

// dataset returns n base and nq query vectors from the same distribution: 50 overlapping
// Gaussian blobs (unit-variance centres, spread 1), harder than well separated clusters.
func dataset(n, nq, dim int, seed uint64) (base, queries []float32) {
	all := vecio.Clustered(n+nq, dim, 50, 1.0, seed)
	return all[:n*dim], all[n*dim:]
}

func build(t testing.TB, cfg hnsw.Config, base []float32) *hnsw.Index {
	t.Helper()
	ix, err := hnsw.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(base); i += cfg.Dim {
		id, err := ix.Add(base[i : i+cfg.Dim])
		if err != nil {
			t.Fatal(err)
		}
		if id != i/cfg.Dim {
			t.Fatalf("Add returned id %d, want %d", id, i/cfg.Dim)
		}
	}
	return ix
}

// searchAll runs every query and returns the results.
func searchAll(t testing.TB, ix *hnsw.Index, queries []float32, k, ef int) [][]hnsw.Result {
	t.Helper()
	dim := ix.Dim()
	out := make([][]hnsw.Result, len(queries)/dim)
	for q := range out {
		res, err := ix.Search(queries[q*dim:(q+1)*dim], k, ef)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(res, func(a, b hnsw.Result) int {
			if a.Dist != b.Dist {
				return cmpF(a.Dist, b.Dist)
			}
			return a.ID - b.ID
		}) {
			t.Fatalf("query %d: results not sorted by distance, id: %v", q, res)
		}
		out[q] = res
	}
	return out
}

func cmpF(a, b float32) int {
	if a < b {
		return -1
	}
	return 1
}

// recallOf returns recall@k of results against truth (k ids per query); mapIDs, when not nil,
// maps index ids to truth ids.
func recallOf(t testing.TB, results [][]hnsw.Result, truth []int32, k int, mapIDs []int) float64 {
	t.Helper()
	found := make([][]int, len(results))
	for q, res := range results {
		for _, r := range res {
			id := r.ID
			if mapIDs != nil {
				id = mapIDs[id]
			}
			found[q] = append(found[q], id)
		}
	}
	r, err := vecio.Recall(truth, k, found, k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkInvariants(t testing.TB, ix *hnsw.Index) {
	t.Helper()
	if err := ix.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestRecall: recall@10 >= 0.95 at ef = 100 against brute force, for every metric.
func TestRecall(t *testing.T) {
	n, nq, dim, k := size(10000, 10), 100, 32, 10
	base, queries := dataset(n, nq, dim, 1)
	for _, m := range []hnsw.Metric{hnsw.L2, hnsw.Cosine, hnsw.InnerProduct} {
		t.Run(m.String(), func(t *testing.T) {
			start := time.Now()
			ix := build(t, hnsw.Config{Dim: dim, Metric: m, M: 16, EfConstruction: 200, Seed: 7}, base)
			buildTime := time.Since(start)
			checkInvariants(t, ix)
			truth, err := vecio.GroundTruth(base, queries, dim, k, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, ef := range []int{10, 50, 100} {
				r := recallOf(t, searchAll(t, ix, queries, k, ef), truth, k, nil)
				t.Logf("%s n=%d dim=%d M=16 efC=200: build %v, ef=%d recall@%d = %.3f", m, n, dim, buildTime.Round(time.Millisecond), ef, k, r)
				if ef == 100 && r < 0.95 {
					t.Errorf("%s: recall@%d at ef=100 is %.3f, want >= 0.95", m, k, r)
				}
			}
		})
	}
}

// TestSearchSmall: exact results on tiny indexes, where the search visits everything.
func TestSearchSmall(t *testing.T) {
	ix, err := hnsw.New(hnsw.Config{Dim: 2, M: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ix.Search([]float32{0, 0}, 3, 0); err != nil || len(res) != 0 {
		t.Fatalf("empty index: %v, %v; want no results, no error", res, err)
	}
	if ix.Levels() != 0 {
		t.Errorf("empty index has %d levels, want 0", ix.Levels())
	}
	pts := [][]float32{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {2, 2}, {1, 0}}
	for _, p := range pts {
		if _, err := ix.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	res, err := ix.Search([]float32{0.9, 0.1}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []hnsw.Result{{1, 0.02}, {5, 0.02}, {3, 0.82}, {0, 0.82}, {2, 1.62}, {4, 4.82}}
	// Ties are broken by id: 1 before 5; 0 and 3 are both at 0.82 up to rounding.
	if len(res) != len(want) || res[0].ID != 1 || res[1].ID != 5 || res[4].ID != 2 || res[5].ID != 4 {
		t.Fatalf("Search = %v, want ids in order %v", res, want)
	}
	for i, r := range res {
		if math.Abs(float64(r.Dist-want[i].Dist)) > 1e-5 && !(i == 2 || i == 3) {
			t.Errorf("result %d distance %v, want %v", i, r.Dist, want[i].Dist)
		}
	}
	if res, _ := ix.Search([]float32{0.9, 0.1}, 2, 1); len(res) != 2 {
		t.Errorf("k=2, ef=1 gave %d results, want 2 (ef is raised to k)", len(res))
	}
	if v, err := ix.Vector(4); err != nil || !slices.Equal(v, []float32{2, 2}) {
		t.Errorf("Vector(4) = %v, %v", v, err)
	}
}

// TestReproducible: two builds with the same seed and insertion order are identical.
func TestReproducible(t *testing.T) {
	n, dim := size(3000, 5), 16
	base, queries := dataset(n, 20, dim, 2)
	cfg := hnsw.Config{Dim: dim, M: 8, EfConstruction: 64, Seed: 42}
	a, b := build(t, cfg, base), build(t, cfg, base)
	if a.Levels() != b.Levels() {
		t.Fatalf("levels %d vs %d", a.Levels(), b.Levels())
	}
	for l := 0; l < a.Levels(); l++ {
		ga, err := a.Layer(l)
		if err != nil {
			t.Fatal(err)
		}
		gb, _ := b.Layer(l)
		if !slices.Equal(ga.RowPtr, gb.RowPtr) || !slices.Equal(ga.ColIdx, gb.ColIdx) {
			t.Fatalf("layer %d differs between two builds with the same seed", l)
		}
	}
	if !reflect.DeepEqual(searchAll(t, a, queries, 10, 50), searchAll(t, b, queries, 10, 50)) {
		t.Fatal("search results differ between two builds with the same seed")
	}
	cfg.Seed = 43
	c := build(t, cfg, base)
	same := a.Levels() == c.Levels()
	for l := 0; same && l < a.Levels(); l++ {
		ga, _ := a.Layer(l)
		gc, _ := c.Layer(l)
		same = slices.Equal(ga.RowPtr, gc.RowPtr) && slices.Equal(ga.ColIdx, gc.ColIdx)
	}
	if same {
		t.Error("builds with seeds 42 and 43 are identical; is the seed used?")
	}
}

// TestLayer: every layer is a valid CSR over all ids whose edges join nodes of that layer, and
// layer sizes shrink geometrically.
func TestLayer(t *testing.T) {
	n, dim := size(4000, 4), 8
	base, _ := dataset(n, 0, dim, 3)
	ix := build(t, hnsw.Config{Dim: dim, M: 6, EfConstruction: 40, Seed: 1}, base)
	if ix.Levels() < 2 {
		t.Fatalf("only %d levels for %d nodes with M=6", ix.Levels(), n)
	}
	onLayer := make([]int, ix.Levels())
	var prev []bool
	for l := 0; l < ix.Levels(); l++ {
		g, err := ix.Layer(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("layer %d: %v", l, err)
		}
		if g.NumSrc != n || g.NumDst != n {
			t.Fatalf("layer %d: %v, want %d nodes", l, g, n)
		}
		has := make([]bool, n)
		for i := 0; i < n; i++ {
			src, _ := g.Row(i)
			if len(src) > 0 {
				has[i] = true
			}
			maxDeg := 6
			if l == 0 {
				maxDeg = 12
			}
			if len(src) > maxDeg {
				t.Fatalf("layer %d node %d: %d neighbours > %d", l, i, len(src), maxDeg)
			}
			for _, j := range src {
				if prev != nil && (!prev[i] || !prev[j]) {
					t.Fatalf("layer %d edge %d -> %d: a node missing from layer %d", l, j, i, l-1)
				}
			}
		}
		for _, h := range has {
			if h {
				onLayer[l]++
			}
		}
		prev = has
	}
	t.Logf("nodes with edges per layer: %v", onLayer)
	if onLayer[0] != n {
		t.Errorf("layer 0 has %d nodes with neighbours, want all %d", onLayer[0], n)
	}
	if onLayer[1] > n/3 {
		t.Errorf("layer 1 has %d of %d nodes, want about n/M", onLayer[1], n)
	}
	for _, l := range []int{-1, ix.Levels()} {
		if _, err := ix.Layer(l); err == nil {
			t.Errorf("Layer(%d) with %d levels: no error", l, ix.Levels())
		}
	}
}

// TestDelete: after deleting 10% of the nodes, none of them is returned, the graph invariants hold
// and recall on the remaining set stays >= 0.93.
func TestDelete(t *testing.T) {
	n, nq, dim, k := size(10000, 10), 100, 32, 10
	base, queries := dataset(n, nq, dim, 4)
	ix := build(t, hnsw.Config{Dim: dim, M: 16, EfConstruction: 200, Seed: 9}, base)
	// Delete every 10th node, and the nodes on the top layer (the entry point among them).
	del := map[int]bool{}
	top, err := ix.Layer(ix.Levels() - 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if src, _ := top.Row(i); len(src) > 0 || i%10 == 0 {
			del[i] = true
		}
	}
	levels := ix.Levels()
	for i := 0; i < n; i++ {
		if del[i] {
			if err := ix.Delete(i); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkInvariants(t, ix)
	if ix.Live() != n-len(del) || ix.Len() != n {
		t.Fatalf("Live %d, Len %d; want %d, %d", ix.Live(), ix.Len(), n-len(del), n)
	}
	t.Logf("deleted %d of %d nodes; levels %d -> %d", len(del), n, levels, ix.Levels())
	if err := ix.Delete(0); err == nil || !strings.Contains(err.Error(), "already deleted") {
		t.Errorf("deleting twice: %v", err)
	}
	// Ground truth over the remaining nodes.
	var rest []float32
	var restID []int
	toRest := make([]int, n)
	for i := 0; i < n; i++ {
		toRest[i] = -1
		if !del[i] {
			toRest[i] = len(restID)
			restID = append(restID, i)
			rest = append(rest, base[i*dim:(i+1)*dim]...)
		}
	}
	truth, err := vecio.GroundTruth(rest, queries, dim, k, hnsw.L2)
	if err != nil {
		t.Fatal(err)
	}
	results := searchAll(t, ix, queries, k, 100)
	for q, res := range results {
		for _, r := range res {
			if del[r.ID] || ix.Deleted(r.ID) != del[r.ID] {
				t.Fatalf("query %d returned deleted id %d", q, r.ID)
			}
		}
		if len(res) != k {
			t.Fatalf("query %d: %d results, want %d", q, len(res), k)
		}
	}
	r := recallOf(t, results, truth, k, toRest)
	t.Logf("recall@%d at ef=100 after deleting %d%%: %.3f", k, 100*len(del)/n, r)
	if r < 0.93 {
		t.Errorf("recall after deletes %.3f, want >= 0.93", r)
	}
	// Inserting after deletes keeps the reverse lists exact and finds the new nodes.
	extra, _ := dataset(50, 0, dim, 5)
	for i := 0; i < 50; i++ {
		if _, err := ix.Add(extra[i*dim : (i+1)*dim]); err != nil {
			t.Fatal(err)
		}
	}
	checkInvariants(t, ix)
	res, _ := ix.Search(extra[:dim], 1, 0)
	if len(res) != 1 || res[0].ID != n || res[0].Dist != 0 {
		t.Errorf("search for an added vector: %v, want id %d at distance 0", res, n)
	}
}

// TestDeleteAll: deleting every node leaves an empty but usable index.
func TestDeleteAll(t *testing.T) {
	base, _ := dataset(200, 0, 4, 6)
	ix := build(t, hnsw.Config{Dim: 4, M: 4, Seed: 3}, base)
	for i := 199; i >= 0; i-- {
		if err := ix.Delete(i); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			checkInvariants(t, ix)
		}
	}
	if res, err := ix.Search(base[:4], 5, 0); err != nil || len(res) != 0 {
		t.Fatalf("search after deleting all: %v, %v", res, err)
	}
	if ix.Levels() != 0 || ix.Live() != 0 {
		t.Errorf("Levels %d, Live %d after deleting all; want 0, 0", ix.Levels(), ix.Live())
	}
	if id, err := ix.Add(base[4:8]); err != nil || id != 200 {
		t.Fatalf("Add after deleting all: %d, %v", id, err)
	}
	if res, _ := ix.Search(base[:4], 5, 0); len(res) != 1 || res[0].ID != 200 {
		t.Fatalf("search: %v, want only id 200", res)
	}
	checkInvariants(t, ix)
}

// TestSaveLoad: a round trip gives the same layers and search results, continues a build the
// same way, and any damage to the file is an error.
func TestSaveLoad(t *testing.T) {
	n, dim := size(2000, 2), 12
	base, queries := dataset(n+100, 20, dim, 7)
	cfg := hnsw.Config{Dim: dim, Metric: hnsw.Cosine, M: 8, EfConstruction: 50, EfSearch: 30, KeepPruned: true, Seed: 5}
	ix := build(t, cfg, base[:n*dim])
	for i := 0; i < n; i += 7 {
		if err := ix.Delete(i); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "index.hnsw")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	ld, err := hnsw.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ld)
	if ld.Config() != ix.Config() || ld.Len() != ix.Len() || ld.Live() != ix.Live() || ld.Levels() != ix.Levels() {
		t.Fatalf("loaded index: %+v len %d live %d levels %d; saved %+v len %d live %d levels %d",
			ld.Config(), ld.Len(), ld.Live(), ld.Levels(), ix.Config(), ix.Len(), ix.Live(), ix.Levels())
	}
	sameIndex := func(what string) {
		t.Helper()
		for l := 0; l < ix.Levels(); l++ {
			ga, _ := ix.Layer(l)
			gb, _ := ld.Layer(l)
			if !slices.Equal(ga.RowPtr, gb.RowPtr) || !slices.Equal(ga.ColIdx, gb.ColIdx) {
				t.Fatalf("%s: layer %d differs", what, l)
			}
		}
		if !reflect.DeepEqual(searchAll(t, ix, queries, 10, 0), searchAll(t, ld, queries, 10, 0)) {
			t.Fatalf("%s: search results differ", what)
		}
	}
	sameIndex("after Load")
	// Continue both builds: the level generator's state was saved, so they stay identical.
	for i := n; i < n+100; i++ {
		v := base[i*dim : (i+1)*dim]
		a, _ := ix.Add(v)
		b, _ := ld.Add(v)
		if a != b {
			t.Fatalf("ids %d vs %d", a, b)
		}
	}
	if err := ld.Delete(3); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(3); err != nil {
		t.Fatal(err)
	}
	sameIndex("after Add and Delete on both")

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.hnsw")
	try := func(what string, b []byte, want string) {
		t.Helper()
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := hnsw.Load(bad)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: Load error %v, want one containing %q", what, err, want)
		}
	}
	for _, off := range []int{12, 40, len(data) / 3, len(data) / 2, len(data) - 20, len(data) - 1} {
		b := slices.Clone(data)
		b[off] ^= 0x10
		try("flipped byte", b, "checksum mismatch")
	}
	for _, cut := range []int{0, 5, 20, len(data) / 2, len(data) - 1} {
		try("truncated", data[:cut], "hnsw: Load")
	}
	b := slices.Clone(data)
	b[0] = 'X'
	try("bad magic", b, "not an hnsw index file")
	b = slices.Clone(data)
	b[8] = 9
	try("bad version", b, "version 9")
	if _, err := hnsw.Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing file: no error")
	}
	if err := ix.Save(filepath.Join(t.TempDir(), "no", "such", "dir", "x")); err == nil {
		t.Error("Save into a missing directory: no error")
	}
	// Save leaves no temporary files behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after Save, want 1", len(entries))
	}
}

// TestLoadValidates: a structurally wrong file with a valid checksum is still
// rejected (ErrCorrupt), not loaded.
func TestLoadValidates(t *testing.T) {
	base, _ := dataset(100, 0, 4, 8)
	ix := build(t, hnsw.Config{Dim: 4, M: 4, Seed: 3}, base)
	path := filepath.Join(t.TempDir(), "x.hnsw")
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	// Patch a neighbour id in the last list to an out-of-range value and fix the checksum.
	b := slices.Clone(data)
	put32(b[len(b)-8:], 1<<30)
	put32(b[len(b)-4:], crc32c(b[:len(b)-4]))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := hnsw.Load(path)
	if !errors.Is(err, hnsw.ErrCorrupt) {
		t.Fatalf("Load of an out-of-range neighbour: %v, want ErrCorrupt", err)
	}
}

func TestBadInput(t *testing.T) {
	for _, cfg := range []hnsw.Config{
		{Dim: 0}, {Dim: -1}, {Dim: hnsw.MaxDim + 1}, {Dim: 4, M: 1}, {Dim: 4, M: -3}, {Dim: 4, M: hnsw.MaxM + 1},
		{Dim: 4, EfConstruction: -1}, {Dim: 4, EfSearch: -1}, {Dim: 4, Metric: 7},
	} {
		if _, err := hnsw.New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
	ix, err := hnsw.New(hnsw.Config{Dim: 3, Metric: hnsw.Cosine})
	if err != nil {
		t.Fatal(err)
	}
	if c := ix.Config(); c.M != hnsw.DefaultM || c.EfConstruction != hnsw.DefaultEfConstruction || c.EfSearch != hnsw.DefaultEfSearch {
		t.Errorf("defaults not filled: %+v", c)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		v    []float32
		want string
	}{
		{[]float32{1, 2}, "dimension 2"},
		{[]float32{1, 2, 3, 4}, "dimension 4"},
		{[]float32{1, nan, 3}, "NaN at position 1"},
		{[]float32{inf, 1, 3}, "+Inf at position 0"},
		{[]float32{0, 0, 0}, "zero vector"},
	} {
		if _, err := ix.Add(c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Add(%v): %v, want an error containing %q", c.v, err, c.want)
		}
		if _, err := ix.Search(c.v, 1, 0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Search(%v): %v, want an error containing %q", c.v, err, c.want)
		}
	}
	if ix.Len() != 0 {
		t.Fatalf("failed Adds changed Len to %d", ix.Len())
	}
	if _, err := ix.Add([]float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	q := []float32{1, 0, 0}
	for _, c := range []struct{ k, ef int }{{0, 10}, {-1, 10}, {1, -1}, {1, hnsw.MaxEf + 1}} {
		if _, err := ix.Search(q, c.k, c.ef); err == nil {
			t.Errorf("Search(k=%d, ef=%d): no error", c.k, c.ef)
		}
	}
	for _, id := range []int{-1, 1, 100} {
		if err := ix.Delete(id); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("Delete(%d): %v", id, err)
		}
		if _, err := ix.Vector(id); err == nil {
			t.Errorf("Vector(%d): no error", id)
		}
		if ix.Deleted(id) {
			t.Errorf("Deleted(%d) = true", id)
		}
	}
	if v, err := ix.Vector(0); err != nil || math.Abs(float64(v[0]*v[0]+v[1]*v[1]+v[2]*v[2])-1) > 1e-6 {
		t.Errorf("Vector(0) = %v, %v; want the normalised vector", v, err)
	}
}

// TestConcurrent: searches and Vector run while one goroutine adds, deletes and updates (meant
// for -race: Update overwrites vectors that searches read without a lock).
func TestConcurrent(t *testing.T) {
	n, dim := size(3000, 5), 16
	base, queries := dataset(n, 50, dim, 10)
	half := n / 2
	ix := build(t, hnsw.Config{Dim: dim, M: 8, EfConstruction: 64, Seed: 1}, base[:half*dim])
	var wg sync.WaitGroup
	var done atomic.Bool
	errc := make(chan error, 8)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; !done.Load(); i++ {
				q := queries[(i%50)*dim : (i%50+1)*dim]
				res, err := ix.Search(q, 10, 40)
				if err != nil {
					errc <- err
					return
				}
				for _, r := range res {
					if r.ID < 0 || r.ID >= ix.Len() {
						errc <- errors.New("search returned an id out of range")
						return
					}
				}
				if _, err := ix.Vector(i % half); err != nil {
					errc <- err
					return
				}
				// Yield, as a server's searches do waiting for the network: an Update waits
				// for the searches running, and its wake-up would otherwise wait for a
				// preemption of these loops.
				runtime.Gosched()
			}
		}(g)
	}
	for i := half; i < n; i++ {
		if _, err := ix.Add(base[i*dim : (i+1)*dim]); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if err := ix.Delete(i - half); err != nil {
				t.Fatal(err)
			}
		}
		if i%7 == 0 { // live and deleted ids alike
			if err := ix.Update((i*3)%half, base[(n-1-i)*dim:(n-i)*dim]); err != nil {
				t.Fatal(err)
			}
		}
		if i%500 == 0 {
			if _, err := ix.Layer(0); err != nil {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	checkInvariants(t, ix)
}

// TestSaveLoadEdgeCases: an empty index and an index whose nodes are all deleted round-trip and
// keep working.
func TestSaveLoadEdgeCases(t *testing.T) {
	dir := t.TempDir()
	ix, err := hnsw.New(hnsw.Config{Dim: 3, Metric: hnsw.InnerProduct, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "empty")
	if err := ix.Save(p); err != nil {
		t.Fatal(err)
	}
	ld, err := hnsw.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if ld.Len() != 0 || ld.Levels() != 0 || ld.Config() != ix.Config() {
		t.Fatalf("loaded empty index: len %d levels %d config %+v", ld.Len(), ld.Levels(), ld.Config())
	}
	for i := 0; i < 3; i++ {
		a, _ := ix.Add([]float32{float32(i), 1, 2})
		b, _ := ld.Add([]float32{float32(i), 1, 2})
		if a != b {
			t.Fatalf("ids %d, %d", a, b)
		}
	}
	for i := 0; i < 3; i++ {
		if err := ld.Delete(i); err != nil {
			t.Fatal(err)
		}
	}
	p = filepath.Join(dir, "deleted")
	if err := ld.Save(p); err != nil {
		t.Fatal(err)
	}
	ld2, err := hnsw.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ld2)
	if ld2.Len() != 3 || ld2.Live() != 0 || !ld2.Deleted(1) {
		t.Fatalf("loaded all-deleted index: len %d live %d", ld2.Len(), ld2.Live())
	}
	if id, err := ld2.Add([]float32{1, 1, 1}); err != nil || id != 3 {
		t.Fatalf("Add after Load: %d, %v", id, err)
	}
	if res, _ := ld2.Search([]float32{1, 1, 1}, 3, 0); len(res) != 1 || res[0].ID != 3 {
		t.Fatalf("Search: %v", res)
	}
}
