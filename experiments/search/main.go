// Command search measures whether GNN re-ranking of HNSW search results gets better with use.
//
//	go run ./experiments/search [-dataset cora|citeseer|pubmed|synthetic] [-checkpoints 0,100,250,500,1000,2000]
//	    [-batch 50] [-eval 1000] [-seed 1] [-data DIR] [-out DIR]
//	go run ./experiments/search -dataset synthetic [-n 100000] [-dim 128] [-topics 50] [-noise 0.26]
//	go run ./experiments/search -churn [-n 100000] [-churn-ef 10,20,40,100] [-churn-feedback 1000] [-churn-fresh 2]
//
// The corpus is either a Planetoid data set's node features (Cora: 2708 bag-of-words vectors of
// 1433 words; rows that are all zero or unlabelled are left out) with relevance = same class, or
// a synthetic corpus of -n vectors of dimension -dim that are noisy views of -topics latent
// topics: the topic centres are seeded random unit vectors, each item is drawn to a uniformly
// random topic t and is normalize(centre_t + noise * g) with g a standard Gaussian vector (so the
// noise has norm about noise * sqrt(dim)), and relevance = same topic. The index never sees
// classes or topics: it only learns from feedback on results it showed. Similarity is cosine.
// The items are split, seeded, into a pool of feedback queries and a held-out set of evaluation
// queries (-eval of them); a query is a corpus vector whose own id is excluded from its results.
//
// Simulated users issue feedback queries from the pool in a seeded random order, see the current
// top 10 (search.Index.Search), mark a result relevant iff it shares the query's class, and send
// the judgements (search.Index.Feedback). The index trains (search.Index.Train) after every
// -batch feedback queries and at every checkpoint. When more feedback queries are needed than
// the pool holds, the pool is asked again in a new shuffled order (the output says so).
//
// At each checkpoint (number of feedback queries so far, -checkpoints), the held-out queries
// are searched one at a time: precision@10, recall@10 and nDCG@10 and the per-query latency
// (p50, p99 in microseconds) of the GNN-re-ranked search. Plain HNSW (search.Index.Baseline: the
// same candidates, ef = Config.Candidates, ranked by cosine) is measured once, as feedback does
// not change it; exact cosine k-NN and a perfect re-ranking of the same candidates are
// references.
//
// It prints a table and writes <out>/results.json and <out>/precision.png (precision@10 against
// feedback queries, plain HNSW and exact k-NN as flat lines). At the end it saves the index,
// loads it back and checks that the loaded index ranks the held-out queries identically.
//
// With -churn it measures deletes and updates instead, on the synthetic corpus (see runChurn):
// 10% of the vectors deleted in one call and another 10% given new vectors of the same topic in
// one call, after -churn-feedback feedback queries; plain HNSW recall@10 at each -churn-ef
// against exact search of the remaining vectors, beside -churn-fresh indexes built from them
// (HNSW seeds seed, seed+1, ...); deleted ids among all results; held-out precision@10 of the
// re-ranked search before and after the changes and against a fresh index given the same
// feedback. It writes <out>/churn/results.json.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/experiments/internal/topics"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/ops/asm"
	"github.com/gnnlab/gognn/plots"
	"github.com/gnnlab/gognn/search"
)

// k is the number of results shown to a simulated user and evaluated per query.
const k = 10

// Metrics are the mean quality of a top-k ranking over a query set.
type Metrics struct {
	Precision float64 `json:"precision_at_10"`
	Recall    float64 `json:"recall_at_10"`
	NDCG      float64 `json:"ndcg_at_10"`
}

