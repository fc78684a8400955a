// Command search measures whether GNN re-ranking of HNSW search results gets better with use.
//
//	go run ./experiments/search [-rounds 20] [-batch 50] [-seed 1] [-data DIR] [-out DIR]
//
// The corpus is the Cora node features (2708 bag-of-words vectors of 1433 words, cosine
// similarity); a result is relevant to a query when both papers have the same class, which the
// index never sees: it only learns from feedback on results it showed. The nodes are split,
// seeded, into a pool of feedback queries and a held-out set of evaluation queries (-eval of
// them); a query is a corpus vector whose own id is excluded from its results.
//
// Each round, -batch feedback queries are searched, the simulated user marks the top -k results
// relevant iff they share the query's class, and the index trains on its replay buffer. After
// each round, precision@k, recall@k and nDCG@k of the held-out queries are measured for the
// GNN-re-ranked search and for plain HNSW (the same candidates, ef = 100, ranked by cosine),
// with exact cosine k-NN and a perfect re-ranking of the same candidates as references. Round 0
// is before any feedback.
//
// It prints a table per round and writes <out>/results.json and <out>/precision.png (precision
// against feedback rounds). At the end it saves the index, loads it back and checks that the
// loaded index ranks the held-out queries identically.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/ops/asm"
	"github.com/gnnlab/gognn/plots"
	"github.com/gnnlab/gognn/search"
)

// Metrics are the mean quality of a ranking over a query set.
type Metrics struct {
	Precision float64 `json:"precision_at_k"`
	Recall    float64 `json:"recall_at_k"`
	NDCG      float64 `json:"ndcg_at_k"`
}

// Round is one row of results.json.
type Round struct {
	Round          int      `json:"round"`
	FeedbackEvents int64    `json:"feedback_events"`
	ShownPrecision *float64 `json:"shown_precision_at_k,omitempty"` // precision@k of the results shown to this round's feedback queries
	GNN            Metrics  `json:"gnn"`
	HNSW           Metrics  `json:"hnsw"`
	TrainLoss      *float64 `json:"train_loss,omitempty"` // mean loss of the round's steps
	TrainSteps     int      `json:"train_steps"`
	FeedbackEdges  int      `json:"feedback_edges"`
	TrainMs        float64  `json:"train_ms"`
	EvalMs         float64  `json:"eval_ms"`
}

// Results is results.json.
type Results struct {
	Dataset string  `json:"dataset"`
	Nodes   int     `json:"nodes"`
	Dim     int     `json:"dim"`
	K       int     `json:"k"`
	Rounds  []Round `json:"rounds"`
	Exact   Metrics `json:"exact_cosine"`
	// Ceiling is the precision@k of a perfect re-ranking of the same HNSW candidates: what any
	// re-ranker of them can reach.
	Ceiling      float64       `json:"rerank_ceiling_precision_at_k"`
	PoolQueries  int           `json:"feedback_pool_queries"`
	EvalQueries  int           `json:"eval_queries"`
	Batch        int           `json:"batch"`
	HNSW         hnsw.Config   `json:"hnsw_config"`
	Search       search.Config `json:"search_config"`
	ReloadSame   bool          `json:"reload_identical_rankings"`
	BuildSeconds float64       `json:"hnsw_build_seconds"`
	Env          expenv.Env    `json:"env"`
}

