package main

import (
	"cmp"
	"fmt"
	"log"
	"math/rand/v2"
	"slices"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/topics"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/search"
	"github.com/gnnlab/gognn/server"
)

// CoraResult is cora.json: on Cora's feature vectors, recall@10 of plain search against exact
// cosine search, and held-out precision@10 of the re-ranked search after the same feedback,
// one index against 4 shards with central training.
type CoraResult struct {
	Vectors, Dim, Feedback, Eval, TrainEvery int
	Recall                                   []CoraRecall
	Other                                    []CoraHNSW // recall with other HNSW settings
	P10SingleBefore, P10ShardedBefore        float64
	P10Single, P10Sharded                    float64
}

// CoraRecall is recall@10 of plain search at one ef (each shard searches with that ef, and the
// router merges the top 10), against exact cosine search of all the vectors, over the held-out
// queries (each excluding itself); a result as similar as the 10th nearest counts (ties).
type CoraRecall struct {
	Ef              int
	Single, Sharded float64
}

// CoraHNSW is recall@10 of both sides with an HNSW setting other than the default.
type CoraHNSW struct {
	M          int
	KeepPruned bool
	Recall     []CoraRecall
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
	perm := rand.New(rand.NewPCG(seed, 5)).Perm(len(items))
	evalSet, pool := perm[:eval], perm[eval:eval+feedback]
	label := func(id string) int { return labels[coraIndex(id)] }
	res := CoraResult{Vectors: len(items), Dim: d, Feedback: feedback, Eval: eval, TrainEvery: trainEvery}
	// Cora's rows are bag-of-words vectors, so exact ties in cosine similarity are common: a
	// result counts as a true neighbour when it is as similar as the 10th most similar vector.
	tenth := make([]float64, len(evalSet))
	for j, i := range evalSet {
		tenth[j] = tenthSimilarity(items, i)
	}
	cfg := server.Config{Dim: d, Search: search.Config{Seed: seed}}
	// Recall with other HNSW settings on both sides: a 677-vector shard of these high-dimensional
	// rows is harder to search at a small ef than the whole set, and fuller lists (KeepPruned)
	// and more links (M 32, as hnswlib advises for data of high intrinsic dimension) narrow the gap.
	for _, h := range []hnsw.Config{{KeepPruned: true}, {M: 32, KeepPruned: true}} {
		other := cfg
		other.HNSW = h
		m := max(h.M, hnsw.DefaultM)
		s, stop := coraSides(other, items)
		res.Other = append(res.Other, CoraHNSW{M: m, KeepPruned: true, Recall: coraRecall(s, items, evalSet, tenth, fmt.Sprintf("M %d KeepPruned", m))})
		stop()
	}
	sides, stop := coraSides(cfg, items)
	defer stop()
	res.Recall = coraRecall(sides, items, evalSet, tenth, "default")
	prec := func(s coraSide) float64 {
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

// coraSide is one of the two deployments compared: one server, or 4 shards behind a router.
type coraSide struct {
	search   func(server.SearchRequest) ([]string, error)
	feedback func(server.FeedbackRequest) error
	train    func() error
}

// coraSides starts one server and a 4-shard cluster with the same configuration, both holding
// items; stop tears the cluster down.
func coraSides(cfg server.Config, items []server.Item) (sides []coraSide, stop func()) {
	single, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := single.Add(items); err != nil {
		log.Fatal(err)
	}
	cluster, stop := startSharded(cfg, 4)
	if err := cluster.add(items); err != nil {
		stop()
		log.Fatal(err)
	}
	sides = []coraSide{
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
	return sides, stop
}

// coraRecall measures recall@10 of plain search on both sides at ef 10, 20, 40 and 100, each
// query excluding itself (the shard that holds it excludes it; the others do not know the id).
func coraRecall(sides []coraSide, items []server.Item, evalSet []int, tenth []float64, name string) []CoraRecall {
	var rows []CoraRecall
	for _, ef := range []int{10, 20, 40, 100} {
		row := CoraRecall{Ef: ef}
		for k, s := range sides {
			hits := 0
			for j, i := range evalSet {
				ids, err := s.search(server.SearchRequest{Vector: items[i].Vector, K: 10, Ef: ef, Mode: "plain", Exclude: []string{items[i].ID}})
				if err != nil {
					log.Fatal(err)
				}
				for _, id := range ids {
					if x := coraIndex(id); x != i && dot(items[x].Vector, items[i].Vector) >= tenth[j]-1e-9 {
						hits++
					}
				}
			}
			r := float64(hits) / float64(10*len(evalSet))
			if k == 0 {
				row.Single = r
			} else {
				row.Sharded = r
			}
		}
		log.Printf("cora (%s HNSW): recall@10 of plain search at ef %d: one index %.4f, 4 shards merged %.4f", name, ef, row.Single, row.Sharded)
		rows = append(rows, row)
	}
	return rows
}

// coraIndex returns the position in items of the item with id ("c" and the position).
func coraIndex(id string) int {
	var i int
	fmt.Sscanf(id, "c%d", &i)
	return i
}

// tenthSimilarity returns the 10th largest cosine similarity of items[q] to the other items
// (unit vectors).
func tenthSimilarity(items []server.Item, q int) float64 {
	var sims []float64
	for i, it := range items {
		if i != q {
			sims = append(sims, dot(it.Vector, items[q].Vector))
		}
	}
	slices.SortFunc(sims, func(a, b float64) int { return cmp.Compare(b, a) })
	return sims[min(9, len(sims)-1)]
}

func dot(a, b []float32) float64 {
	var d float64
	for j, x := range a {
		d += float64(x) * float64(b[j])
	}
	return d
}