// Checkpoint is one entry of results.json's "results": the GNN-re-ranked search after Feedback
// feedback queries.
type Checkpoint struct {
	Feedback  int     `json:"feedback"`
	Precision float64 `json:"precision_at_10"`
	NDCG      float64 `json:"ndcg_at_10"`
	Recall    float64 `json:"recall_at_10"`
	P50       float64 `json:"p50_us"`
	P99       float64 `json:"p99_us"`
	// ShownPrecision is the precision@10 of the results shown to the feedback queries since the
	// previous checkpoint.
	ShownPrecision *float64 `json:"shown_precision_at_10,omitempty"`
	FeedbackEvents int64    `json:"feedback_events"`
	FeedbackEdges  int      `json:"feedback_edges"`
	TrainCalls     int      `json:"train_calls"`   // Train calls so far
	TrainSteps     int64    `json:"train_steps"`   // optimiser steps so far
	TrainSeconds   float64  `json:"train_seconds"` // wall time of all Train calls so far
	LastLoss       *float64 `json:"last_train_loss,omitempty"`
	EvalSeconds    float64  `json:"eval_seconds"`
	PoolPass       int      `json:"pool_pass"` // 1 on the first pass over the feedback pool
}

// Synthetic describes a generated corpus.
type Synthetic struct {
	N      int     `json:"n"`
	Dim    int     `json:"dim"`
	Topics int     `json:"topics"`
	Noise  float64 `json:"noise"`
}

// Results is results.json.
type Results struct {
	Dataset           string       `json:"dataset"`
	Results           []Checkpoint `json:"results"`
	BaselinePrecision float64      `json:"baseline_precision_at_10"`
	BaselineP50       float64      `json:"baseline_p50_us"`
	BaselineP99       float64      `json:"baseline_p99_us"`
	Baseline          Metrics      `json:"baseline"`
	Env               expenv.Env   `json:"env"`

	Nodes       int        `json:"nodes"`
	Dropped     int        `json:"dropped_nodes"` // zero or unlabelled feature rows left out
	Dim         int        `json:"dim"`
	Classes     int        `json:"classes"`
	Synthetic   *Synthetic `json:"synthetic,omitempty"`
	Checkpoints []int      `json:"checkpoints"`
	Exact       Metrics    `json:"exact_cosine"`
	// Ceiling is the precision@10 of a perfect re-ranking of the same HNSW candidates: what any
	// re-ranker of them can reach.
	Ceiling      float64       `json:"rerank_ceiling_precision_at_10"`
	PoolQueries  int           `json:"feedback_pool_queries"`
	PoolReused   bool          `json:"feedback_pool_reused"` // more feedback queries than the pool holds
	EvalQueries  int           `json:"eval_queries"`
	Batch        int           `json:"batch"`
	HNSW         hnsw.Config   `json:"hnsw_config"`
	Search       search.Config `json:"search_config"`
	ReloadSame   bool          `json:"reload_identical_rankings"`
	BuildSeconds float64       `json:"hnsw_build_seconds"`
	NewSeconds   float64       `json:"search_new_seconds"`
	TotalSeconds float64       `json:"total_seconds"`
}

// options are the command's flags.
type options struct {
	expenv.Flags
	Dataset        string
	Synthetic      Synthetic
	Checkpoints    []int
	Batch          int
	Eval           int
	EfConstruction int
	Search         search.Config
}

