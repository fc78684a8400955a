package search

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/modelfile"
)

// corpus is a generated clustered data set with hidden labels: each vector is its class's
// centre, which lives in the first signal dimensions, plus isotropic noise over all dimensions
// that is larger than the signal, so raw cosine similarity finds same-class neighbours only
// part of the time and a learned metric can do much better.
type corpus struct {
	vecs   [][]float32
	labels []int
}

func clustered(n, dim, signal, classes int, noise float64, seed uint64) corpus {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, classes)
	for c := range centres {
		centres[c] = make([]float64, signal)
		var sq float64
		for j := range centres[c] {
			centres[c][j] = rng.NormFloat64()
			sq += centres[c][j] * centres[c][j]
		}
		for j := range centres[c] {
			centres[c][j] /= math.Sqrt(sq)
		}
	}
	var c corpus
	for i := 0; i < n; i++ {
		y := i % classes
		v := make([]float32, dim)
		for j := range v {
			x := noise * rng.NormFloat64()
			if j < signal {
				x += centres[y][j]
			}
			v[j] = float32(x)
		}
		c.vecs = append(c.vecs, v)
		c.labels = append(c.labels, y)
	}
	return c
}

// testConfig is small enough for the tests to train in a second or two.
var testConfig = Config{Hidden: 16, Candidates: 50, QueryDegree: 8, Steps: 15, BatchSize: 16, LearningRate: 0.01, Seed: 3}

