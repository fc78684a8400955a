package main

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/topics"
	"github.com/gnnlab/gognn/search"
	"github.com/gnnlab/gognn/server"
)

// CoraResult is cora.json: held-out precision@10 of the re-ranked search on Cora's feature
// vectors after the same feedback, one index against 4 shards with central training.
type CoraResult struct {
	Vectors, Dim, Feedback, Eval, TrainEvery int
	P10SingleBefore, P10ShardedBefore        float64
	P10Single, P10Sharded                    float64
}

// cora runs the comparison: feedback on the top 10 of feedback queries (relevant = same
// class), training after every trainEvery of them, then precision@10 on eval held-out queries.
func cora(dataDir string, feedback, eval, trainEvery int, seed uint64) CoraResult {
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir(dataDir)))
	if err != nil {
		log.Fatal(err)
	}
	n, d := ds.Features.Rows, ds.Features.Cols
	dense := ds.Features.Dense()
	var items []server.Item
	var labels []int
	for i := range n {
		v := topics.Unit(dense[i*d : (i+1)*d])
		if v == nil || ds.Labels[i] < 0 {
			continue
		}
		items = append(items, server.Item{ID: fmt.Sprintf("c%d", len(items)), Vector: v})
		labels = append(labels, ds.Labels[i])
	}
	cfg := server.Config{Dim: d, Search: search.Config{Seed: seed}}
	single, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := single.Add(items); err != nil {
		log.Fatal(err)
	}
	cluster, stop := startSharded(cfg, 4)
	defer stop()
	if err := cluster.add(items); err != nil {
		log.Fatal(err)
	}
	perm := rand.New(rand.NewPCG(seed, 5)).Perm(len(items))
	evalSet, pool := perm[:eval], perm[eval:eval+feedback]
	label := func(id string) int {
		var i int
		fmt.Sscanf(id, "c%d", &i)
		return labels[i]
	}
	type side struct {
		search   func(server.SearchRequest) ([]string, error)
		feedback func(server.FeedbackRequest) error
		train    func() error
	}
	sides := []side{
		{func(q server.SearchRequest) ([]string, error) {
			r, err := single.Search(q)
			ids := make([]string, len(r.Results))
			for i, h := range r.Results {
				ids[i] = h.ID
			}
			return ids, err
		}, func(f server.FeedbackRequest) error { _, err := single.Feedback(f); return err },
			func() error { _, err := single.Index().Train(); return err }},
		{cluster.search, cluster.feedback, func() error { _, err := cluster.r.Train(); return err }},
	}
	prec := func(s side) float64 {
		hits := 0
		for _, i := range evalSet {
			ids, err := s.search(server.SearchRequest{Vector: items[i].Vector, K: 10, Exclude: []string{items[i].ID}})
			if err != nil {
				log.Fatal(err)
			}
			for _, id := range ids {
				if label(id) == labels[i] {
					hits++
				}
			}
		}
		return float64(hits) / float64(10*len(evalSet))
	}
	res := CoraResult{Vectors: len(items), Dim: d, Feedback: feedback, Eval: eval, TrainEvery: trainEvery}
	res.P10SingleBefore, res.P10ShardedBefore = prec(sides[0]), prec(sides[1])
	for k, s := range sides {
		for j, i := range pool {
			q := server.SearchRequest{Vector: items[i].Vector, K: 10, Exclude: []string{items[i].ID}}
			ids, err := s.search(q)
			if err != nil {
				log.Fatal(err)
			}
			rel := make([]bool, len(ids))
			for r, id := range ids {
				rel[r] = label(id) == labels[i]
			}
			if err := s.feedback(server.FeedbackRequest{Query: q, Shown: ids, Relevant: rel, EventID: fmt.Sprint(j)}); err != nil {
				log.Fatal(err)
			}
			if (j+1)%trainEvery == 0 {
				if err := s.train(); err != nil {
					log.Fatal(err)
				}
			}
		}
		if k == 0 {
			res.P10Single = prec(s)
		} else {
			res.P10Sharded = prec(s)
		}
	}
	log.Printf("cora: P@10 single %.4f -> %.4f, 4 shards %.4f -> %.4f after %d feedback queries", res.P10SingleBefore, res.P10Single, res.P10ShardedBefore, res.P10Sharded, feedback)
	return res
}