func main() {
	o := options{}
	var checkpoints string
	flag.StringVar(&o.Dataset, "dataset", "cora", "corpus: cora, citeseer, pubmed (Planetoid features) or synthetic")
	flag.IntVar(&o.Synthetic.N, "n", 100000, "synthetic: number of vectors")
	flag.IntVar(&o.Synthetic.Dim, "dim", 128, "synthetic: vector dimension")
	flag.IntVar(&o.Synthetic.Topics, "topics", 50, "synthetic: number of latent topics (relevance = same topic)")
	flag.Float64Var(&o.Synthetic.Noise, "noise", 0.26, "synthetic: standard deviation of the Gaussian noise per coordinate around a unit-norm topic centre (0.26: plain HNSW P@10 about 0.5 at the default -n, -dim, -topics)")
	flag.StringVar(&checkpoints, "checkpoints", "0,100,250,500,1000,2000", "numbers of feedback queries after which to evaluate, ascending")
	flag.IntVar(&o.Batch, "batch", 50, "feedback queries between Train calls")
	flag.IntVar(&o.Eval, "eval", 1000, "held-out evaluation queries; the other items are the feedback pool")
	flag.IntVar(&o.EfConstruction, "ef-construction", 200, "HNSW efConstruction")
	flag.IntVar(&o.Search.Hidden, "hidden", 0, "GNN width (0: search.DefaultHidden)")
	flag.IntVar(&o.Search.Steps, "steps", 0, "optimiser steps per Train call (0: search.DefaultSteps)")
	flag.IntVar(&o.Search.BatchSize, "train-batch", 0, "feedback events per step (0: search.DefaultBatchSize)")
	flag.Float64Var(&o.Search.LearningRate, "lr", 0, "Adam learning rate (0: search.DefaultLearningRate)")
	flag.Float64Var(&o.Search.Temperature, "tau", 0, "loss temperature (0: search.DefaultTemperature)")
	flag.IntVar(&o.Search.FeedbackDegree, "feedback-degree", 0, "feedback neighbours per node (0: search.DefaultFeedbackDegree, -1: no feedback edges)")
	churn := flag.Bool("churn", false, "measure deletes and updates (synthetic corpus) instead; writes <out>/churn/results.json")
	churnEfs := flag.String("churn-ef", "10,20,40,100", "-churn: ef values at which recall@10 is measured, ascending")
	var co ChurnOptions
	flag.IntVar(&co.Queries, "churn-queries", 1000, "-churn: query vectors for recall (drawn apart from the corpus)")
	flag.IntVar(&co.Feedback, "churn-feedback", 1000, "-churn: feedback queries before the changes, and as many after")
	flag.IntVar(&co.FreshSeeds, "churn-fresh", 2, "-churn: fresh indexes built from the final vectors, with HNSW seeds seed, seed+1, ...")
	o.Register(flag.CommandLine, filepath.Join("results", "search"))
	flag.Parse()
	var err error
	if *churn {
		if co.Efs, err = parseAscending("churn-ef", *churnEfs); err == nil {
			err = runChurn(os.Stdout, o, co)
		}
	} else if o.Checkpoints, err = parseAscending("checkpoints", checkpoints); err == nil {
		err = run(os.Stdout, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

// parseAscending parses the flag -name's value s, a comma-separated, strictly ascending list of
// non-negative integers.
func parseAscending(name, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("-%s %q: %q is not a non-negative integer", name, s, f)
		}
		if len(out) > 0 && v <= out[len(out)-1] {
			return nil, fmt.Errorf("-%s %q: want strictly ascending numbers", name, s)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-%s is empty", name)
	}
	return out, nil
}

// corpus is a set of unit vectors with a class each; relevance = same class.
type corpus struct {
	vecs    [][]float32
	labels  []int
	classes int
	dropped int
}

// loadCorpus returns the data set named by o.Dataset.
func loadCorpus(o options) (*corpus, error) {
	if o.Dataset == "synthetic" {
		s := o.Synthetic
		if s.N < 2 || s.Dim < 1 || s.Topics < 1 || !(s.Noise >= 0) || math.IsInf(s.Noise, 0) {
			return nil, fmt.Errorf("synthetic: want -n >= 2, -dim >= 1, -topics >= 1 and a finite -noise >= 0; have %+v", s)
		}
		return synthetic(s, o.Seed), nil
	}
	ds, err := datasets.LoadPlanetoid(o.Dataset, datasets.Dir(datasets.DataDir(o.Data)))
	if err != nil {
		return nil, fmt.Errorf("%w (or -dataset synthetic)", err)
	}
	// Rows are normalised to unit length: cosine similarity ignores a row's scale, so the
	// row-sum normalisation of GCN preprocessing would not change any ranking. All-zero rows
	// (no cosine similarity) and unlabelled rows (no relevance) are left out.
	n, d := ds.Features.Rows, ds.Features.Cols
	dense := ds.Features.Dense()
	c := &corpus{classes: ds.NumClasses}
	for i := range n {
		v := topics.Unit(dense[i*d : (i+1)*d])
		if v == nil || ds.Labels[i] < 0 {
			c.dropped++
			continue
		}
		c.vecs = append(c.vecs, v)
		c.labels = append(c.labels, ds.Labels[i])
	}
	return c, nil
}

// synthetic generates s.N noisy views of s.Topics latent topics (see the package comment).
func synthetic(s Synthetic, seed uint64) *corpus {
	vecs, labels := topics.Corpus(s.N, s.Dim, s.Topics, s.Noise, seed)
	return &corpus{vecs: vecs, labels: labels, classes: s.Topics}
}

func run(w io.Writer, o options) error {
	begin := time.Now()
	if o.Batch < 1 || o.Eval < 1 || len(o.Checkpoints) == 0 {
		return errors.New("want -batch >= 1, -eval >= 1 and at least one checkpoint")
	}
	env := expenv.Current(o.Seed)
	c, err := loadCorpus(o)
	if err != nil {
		return err
	}
	n, d := len(c.vecs), len(c.vecs[0])
	if o.Eval >= n {
		return fmt.Errorf("-eval %d leaves no feedback queries among %d items", o.Eval, n)
	}
	classSize := make([]int, c.classes)
	for _, y := range c.labels {
		classSize[y]++
	}
	res := Results{Dataset: o.Dataset, Nodes: n, Dropped: c.dropped, Dim: d, Classes: c.classes, Checkpoints: o.Checkpoints,
		Batch: o.Batch, Env: env}
	if o.Dataset == "synthetic" {
		s := o.Synthetic
		res.Synthetic = &s
		fmt.Fprintf(w, "synthetic: %d vectors of dimension %d around %d topics, noise %g per coordinate; relevance = same topic\n",
			n, d, c.classes, s.Noise)
	} else {
		fmt.Fprintf(w, "%s: %d vectors of dimension %d (%d zero or unlabelled rows left out), %d classes; relevance = same class\n",
			o.Dataset, n, d, c.dropped, c.classes)
	}
	fmt.Fprintln(w, "machine:", env)

	hcfg := hnsw.Config{Dim: d, Metric: hnsw.Cosine, M: 16, EfConstruction: o.EfConstruction, EfSearch: 100, Seed: o.Seed}
	start := time.Now()
	ix, err := hnsw.New(hcfg)
	if err != nil {
		return err
	}
	bar := progress.New("search: index build", len(c.vecs))
	_, err = ix.AddAll(c.vecs, bar.Report)
	bar.Done()
	if err != nil {
		return err
	}
	res.BuildSeconds = time.Since(start).Seconds()
	start = time.Now()
	scfg := o.Search
	scfg.Seed = o.Seed
	s, err := search.New(ix, scfg)
	if err != nil {
		return err
	}
	res.NewSeconds = time.Since(start).Seconds()
	res.HNSW, res.Search = ix.Config(), s.Config()
	fmt.Fprintf(w, "HNSW build %.1f s, search.New (embeds the corpus) %.1f s\n", res.BuildSeconds, res.NewSeconds)

	rng := rand.New(rand.NewPCG(o.Seed, 0xc0a))
	perm := rng.Perm(n)
	evalQ, pool := perm[:o.Eval], perm[o.Eval:]
	res.EvalQueries, res.PoolQueries = len(evalQ), len(pool)
	maxFeedback := o.Checkpoints[len(o.Checkpoints)-1]
	res.PoolReused = maxFeedback > len(pool)
	fmt.Fprintf(w, "%d held-out evaluation queries, %d feedback-pool queries; up to %d feedback queries, Train every %d, top %d shown\n",
		len(evalQ), len(pool), maxFeedback, o.Batch, k)
	if res.PoolReused {
		fmt.Fprintf(w, "the pool holds fewer than %d queries: after each full pass it is asked again in a new shuffled order\n", maxFeedback)
	}

	relevant := func(q, id int) bool { return c.labels[q] == c.labels[id] }
	measure := func(q int, ids []int) Metrics {
		var dcg, idcg float64
		hits := 0
		for i, id := range ids {
			if relevant(q, id) {
				hits++
				dcg += 1 / math.Log2(float64(i+2))
			}
		}
		rel := classSize[c.labels[q]] - 1
		for i := 0; i < min(k, rel); i++ {
			idcg += 1 / math.Log2(float64(i+2))
		}
		m := Metrics{Precision: float64(hits) / k}
		if rel > 0 {
			m.Recall = float64(hits) / float64(rel)
			m.NDCG = dcg / idcg
		}
		return m
	}
	// evaluate searches the held-out queries one at a time and returns the mean metrics, the
	// rankings and the p50 and p99 latency in microseconds.
	evaluate := func(searchFn func(search.Query, int) ([]search.Result, error)) (m Metrics, ranked [][]int, p50, p99 float64, err error) {
		ranked = make([][]int, len(evalQ))
		lat := make([]time.Duration, len(evalQ))
		for j, q := range evalQ {
			t0 := time.Now()
			r, err := searchFn(search.Query{Vector: c.vecs[q], Exclude: []int{q}}, k)
			lat[j] = time.Since(t0)
			if err != nil {
				return Metrics{}, nil, 0, 0, err
			}
			ids := make([]int, len(r))
			for i, x := range r {
				ids[i] = x.ID
			}
			ranked[j] = ids
			qm := measure(q, ids)
			m.Precision += qm.Precision
			m.Recall += qm.Recall
			m.NDCG += qm.NDCG
		}
		f := 1 / float64(len(evalQ))
		m = Metrics{m.Precision * f, m.Recall * f, m.NDCG * f}
		return m, ranked, percentileUs(lat, 0.50), percentileUs(lat, 0.99), nil
	}

	// Plain HNSW never changes (feedback does not touch the HNSW index), so it is measured once.
	res.Baseline, _, res.BaselineP50, res.BaselineP99, err = evaluate(s.Baseline)
	if err != nil {
		return err
	}
	res.BaselinePrecision = res.Baseline.Precision
	res.Exact = exactKNN(c.vecs, evalQ, measure)
	if res.Ceiling, err = rerankCeiling(s, c.vecs, evalQ, relevant); err != nil {
		return err
	}
	fmt.Fprintf(w, "plain HNSW: P@%d %.3f, nDCG@%d %.3f, latency p50 %.0f µs, p99 %.0f µs; exact cosine k-NN P@%d %.3f; perfect re-ranking of the candidates %.3f\n",
		k, res.Baseline.Precision, k, res.Baseline.NDCG, res.BaselineP50, res.BaselineP99, k, res.Exact.Precision, res.Ceiling)

	t := expenv.NewTable(w)
	t.Header("feedback", "shown P@10", "GNN P@10", "HNSW P@10", "GNN nDCG@10", "HNSW nDCG@10", "GNN p50 µs", "GNN p99 µs", "HNSW p50 µs", "HNSW p99 µs", "train s", "eval s")
	var (
		order               = slices.Clone(pool)
		next, pass          = 0, 1
		trainCalls          int
		trainTime           time.Duration
		lastLoss            *float64
		shownHits, shownQue int
		given               int // feedback queries so far
		untrained           int // feedback queries since the last Train call
	)
	train := func() error {
		untrained = 0
		t0 := time.Now()
		st, err := s.Train()
		if err != nil {
			return err
		}
		trainTime += time.Since(t0)
		trainCalls++
		if st.Steps > 0 {
			l := st.Loss
			lastLoss = &l
		}
		return nil
	}
	fbar := progress.New("search: feedback", o.Checkpoints[len(o.Checkpoints)-1])
	defer fbar.Done()
	for _, cp := range o.Checkpoints {
		for given < cp {
			fbar.Report(given, o.Checkpoints[len(o.Checkpoints)-1])
			if next == len(order) { // every pool query was asked: start another pass
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
				next = 0
				pass++
				fmt.Fprintf(w, "feedback pool exhausted after %d feedback queries: reusing its %d queries in a new shuffled order (pass %d)\n",
					given, len(order), pass)
			}
			q := order[next]
			next++
			query := search.Query{Vector: c.vecs[q], Exclude: []int{q}}
			shown, err := s.Search(query, k)
			if err != nil {
				return err
			}
			ids := make([]int, len(shown))
			rel := make([]bool, len(shown))
			for i, x := range shown {
				ids[i], rel[i] = x.ID, relevant(q, x.ID)
				if rel[i] {
					shownHits++
				}
			}
			shownQue++
			if err := s.Feedback(query, ids, rel); err != nil {
				return err
			}
			given++
			untrained++
			if given%o.Batch == 0 && given < cp {
				if err := train(); err != nil {
					return err
				}
			}
		}
		if untrained > 0 { // train on everything gathered before evaluating
			if err := train(); err != nil {
				return err
			}
		}
		start := time.Now()
		m, _, p50, p99, err := evaluate(s.Search)
		if err != nil {
			return err
		}
		stats := s.Stats()
		row := Checkpoint{Feedback: cp, Precision: m.Precision, NDCG: m.NDCG, Recall: m.Recall, P50: p50, P99: p99,
			FeedbackEvents: stats.TotalEvents, FeedbackEdges: stats.FeedbackEdges, TrainCalls: trainCalls, TrainSteps: stats.Steps,
			TrainSeconds: trainTime.Seconds(), LastLoss: lastLoss, EvalSeconds: time.Since(start).Seconds(), PoolPass: pass}
		shown := "-"
		if shownQue > 0 {
			sp := float64(shownHits) / float64(shownQue*k)
			row.ShownPrecision = &sp
			shown = f3(sp)
		}
		shownHits, shownQue = 0, 0
		res.Results = append(res.Results, row)
		t.Append(fmt.Sprint(cp), shown, f3(m.Precision), f3(res.Baseline.Precision), f3(m.NDCG), f3(res.Baseline.NDCG),
			f0(p50), f0(p99), f0(res.BaselineP50), f0(res.BaselineP99), fmt.Sprintf("%.1f", row.TrainSeconds), fmt.Sprintf("%.1f", row.EvalSeconds))
		fmt.Fprintf(w, "after %d feedback queries: GNN P@%d %.3f (HNSW %.3f), %d Train calls, %.1f s training so far\n",
			cp, k, m.Precision, res.Baseline.Precision, trainCalls, row.TrainSeconds)
	}
	t.Render()
	last := res.Results[len(res.Results)-1]
	fmt.Fprintf(w, "held-out P@%d after %d feedback queries: GNN %.3f, plain HNSW %.3f (%+.3f); exact cosine k-NN %.3f; perfect re-ranking of the candidates %.3f\n",
		k, last.Feedback, last.Precision, res.Baseline.Precision, last.Precision-res.Baseline.Precision, res.Exact.Precision, res.Ceiling)
	if res.PoolReused {
		fmt.Fprintf(w, "note: %d feedback queries from a pool of %d: pool queries were reused (%d passes)\n", maxFeedback, len(pool), pass)
	}

	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	check := func(searchFn func(search.Query, int) ([]search.Result, error)) ([][]int, error) {
		_, ranked, _, _, err := evaluate(searchFn)
		return ranked, err
	}
	if res.ReloadSame, err = checkReload(w, s, check); err != nil {
		return err
	}
	res.TotalSeconds = time.Since(begin).Seconds()
	if err := expenv.WriteJSON(o.Out, "results.json", res); err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", filepath.Join(o.Out, "results.json"))
	return plot(w, o.Out, res)
}

// percentileUs returns the q-quantile (nearest rank) of lat in microseconds.
func percentileUs(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Nanoseconds()) / 1e3
}

// checkReload saves the index into a temporary directory, loads it and reports whether the
// loaded index ranks every evaluation query exactly as the original does.
func checkReload(w io.Writer, s *search.Index, rank func(func(search.Query, int) ([]search.Result, error)) ([][]int, error)) (bool, error) {
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
	want, err := rank(s.Search)
	if err != nil {
		return false, err
	}
	got, err := rank(l.Search)
	if err != nil {
		return false, err
	}
	same := slices.EqualFunc(want, got, slices.Equal[[]int])
	fmt.Fprintf(w, "saved (search.Save) and loaded back (search.Load): identical rankings on the held-out queries: %v\n", same)
	if !same {
		return false, errors.New("the loaded index ranks differently from the saved one")
	}
	return true, nil
}

// rerankCeiling is the mean precision@k of the best ordering of each query's HNSW candidates
// (Config.Candidates of them): relevant ones first.
func rerankCeiling(s *search.Index, vecs [][]float32, queries []int, relevant func(q, id int) bool) (float64, error) {
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
		sum += float64(min(r, k)) / k
	}
	return sum / float64(len(queries)), nil
}