func main() {
	var (
		fl     expenv.Flags
		rounds = flag.Int("rounds", 20, "feedback rounds")
		batch  = flag.Int("batch", 50, "feedback queries per round")
		k      = flag.Int("k", 10, "results shown and evaluated per query")
		eval   = flag.Int("eval", 1000, "held-out evaluation queries; the other nodes are the feedback pool")
		scfg   search.Config
	)
	flag.IntVar(&scfg.Hidden, "hidden", 0, "GNN width (0: search.DefaultHidden)")
	flag.IntVar(&scfg.Steps, "steps", 0, "optimiser steps per round (0: search.DefaultSteps)")
	flag.IntVar(&scfg.BatchSize, "train-batch", 0, "feedback events per step (0: search.DefaultBatchSize)")
	flag.Float64Var(&scfg.LearningRate, "lr", 0, "Adam learning rate (0: search.DefaultLearningRate)")
	flag.Float64Var(&scfg.Temperature, "tau", 0, "loss temperature (0: search.DefaultTemperature)")
	flag.IntVar(&scfg.FeedbackDegree, "feedback-degree", 0, "feedback neighbours per node (0: search.DefaultFeedbackDegree, -1: no feedback edges)")
	fl.Register(flag.CommandLine, filepath.Join("results", "search"))
	flag.Parse()
	if err := run(fl, scfg, *rounds, *batch, *k, *eval); err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, scfg search.Config, rounds, batch, k, nEval int) error {
	if rounds < 0 || batch < 1 || k < 1 || nEval < 1 {
		return errors.New("-rounds must be >= 0 and -batch, -k, -eval >= 1")
	}
	env := expenv.Current(fl.Seed)
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir(fl.Data)))
	if err != nil {
		return err
	}
	// Rows are normalised to unit length: cosine similarity ignores a row's scale, so the
	// row-sum normalisation of GCN preprocessing would not change any ranking.
	n, d := ds.Features.Rows, ds.Features.Cols
	if nEval >= n {
		return fmt.Errorf("-eval %d leaves no feedback queries among %d nodes", nEval, n)
	}
	dense := ds.Features.Dense()
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = unit(dense[i*d : (i+1)*d])
	}
	classSize := map[int]int{}
	for _, y := range ds.Labels {
		classSize[y]++
	}
	fmt.Printf("cora: %d vectors of dimension %d, %d classes; relevance = same class\n", n, d, ds.NumClasses)
	fmt.Println("machine:", env)

	hcfg := hnsw.Config{Dim: d, Metric: hnsw.Cosine, M: 16, EfConstruction: 200, EfSearch: 100, Seed: fl.Seed}
	start := time.Now()
	ix, err := hnsw.New(hcfg)
	if err != nil {
		return err
	}
	for _, v := range vecs {
		if _, err := ix.Add(v); err != nil {
			return err
		}
	}
	build := time.Since(start).Seconds()
	scfg.Seed = fl.Seed
	s, err := search.New(ix, scfg)
	if err != nil {
		return err
	}
	scfg = s.Config()

	rng := rand.New(rand.NewPCG(fl.Seed, 0xc0a))
	perm := rng.Perm(n)
	evalQ, pool := perm[:nEval], perm[nEval:]
	fmt.Printf("%d held-out evaluation queries, %d feedback-pool queries; %d rounds of %d feedback queries, top %d shown\n",
		len(evalQ), len(pool), rounds, batch, k)

	judge := func(q int, res []search.Result) (hits int, rel []bool) {
		rel = make([]bool, len(res))
		for i, r := range res {
			rel[i] = ds.Labels[r.ID] == ds.Labels[q]
			if rel[i] {
				hits++
			}
		}
		return hits, rel
	}
	measure := func(q int, ids []int) Metrics {
		var dcg, idcg float64
		hits := 0
		for i, id := range ids {
			if ds.Labels[id] == ds.Labels[q] {
				hits++
				dcg += 1 / math.Log2(float64(i+2))
			}
		}
		relevant := classSize[ds.Labels[q]] - 1
		for i := 0; i < min(k, relevant); i++ {
			idcg += 1 / math.Log2(float64(i+2))
		}
		m := Metrics{Precision: float64(hits) / float64(k)}
		if relevant > 0 {
			m.Recall = float64(hits) / float64(relevant)
			m.NDCG = dcg / idcg
		}
		return m
	}
	evaluate := func(searchFn func(search.Query, int) ([]search.Result, error)) (Metrics, [][]int, error) {
		var sum Metrics
		ranked := make([][]int, len(evalQ))
		for j, q := range evalQ {
			res, err := searchFn(search.Query{Vector: vecs[q], Exclude: []int{q}}, k)
			if err != nil {
				return Metrics{}, nil, err
			}
			ids := make([]int, len(res))
			for i, r := range res {
				ids[i] = r.ID
			}
			ranked[j] = ids
			m := measure(q, ids)
			sum.Precision += m.Precision
			sum.Recall += m.Recall
			sum.NDCG += m.NDCG
		}
		f := 1 / float64(len(evalQ))
		return Metrics{sum.Precision * f, sum.Recall * f, sum.NDCG * f}, ranked, nil
	}

	// Plain HNSW never changes (feedback does not touch the HNSW index), so it is measured once.
	baseM, _, err := evaluate(s.Baseline)
	if err != nil {
		return err
	}
	exact := exactKNN(vecs, evalQ, k, measure)
	ceiling, err := rerankCeiling(s, vecs, evalQ, k, func(q, id int) bool { return ds.Labels[q] == ds.Labels[id] })
	if err != nil {
		return err
	}

	res := Results{Dataset: "cora", Nodes: n, Dim: d, K: k, Exact: exact, Ceiling: ceiling, PoolQueries: len(pool), EvalQueries: len(evalQ),
		Batch: batch, HNSW: ix.Config(), Search: scfg, BuildSeconds: build, Env: env}
	t := expenv.NewTable(os.Stdout)
	t.Header("round", "feedback", "shown P@10", "GNN P@10", "HNSW P@10", "GNN R@10", "HNSW R@10", "GNN nDCG@10", "HNSW nDCG@10", "loss", "train ms", "eval ms")
	next := 0
	order := slices.Clone(pool)
	for r := 0; r <= rounds; r++ {
		row := Round{Round: r, HNSW: baseM}
		if r > 0 {
			hits := 0
			for b := 0; b < batch; b++ {
				if next == len(order) { // every pool query was asked: start another pass
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					next = 0
				}
				q := order[next]
				next++
				query := search.Query{Vector: vecs[q], Exclude: []int{q}}
				shown, err := s.Search(query, k)
				if err != nil {
					return err
				}
				h, rel := judge(q, shown)
				hits += h
				ids := make([]int, len(shown))
				for i, x := range shown {
					ids[i] = x.ID
				}
				if err := s.Feedback(query, ids, rel); err != nil {
					return err
				}
			}
			sp := float64(hits) / float64(batch*k)
			row.ShownPrecision = &sp
			start := time.Now()
			st, err := s.Train()
			if err != nil {
				return err
			}
			row.TrainMs = float64(time.Since(start).Microseconds()) / 1e3
			row.TrainSteps = st.Steps
			if st.Steps > 0 {
				row.TrainLoss = &st.Loss
			}
		}
		start := time.Now()
		m, _, err := evaluate(s.Search)
		if err != nil {
			return err
		}
		row.EvalMs = float64(time.Since(start).Microseconds()) / 1e3
		row.GNN = m
		stats := s.Stats()
		row.FeedbackEvents, row.FeedbackEdges = stats.TotalEvents, stats.FeedbackEdges
		res.Rounds = append(res.Rounds, row)
		shown, loss := "-", "-"
		if r > 0 {
			shown = f3(*row.ShownPrecision)
		}
		if row.TrainLoss != nil {
			loss = f3(*row.TrainLoss)
		}
		t.Append(fmt.Sprint(r), fmt.Sprint(row.FeedbackEvents), shown, f3(m.Precision), f3(baseM.Precision), f3(m.Recall), f3(baseM.Recall),
			f3(m.NDCG), f3(baseM.NDCG), loss, fmt.Sprintf("%.0f", row.TrainMs), fmt.Sprintf("%.0f", row.EvalMs))
		fmt.Printf("round %d: GNN P@%d %.3f (HNSW %.3f)\n", r, k, m.Precision, baseM.Precision)
	}
	t.Render()
	last := res.Rounds[len(res.Rounds)-1]
	fmt.Printf("held-out P@%d after %d feedback events: GNN %.3f, plain HNSW %.3f (%+.3f); exact cosine k-NN %.3f; perfect re-ranking of the candidates %.3f\n",
		k, last.FeedbackEvents, last.GNN.Precision, baseM.Precision, last.GNN.Precision-baseM.Precision, exact.Precision, ceiling)

	if err := os.MkdirAll(fl.Out, 0o755); err != nil {
		return err
	}
	if res.ReloadSame, err = checkReload(s, evaluate); err != nil {
		return err
	}
	if err := expenv.WriteJSON(fl.Out, "results.json", res); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return plot(fl.Out, res)
}

