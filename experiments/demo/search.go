package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/experiments/internal/topics"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/plots"
	"github.com/gnnlab/gognn/search"
)

// SearchResult is the search part of results.json.
type SearchResult struct {
	Vectors     int          `json:"vectors"`
	Dim         int          `json:"dim"`
	Topics      int          `json:"topics"`
	Noise       float64      `json:"noise"`
	EvalQueries int          `json:"eval_queries"`
	BuildS      float64      `json:"build_s"`
	Baseline    float64      `json:"hnsw_precision_at_10"`
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// Checkpoint is precision@10 of the held-out queries after some feedback.
type Checkpoint struct {
	Feedback  int     `json:"feedback"`
	Precision float64 `json:"precision_at_10"`
}

const (
	dim       = 128
	numTopics = 50
	noise     = 0.26 // per coordinate, around a unit-norm topic centre
	k         = 10
	evalN     = 500
)

func searchDemo(fl expenv.Flags, n, feedback int) (SearchResult, error) {
	if n < 2*evalN || feedback < 0 || feedback > n-evalN {
		return SearchResult{}, fmt.Errorf("-n %d and -feedback %d: want n >= %d and 0 <= feedback <= n - %d", n, feedback, 2*evalN, evalN)
	}
	vecs, topic := topics.Corpus(n, dim, numTopics, noise, fl.Seed)
	res := SearchResult{Vectors: n, Dim: dim, Topics: numTopics, Noise: noise, EvalQueries: evalN}
	fmt.Printf("corpus: %d vectors of dimension %d, noisy views of %d hidden topics; relevant = same topic, which the system never sees\n", n, dim, numTopics)

	start := time.Now()
	ix, err := hnsw.New(hnsw.Config{Dim: dim, Metric: hnsw.Cosine, M: 16, EfConstruction: 100, EfSearch: 100, Seed: fl.Seed})
	if err != nil {
		return res, err
	}
	bar := progress.New("demo: index build", len(vecs))
	_, err = ix.AddAll(vecs, bar.Report)
	bar.Done()
	if err != nil {
		return res, err
	}
	s, err := search.New(ix, search.Config{Seed: fl.Seed})
	if err != nil {
		return res, err
	}
	res.BuildS = time.Since(start).Seconds()
	fmt.Printf("HNSW index and GNN embeddings built in %.1f s\n", res.BuildS)

	// Held-out evaluation queries and a pool of feedback queries, disjoint; a query is a corpus
	// vector, excluded from its own results.
	order := rand.New(rand.NewPCG(fl.Seed, 0xe7a1)).Perm(n)
	eval, pool := order[:evalN], order[evalN:]
	precision := func(find func(q int) ([]int, error)) (float64, error) {
		hits := 0
		for _, q := range eval {
			ids, err := find(q)
			if err != nil {
				return 0, err
			}
			for _, id := range ids {
				if topic[id] == topic[q] {
					hits++
				}
			}
		}
		return float64(hits) / float64(evalN*k), nil
	}
	gnn := func(q int) ([]int, error) {
		r, err := s.Search(search.Query{Vector: vecs[q], Exclude: []int{q}}, k)
		ids := make([]int, len(r))
		for i, x := range r {
			ids[i] = x.ID
		}
		return ids, err
	}
	plain := func(q int) ([]int, error) {
		r, err := ix.Search(vecs[q], k+1, 100)
		var ids []int
		for _, x := range r {
			if x.ID != q && len(ids) < k {
				ids = append(ids, int(x.ID))
			}
		}
		return ids, err
	}
	if res.Baseline, err = precision(plain); err != nil {
		return res, err
	}

	checkpoints := []int{0}
	for _, c := range []int{250, 500, 1000, 2000, 4000} {
		if c <= feedback {
			checkpoints = append(checkpoints, c)
		}
	}
	if last := checkpoints[len(checkpoints)-1]; last != feedback {
		checkpoints = append(checkpoints, feedback)
	}
	const trainEvery = 250
	given := 0
	t := expenv.NewTable(os.Stdout)
	t.Header("feedback queries", "P@10, GNN re-ranked", "P@10, plain HNSW")
	fbar := progress.New("demo: feedback", feedback)
	defer fbar.Done()
	for _, c := range checkpoints {
		for ; given < c; given++ {
			fbar.Report(given, feedback)
			q := pool[given]
			shown, err := gnn(q)
			if err != nil {
				return res, err
			}
			relevant := make([]bool, len(shown))
			for i, id := range shown {
				relevant[i] = topic[id] == topic[q]
			}
			if err := s.Feedback(search.Query{Vector: vecs[q], Exclude: []int{q}}, shown, relevant); err != nil {
				return res, err
			}
			if (given+1)%trainEvery == 0 || given+1 == c {
				if _, err := s.Train(); err != nil {
					return res, err
				}
			}
		}
		p, err := precision(gnn)
		if err != nil {
			return res, err
		}
		res.Checkpoints = append(res.Checkpoints, Checkpoint{Feedback: c, Precision: p})
		t.Append(fmt.Sprint(c), fmt.Sprintf("%.3f", p), fmt.Sprintf("%.3f", res.Baseline))
	}
	t.Render()
	fmt.Printf("precision@10 of %d held-out queries; the GNN trains after every %d feedback queries\n", evalN, trainEvery)

	xs, ys := make([]float64, len(res.Checkpoints)), make([]float64, len(res.Checkpoints))
	for i, c := range res.Checkpoints {
		xs[i], ys[i] = float64(c.Feedback), c.Precision
	}
	panel := plots.PrecisionVsFeedback(k, plots.Series{Name: "GNN re-ranked", X: xs, Y: ys}, plots.Flat("plain HNSW", xs, res.Baseline))
	if err := os.MkdirAll(fl.Out, 0o755); err != nil {
		return res, err
	}
	return res, plots.Save(filepath.Join(fl.Out, "search.png"), 16*vg.Centimeter, 10*vg.Centimeter, panel)
}