// exactKNN ranks the whole corpus by cosine similarity for each query (brute force, keeping the
// k best by insertion; ties by id).
func exactKNN(vecs [][]float32, queries []int, measure func(int, []int) Metrics) Metrics {
	var sum Metrics
	for _, q := range queries {
		ids := nearest(vecs[q], vecs, q)
		m := measure(q, ids)
		sum.Precision += m.Precision
		sum.Recall += m.Recall
		sum.NDCG += m.NDCG
	}
	f := 1 / float64(len(queries))
	return Metrics{sum.Precision * f, sum.Recall * f, sum.NDCG * f}
}

func plot(w io.Writer, out string, res Results) error {
	// The re-ranking ceiling (results.json) is left out: near 1, it would squeeze the curves.
	var x, gnn, base, exact []float64
	for _, r := range res.Results {
		x = append(x, float64(r.Feedback))
		gnn = append(gnn, r.Precision)
		base = append(base, res.BaselinePrecision)
		exact = append(exact, res.Exact.Precision)
	}
	title := fmt.Sprintf("%s, %d held-out queries", res.Dataset, res.EvalQueries)
	if res.Synthetic != nil {
		title = fmt.Sprintf("synthetic (%d x %d, %d topics, noise %g), %d held-out queries",
			res.Nodes, res.Dim, res.Synthetic.Topics, res.Synthetic.Noise, res.EvalQueries)
	}
	path := filepath.Join(out, "precision.png")
	err := plots.Save(path, 16*vg.Centimeter, 11*vg.Centimeter, plots.Panel{
		Title:  title,
		XLabel: "feedback queries (top 10 judged each)",
		YLabel: "held-out precision@10 (same class)",
		Series: []plots.Series{
			{Name: "HNSW + GNN re-ranking (feedback)", X: x, Y: gnn},
			{Name: "exact cosine k-NN", X: x, Y: exact},
			{Name: fmt.Sprintf("plain HNSW (ef %d)", res.Search.Candidates), X: x, Y: base},
		},
		XTicks:     x,
		LegendLeft: true,
	})
	if err == nil {
		fmt.Fprintln(w, "wrote", path)
	}
	return err
}

// nearest returns the ids of the k vectors of base with the largest dot product with q (for
// unit vectors: cosine similarity), ties by id, leaving out id skip (-1: none). It keeps the k
// best by insertion.
func nearest(q []float32, base [][]float32, skip int) []int {
	type hit struct {
		id int
		s  float32
	}
	better := func(a, b hit) bool { return a.s > b.s || a.s == b.s && a.id < b.id }
	top := make([]hit, 0, k+1)
	for j, v := range base {
		if j == skip {
			continue
		}
		h := hit{j, asm.DotF32(q, v)}
		if len(top) == k && !better(h, top[k-1]) {
			continue
		}
		i := len(top)
		top = append(top, h)
		for i > 0 && better(h, top[i-1]) {
			top[i] = top[i-1]
			i--
		}
		top[i] = h
		top = top[:min(len(top), k)]
	}
	ids := make([]int, len(top))
	for i, h := range top {
		ids[i] = h.id
	}
	return ids
}

func f3(v float64) string { return fmt.Sprintf("%.3f", v) }
func f0(v float64) string { return fmt.Sprintf("%.0f", v) }