func build(t testing.TB, c corpus, cfg Config) *Index {
	t.Helper()
	ix, err := hnsw.New(hnsw.Config{Dim: len(c.vecs[0]), Metric: hnsw.Cosine, M: 8, EfConstruction: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.vecs {
		if _, err := ix.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(ix, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const k = 10

// precision is the mean precision@k of the queries (their own ids excluded) under search.
func precision(t testing.TB, c corpus, queries []int, search func(Query, int) ([]Result, error)) float64 {
	t.Helper()
	hits := 0
	for _, q := range queries {
		res, err := search(Query{Vector: c.vecs[q], Exclude: []int{q}}, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.ID == q {
				t.Fatalf("query %d returned its excluded id", q)
			}
			if c.labels[r.ID] == c.labels[q] {
				hits++
			}
		}
	}
	return float64(hits) / float64(k*len(queries))
}

// feedbackRound searches each query, marks the shown results relevant iff same class, records
// the feedback and trains.
func feedbackRound(t testing.TB, s *Index, c corpus, queries []int) TrainStats {
	t.Helper()
	judge(t, s, c, queries)
	st, err := s.Train()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// split returns a seeded feedback pool and held-out evaluation queries.
// judge searches each query (a corpus id, excluded from its results) and gives feedback on the
// top k: relevant = same label.
func judge(t testing.TB, s *Index, c corpus, queries []int) {
	t.Helper()
	for _, q := range queries {
		query := Query{Vector: c.vecs[q], Exclude: []int{q}}
		res, err := s.Search(query, k)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int, len(res))
		rel := make([]bool, len(res))
		for i, r := range res {
			ids[i], rel[i] = r.ID, c.labels[r.ID] == c.labels[q]
		}
		if err := s.Feedback(query, ids, rel); err != nil {
			t.Fatal(err)
		}
	}
}

func split(n, nEval int) (pool, eval []int) {
	perm := rand.New(rand.NewPCG(11, 0)).Perm(n)
	return perm[nEval:], perm[:nEval]
}

func TestFeedbackImprovesPrecision(t *testing.T) {
	c := clustered(600, 32, 6, 6, 0.3, 1)
	s := build(t, c, testConfig)
	pool, eval := split(len(c.vecs), 150)
	base := precision(t, c, eval, s.Baseline)
	p0 := precision(t, c, eval, s.Search)
	if p0 != base {
		t.Errorf("untrained: GNN precision@%d %.3f differs from plain HNSW %.3f; the residual starts at zero", k, p0, base)
	}
	curve := []float64{p0}
	for r := 0; r < 8; r++ {
		st := feedbackRound(t, s, c, pool[r*40:(r+1)*40])
		if st.Steps == 0 || math.IsNaN(st.Loss) {
			t.Fatalf("round %d: %+v", r, st)
		}
		curve = append(curve, precision(t, c, eval, s.Search))
	}
	t.Logf("held-out precision@%d: plain HNSW %.3f; GNN by round %.3f", k, base, curve)
	if last := curve[len(curve)-1]; last < base+0.1 {
		t.Errorf("after feedback precision@%d = %.3f, want >= plain HNSW %.3f + 0.1", k, last, base)
	}
	if curve[4] <= curve[0] || curve[8] <= curve[4] {
		t.Errorf("precision does not rise with feedback: %.3f", curve)
	}
	if st := s.Stats(); st.TotalEvents != 320 || st.Events != 320 || st.FeedbackEdges == 0 || st.Steps != 8*int64(testConfig.Steps) {
		t.Errorf("stats %+v", st)
	}
}

func TestUntrainedRankingIsHNSW(t *testing.T) {
	c := clustered(300, 24, 24, 4, 0.2, 2)
	s := build(t, c, Config{Seed: 5})
	for q := 0; q < 40; q++ {
		query := Query{Vector: c.vecs[q], Exclude: []int{q}}
		got, err := s.Search(query, k)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.Baseline(query, k)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(a, b Result) bool { return a.ID == b.ID }) {
			t.Fatalf("query %d: untrained GNN ranks %v, HNSW %v", q, got, want)
		}
	}
}

// TestForwardAgrees checks the pure-Go forward pass that serves queries against the Gorgonia
// graph that training differentiates, on a batch with queries, shown results, HNSW and feedback
// edges, after the weights have moved away from their initial values.
func TestForwardAgrees(t *testing.T) {
	c := clustered(200, 16, 4, 4, 0.3, 3)
	s := build(t, c, Config{Hidden: 8, Candidates: 30, QueryDegree: 5, Seed: 2})
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range s.params {
		for i := range p.Data {
			p.Data[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	w := snapshot(s.params, s.dim, s.cfg.Hidden)
	fb := make([][]int32, len(s.feats))
	fb[3], fb[7] = []int32{5, 9, 11}, []int32{3}

	// The block: 2 queries, then 3 corpus nodes, then their other neighbours.
	queries := []sparseVec{sparsify(normalize(c.vecs[0])), sparsify(normalize(c.vecs[1]))}
	qn := [][]int32{{3, 8}, {7}}
	dst := []int32{3, 7, 20}
	bl, err := newBlock(qn, dst, s.nbrs, fb)
	if err != nil {
		t.Fatal(err)
	}
	if bl.aF.NumEdges() != 4 || bl.aH.NumEdges() < 3 {
		t.Fatalf("block has %d feedback and %d HNSW edges", bl.aF.NumEdges(), bl.aH.NumEdges())
	}
	gc := s.base.Next()
	emb, err := bl.embed(gc, queries, s.feats, s.dim, s.cfg.Hidden)
	if err != nil {
		t.Fatal(err)
	}
	var val G.Value
	G.Read(emb, &val)
	vm := G.NewTapeMachine(gc.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := val.Data().([]float32)
	want := make([]float32, s.dim)
	sc := newScratch(s.cfg.Hidden)
	for r := 0; r < bl.nDst; r++ {
		if r < 2 {
			w.embed(want, sc, queries[r], s.feats, qn[r], nil)
		} else {
			id := dst[r-2]
			w.embed(want, sc, s.feats[id], s.feats, s.nbrs[id], fb[id])
		}
		for j, v := range want {
			if g := got[r*s.dim+j]; math.Abs(float64(g-v)) > 2e-6 {
				t.Fatalf("row %d column %d: graph %v, Go %v", r, j, g, v)
			}
		}
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	c := clustered(300, 16, 4, 4, 0.3, 4)
	pool, eval := split(len(c.vecs), 50)
	var runs [][]Result
	for range 2 {
		s := build(t, c, testConfig)
		feedbackRound(t, s, c, pool[:30])
		feedbackRound(t, s, c, pool[30:60])
		runs = append(runs, rankings(t, s, c, eval))
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Error("two runs with the same seed and feedback rank differently")
	}
}

// rankings returns the top k of Search for each eval vector, itself excluded, concatenated.
func rankings(t *testing.T, s *Index, c corpus, eval []int) []Result {
	t.Helper()
	var all []Result
	for _, q := range eval {
		res, err := s.Search(Query{Vector: c.vecs[q], Exclude: []int{q}}, k)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res...)
	}
	return all
}

func TestSaveLoadRoundTrip(t *testing.T) {
	c := clustered(300, 16, 4, 4, 0.3, 5)
	pool, eval := split(len(c.vecs), 50)
	s := build(t, c, testConfig)
	feedbackRound(t, s, c, pool[:30])
	feedbackRound(t, s, c, pool[30:60])
	// Feedback not trained on yet is saved too.
	q := Query{Vector: c.vecs[pool[60]], Exclude: []int{pool[60]}}
	if err := s.Feedback(q, []int{1, 2, 3}, []bool{true, true, false}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	l, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Config() != s.Config() || l.Stats() != s.Stats() {
		t.Errorf("loaded config %+v stats %+v, saved %+v %+v", l.Config(), l.Stats(), s.Config(), s.Stats())
	}
	same := func(when string) {
		t.Helper()
		for _, q := range eval {
			query := Query{Vector: c.vecs[q], Exclude: []int{q}}
			a, err := s.Search(query, k)
			if err != nil {
				t.Fatal(err)
			}
			b, err := l.Search(query, k)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Fatalf("%s: query %d: saved index ranks %v, loaded %v", when, q, a, b)
			}
		}
	}
	same("after Load")
	// Training continues identically: same Adam state, replay sampler and pending feedback.
	feedbackRound(t, s, c, pool[61:90])
	feedbackRound(t, l, c, pool[61:90])
	same("after training both")
}

func TestLoadRejectsCorruptAndMismatchedFiles(t *testing.T) {
	c := clustered(200, 16, 4, 4, 0.3, 6)
	s := build(t, c, testConfig)
	pool, _ := split(len(c.vecs), 20)
	feedbackRound(t, s, c, pool[:20])
	dir := t.TempDir()
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{3, 20, len(state) / 2, len(state) - 1} {
		bad := slices.Clone(state)
		bad[off] ^= 0x40
		if err := os.WriteFile(filepath.Join(dir, StateFile), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d flipped: Load error %v, want ErrCorrupt", off, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), state[:len(state)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated state: Load error %v, want ErrCorrupt", err)
	}
	// An index file from another save (a crash between the two renames).
	if err := os.WriteFile(filepath.Join(dir, StateFile), state, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(c.vecs[0]); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if err := s.Save(other); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(other, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, IndexFile), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "different saves") {
		t.Errorf("mismatched files: Load error %v, want one naming different saves", err)
	}
}

func TestAddRefreshesIncrementally(t *testing.T) {
	c := clustered(400, 16, 4, 4, 0.3, 7)
	first := corpus{vecs: c.vecs[:300], labels: c.labels[:300]}
	s := build(t, first, testConfig)
	pool, _ := split(300, 50)
	feedbackRound(t, s, first, pool[:40])
	ids, err := s.Add(c.vecs[300:]...)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 100 || ids[0] != 300 || ids[99] != 399 || s.Len() != 400 {
		t.Fatalf("Add returned ids %d..%d (%d), Len %d", ids[0], ids[len(ids)-1], len(ids), s.Len())
	}
	full := make([][]float32, s.Len())
	s.w.embedRows(full, seq(s.Len()), s.feats, s.nbrs, s.fb)
	for i := range full {
		if !slices.Equal(full[i], s.emb[i]) {
			t.Fatalf("node %d: incrementally refreshed embedding differs from a full recomputation", i)
		}
	}
	// The new vectors are found.
	res, err := s.Search(Query{Vector: c.vecs[350]}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].ID != 350 {
		t.Errorf("searching for added vector 350 found %d", res[0].ID)
	}
}

func TestBadInput(t *testing.T) {
	c := clustered(100, 8, 4, 4, 0.3, 8)
	s := build(t, c, Config{Candidates: 20, QueryDegree: 4, Seed: 1})
	v := c.vecs[0]
	nan := slices.Clone(v)
	nan[2] = float32(math.NaN())
	inf := slices.Clone(v)
	inf[1] = float32(math.Inf(-1))
	ok := Query{Vector: v}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"short query", first(s.Search(Query{Vector: v[:7]}, 5)), "dimension 7, the index's is 8"},
		{"NaN query", first(s.Search(Query{Vector: nan}, 5)), "NaN at position 2"},
		{"Inf query", first(s.Baseline(Query{Vector: inf}, 5)), "-Inf at position 1"},
		{"zero query", first(s.Search(Query{Vector: make([]float32, 8)}, 5)), "zero vector"},
		{"k zero", first(s.Search(ok, 0)), "k = 0"},
		{"k above candidates", first(s.Search(ok, 21)), "Config.Candidates = 20"},
		{"unknown exclude", first(s.Search(Query{Vector: v, Exclude: []int{100}}, 5)), "Exclude lists id 100"},
		{"unknown shown id", s.Feedback(ok, []int{1, 250}, []bool{true, false}), "shown[1] = 250 is not an id"},
		{"negative shown id", s.Feedback(ok, []int{-1}, []bool{true}), "shown[0] = -1"},
		{"duplicate shown id", s.Feedback(ok, []int{4, 4}, []bool{true, false}), "shown[1] = 4 is listed twice"},
		{"judgement count", s.Feedback(ok, []int{1, 2}, []bool{true}), "1 judgements for 2 shown"},
		{"nothing shown", s.Feedback(ok, nil, nil), "no shown results"},
		{"NaN feedback query", s.Feedback(Query{Vector: nan}, []int{1}, []bool{true}), "NaN at position 2"},
		{"NaN added vector", second(s.Add(v, nan)), "vector 1 has NaN at position 2"},
		{"wrong metric", second(New(mustHNSW(t, hnsw.L2), Config{})), "Metric: hnsw.Cosine"},
		{"bad config", second(New(mustHNSW(t, hnsw.Cosine), Config{QueryDegree: 200})), "QueryDegree = 200 exceeds Candidates"},
		{"bad learning rate", second(New(mustHNSW(t, hnsw.Cosine), Config{LearningRate: math.NaN()})), "LearningRate"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	if st := s.Stats(); st.TotalEvents != 0 || s.Len() != 100 {
		t.Errorf("rejected input changed the index: %+v, Len %d", st, s.Len())
	}
}

func first[T any](_ T, err error) error  { return err }
func second[T any](_ T, err error) error { return err }

func mustHNSW(t *testing.T, m hnsw.Metric) *hnsw.Index {
	ix, err := hnsw.New(hnsw.Config{Dim: 4, Metric: m})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestConcurrentUse searches from several goroutines while feedback arrives, the model trains
// and vectors are added (run with -race).
func TestConcurrentUse(t *testing.T) {
	c := clustered(360, 16, 4, 4, 0.3, 9)
	s := build(t, corpus{vecs: c.vecs[:300], labels: c.labels[:300]}, Config{Hidden: 8, Candidates: 30, QueryDegree: 5, Steps: 3, BatchSize: 8, Seed: 1})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i += 3 {
				select {
				case <-stop:
					return
				default:
				}
				q := i % 300
				query := Query{Vector: c.vecs[q], Exclude: []int{q}}
				res, err := s.Search(query, k)
				if err != nil {
					t.Error(err)
					return
				}
				ids, rel := make([]int, len(res)), make([]bool, len(res))
				for j, r := range res {
					ids[j], rel[j] = r.ID, c.labels[r.ID] == c.labels[q]
				}
				// A result deleted since the search was shown is refused.
				if err := s.Feedback(query, ids, rel); err != nil && !strings.Contains(err.Error(), "deleted") {
					t.Error(err)
					return
				}
			}
		}()
	}
	for r := 0; r < 3; r++ {
		if _, err := s.Train(); err != nil {
			t.Error(err)
		}
		if _, err := s.Add(c.vecs[300+20*r : 320+20*r]...); err != nil {
			t.Error(err)
		}
		if err := s.Delete(10*r+1, 10*r+2); err != nil {
			t.Error(err)
		}
		if err := s.Update(10*r+3, c.vecs[10*r+4]); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	// 60 added, 6 deleted, of them 4 reused by the next Add.
	if s.Len() != 356 || s.Live() != 354 {
		t.Errorf("Len %d, Live %d, want 356, 354", s.Len(), s.Live())
	}
}

func TestEmptyIndex(t *testing.T) {
	ix, err := hnsw.New(hnsw.Config{Dim: 8, Metric: hnsw.Cosine, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(ix, Config{Candidates: 20, QueryDegree: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := clustered(50, 8, 4, 2, 0.3, 10)
	if res, err := s.Search(Query{Vector: c.vecs[0]}, 5); err != nil || len(res) != 0 {
		t.Fatalf("empty index: %v, %v", res, err)
	}
	if st, err := s.Train(); err != nil || st.Steps != 0 {
		t.Fatalf("Train without feedback: %+v, %v", st, err)
	}
	if _, err := s.Add(c.vecs...); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(Query{Vector: c.vecs[7]}, 5)
	if err != nil || len(res) != 5 || res[0].ID != 7 {
		t.Fatalf("after Add: %v, %v", res, err)
	}
}

func TestModelFileHoldsTheWeights(t *testing.T) {
	c := clustered(200, 16, 4, 4, 0.3, 8)
	s := build(t, c, testConfig)
	pool, _ := split(len(c.vecs), 40)
	feedbackRound(t, s, c, pool[:20])
	dir := t.TempDir()
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(dir, ModelFile)

	// The model file describes itself, as every model file does.
	f, vals, err := modelfile.Read(mpath)
	if err != nil {
		t.Fatal(err)
	}
	var arch ModelArchitecture
	if err := json.Unmarshal(f.Architecture, &arch); err != nil {
		t.Fatal(err)
	}
	if arch.Model != "search" || arch.In != 16 || arch.Hidden != s.Config().Hidden || arch.Config != s.Config() {
		t.Errorf("architecture %+v, want search over 16 dimensions with config %+v", arch, s.Config())
	}
	for _, p := range s.params {
		if !slices.Equal(vals[p.Name], p.Data) || !slices.Equal(vals[p.Name+".adam_m"], p.M) || !slices.Equal(vals[p.Name+".adam_v"], p.V) {
			t.Errorf("tensor %s or its moments differ from the index's", p.Name)
		}
	}

	model, err := os.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(model)
	bad[len(bad)-3] ^= 0x10 // inside the last tensor's data
	if err := os.WriteFile(mpath, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load accepted a model file with a flipped byte")
	}
	if err := os.WriteFile(mpath, model[:len(model)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load accepted a truncated model file")
	}

	// A model file from a later save (a crash between the renames) is refused by the state.
	feedbackRound(t, s, c, pool[20:40])
	other := t.TempDir()
	if err := s.Save(other); err != nil {
		t.Fatal(err)
	}
	later, err := os.ReadFile(filepath.Join(other, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mpath, later, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "different saves") {
		t.Errorf("model file from another save: Load error %v, want one naming different saves", err)
	}
	if err := os.WriteFile(mpath, model, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Errorf("restored model file: %v", err)
	}
}