// checkReload saves the index into a temporary directory, loads it and reports whether the
// loaded index ranks every evaluation query exactly as the original does.
func checkReload(s *search.Index, evaluate func(func(search.Query, int) ([]search.Result, error)) (Metrics, [][]int, error)) (bool, error) {
	dir, err := os.MkdirTemp("", "gognn-search-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := s.Save(dir); err != nil {
		return false, err
	}
	l, err := search.Load(dir)
	if err != nil {
		return false, err
	}
	_, want, err := evaluate(s.Search)
	if err != nil {
		return false, err
	}
	_, got, err := evaluate(l.Search)
	if err != nil {
		return false, err
	}
	same := slices.EqualFunc(want, got, slices.Equal[[]int])
	fmt.Printf("saved (search.Save) and loaded back (search.Load): identical rankings on the held-out queries: %v\n", same)
	if !same {
		return false, errors.New("the loaded index ranks differently from the saved one")
	}
	return true, nil
}

// rerankCeiling is the mean precision@k of the best ordering of each query's HNSW candidates
// (Config.Candidates of them): relevant ones first.
func rerankCeiling(s *search.Index, vecs [][]float32, queries []int, k int, relevant func(q, id int) bool) (float64, error) {
	sum := 0.0
	for _, q := range queries {
		cands, err := s.Baseline(search.Query{Vector: vecs[q], Exclude: []int{q}}, s.Config().Candidates)
		if err != nil {
			return 0, err
		}
		r := 0
		for _, c := range cands {
			if relevant(q, c.ID) {
				r++
			}
		}
		sum += float64(min(r, k)) / float64(k)
	}
	return sum / float64(len(queries)), nil
}

// exactKNN ranks the whole corpus by cosine similarity for each query (brute force).
func exactKNN(vecs [][]float32, queries []int, k int, measure func(int, []int) Metrics) Metrics {
	var sum Metrics
	type hit struct {
		id int
		s  float32
	}
	all := make([]hit, 0, len(vecs))
	for _, q := range queries {
		all = all[:0]
		for j, v := range vecs {
			if j != q {
				all = append(all, hit{j, asm.DotF32(vecs[q], v)})
			}
		}
		slices.SortFunc(all, func(a, b hit) int {
			if a.s != b.s {
				if a.s > b.s {
					return -1
				}
				return 1
			}
			return a.id - b.id
		})
		ids := make([]int, k)
		for i := range ids {
			ids[i] = all[i].id
		}
		m := measure(q, ids)
		sum.Precision += m.Precision
		sum.Recall += m.Recall
		sum.NDCG += m.NDCG
	}
	f := 1 / float64(len(queries))
	return Metrics{sum.Precision * f, sum.Recall * f, sum.NDCG * f}
}

func plot(out string, res Results) error {
	var x, gnn, base, exact, ceil []float64
	for _, r := range res.Rounds {
		x = append(x, float64(r.Round))
		gnn = append(gnn, r.GNN.Precision)
		base = append(base, r.HNSW.Precision)
		exact = append(exact, res.Exact.Precision)
		ceil = append(ceil, res.Ceiling)
	}
	path := filepath.Join(out, "precision.png")
	err := plots.Save(path, 16*vg.Centimeter, 11*vg.Centimeter, plots.Panel{
		Title:  fmt.Sprintf("Cora, %d held-out queries, %d feedback queries per round", res.EvalQueries, res.Batch),
		XLabel: "feedback round",
		YLabel: fmt.Sprintf("precision@%d (same class)", res.K),
		Series: []plots.Series{
			{Name: "HNSW + GNN re-ranking (feedback)", X: x, Y: gnn},
			{Name: "plain HNSW (ef 100)", X: x, Y: base},
			{Name: "exact cosine k-NN", X: x, Y: exact},
			{Name: "perfect re-ranking of the HNSW candidates", X: x, Y: ceil},
		},
	})
	if err == nil {
		fmt.Println("wrote", path)
	}
	return err
}

func unit(v []float32) []float32 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return v // rejected by the index with an error naming it
	}
	inv := 1 / math.Sqrt(sq)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
