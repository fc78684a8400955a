package main

import (
	"cmp"
	"log"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/search"
)

// ChurnResult is churn.json: deleting and updating part of a corpus against a fresh index over
// the final vectors.
type ChurnResult struct {
	N, Dim, Deleted, Updated, Queries, Ef int
	RecallChanged, RecallFresh            float64 // plain HNSW recall@10 vs exact search of the live vectors
	DeletedReturned                       int     // deleted ids in any result (re-ranked or plain)
	P10Before                             float64 // held-out precision@10 of the changed index before feedback
	P10Changed, P10Fresh                  float64 // held-out precision@10 after the same feedback
	FeedbackQueries                       int
	DeleteSeconds, UpdateSeconds          float64
}

// labelled returns n vectors of dimension dim in classes classes: a class centre in the first
// signal dimensions plus noise over all of them, so cosine similarity finds same-class
// neighbours only part of the time (as the search package's tests do).
func labelled(n, dim, signal, classes int, noise float64, seed uint64) ([][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, classes)
	for c := range centres {
		centres[c] = make([]float64, signal)
		for j := range centres[c] {
			centres[c][j] = rng.NormFloat64() / math.Sqrt(float64(signal))
		}
	}
	vecs, labels := make([][]float32, n), make([]int, n)
	for i := range vecs {
		y := rng.IntN(classes)
		v := make([]float32, dim)
		for j := range v {
			x := noise * rng.NormFloat64()
			if j < signal {
				x += centres[y][j]
			}
			v[j] = float32(x)
		}
		vecs[i], labels[i] = v, y
	}
	return vecs, labels
}

func buildSearch(vecs [][]float32, seed uint64) *search.Index {
	ix, err := hnsw.New(hnsw.Config{Dim: len(vecs[0]), Metric: hnsw.Cosine, EfConstruction: 100, Seed: seed})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range vecs {
		if _, err := ix.Add(v); err != nil {
			log.Fatal(err)
		}
	}
	s, err := search.New(ix, search.Config{Seed: seed})
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// churn measures deletes and updates at scale: n vectors, 10% deleted, another 10% updated to
// new vectors of the same class; recall@10 of plain HNSW (ef = Candidates) against exact search
// of the live vectors, beside a fresh index built from them; then the same feedback stream on
// both and held-out precision@10.
func churn(n, dim, queries, feedback int, seed uint64) ChurnResult {
	vecs, labels := labelled(2*n+queries, dim, 16, 20, 3.2/math.Sqrt(float64(dim)), seed)
	cur, curLab := slices.Clone(vecs[:n]), slices.Clone(labels[:n])
	start := time.Now()
	s := buildSearch(cur, seed)
	log.Printf("churn: built %d x %d in %v", n, dim, time.Since(start).Round(time.Second))
	res := ChurnResult{N: n, Dim: dim, Queries: queries, Ef: s.Config().Candidates, FeedbackQueries: feedback}
	live := make([]bool, n)
	var del []int
	for i := range live {
		live[i] = i%10 != 1
		if !live[i] {
			del = append(del, i)
		}
	}
	start = time.Now()
	if err := s.Delete(del...); err != nil {
		log.Fatal(err)
	}
	res.DeleteSeconds = time.Since(start).Seconds()
	res.Deleted = len(del)
	start = time.Now()
	for i := 2; i < n; i += 10 { // the replacement has the old vector's class
		j := n + i
		for labels[j] != curLab[i] {
			j = n + rand.IntN(n)
		}
		if err := s.Update(i, vecs[j]); err != nil {
			log.Fatal(err)
		}
		cur[i] = vecs[j]
		res.Updated++
	}
	res.UpdateSeconds = time.Since(start).Seconds()
	log.Printf("churn: deleted %d in %.1f s, updated %d in %.1f s", res.Deleted, res.DeleteSeconds, res.Updated, res.UpdateSeconds)
	var ids []int
	var fresh [][]float32
	var freshLab []int
	for i := range live {
		if live[i] {
			ids = append(ids, i)
			fresh, freshLab = append(fresh, cur[i]), append(freshLab, curLab[i])
		}
	}
	start = time.Now()
	f := buildSearch(fresh, seed)
	log.Printf("churn: fresh index of %d in %v", len(fresh), time.Since(start).Round(time.Second))
	qs := vecs[2*n:]
	truth := exactAll(fresh, qs)
	var hitC, hitF int
	for qi, q := range qs {
		rc, err := s.Baseline(search.Query{Vector: q}, 10)
		if err != nil {
			log.Fatal(err)
		}
		rr, _ := s.Search(search.Query{Vector: q}, 10)
		for _, r := range append(rc, rr...) {
			if !live[r.ID] {
				res.DeletedReturned++
			}
		}
		rf, _ := f.Baseline(search.Query{Vector: q}, 10)
		for _, r := range rc {
			fi, _ := slices.BinarySearch(ids, r.ID)
			if slices.Contains(truth[qi], fi) {
				hitC++
			}
		}
		for _, r := range rf {
			if slices.Contains(truth[qi], r.ID) {
				hitF++
			}
		}
	}
	res.RecallChanged, res.RecallFresh = float64(hitC)/float64(10*len(qs)), float64(hitF)/float64(10*len(qs))
	log.Printf("churn: recall@10 changed %.4f fresh %.4f, deleted returned %d", res.RecallChanged, res.RecallFresh, res.DeletedReturned)
	// Feedback: the same queries (corpus vectors, own id excluded) on both, training every 100.
	rng := rand.New(rand.NewPCG(seed, 99))
	perm := rng.Perm(len(ids))
	evalF, poolF := perm[:500], perm[500:500+feedback]
	prec := func(s *search.Index, lab []int, vec func(int) []float32, toID func(int) int, set []int) float64 {
		hits := 0
		for _, fi := range set {
			r, _ := s.Search(search.Query{Vector: vec(fi), Exclude: []int{toID(fi)}}, 10)
			for _, x := range r {
				if lab[x.ID] == freshLab[fi] {
					hits++
				}
			}
		}
		return float64(hits) / float64(10*len(set))
	}
	vec := func(fi int) []float32 { return fresh[fi] }
	res.P10Before = prec(s, curLab, vec, func(fi int) int { return ids[fi] }, evalF)
	for _, side := range []struct {
		s    *search.Index
		lab  []int
		toID func(int) int
		out  *float64
	}{{s, curLab, func(fi int) int { return ids[fi] }, &res.P10Changed}, {f, freshLab, func(fi int) int { return fi }, &res.P10Fresh}} {
		for i, fi := range poolF {
			q := search.Query{Vector: vec(fi), Exclude: []int{side.toID(fi)}}
			r, err := side.s.Search(q, 10)
			if err != nil {
				log.Fatal(err)
			}
			shown, rel := make([]int, len(r)), make([]bool, len(r))
			for j, x := range r {
				shown[j], rel[j] = x.ID, side.lab[x.ID] == freshLab[fi]
			}
			if err := side.s.Feedback(q, shown, rel); err != nil {
				log.Fatal(err)
			}
			if (i+1)%250 == 0 {
				if _, err := side.s.Train(); err != nil {
					log.Fatal(err)
				}
			}
		}
		*side.out = prec(side.s, side.lab, vec, side.toID, evalF)
	}
	log.Printf("churn: precision@10 %.4f before, after %d feedback queries: changed %.4f fresh %.4f", res.P10Before, feedback, res.P10Changed, res.P10Fresh)
	return res
}

// exactAll returns, per query, the ids of the 10 most cosine-similar vectors.
func exactAll(base [][]float32, qs [][]float32) [][]int {
	norm := func(v []float32) []float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / math.Sqrt(s)
		}
		return out
	}
	nb := make([][]float64, len(base))
	for i, v := range base {
		nb[i] = norm(v)
	}
	out := make([][]int, len(qs))
	var wg sync.WaitGroup
	w := runtime.GOMAXPROCS(0)
	for p := 0; p < w; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			type sc struct {
				id int
				s  float64
			}
			for qi := p; qi < len(qs); qi += w {
				q := norm(qs[qi])
				best := make([]sc, 0, 11)
				for i, v := range nb {
					var d float64
					for j := range v {
						d += v[j] * q[j]
					}
					if len(best) < 10 || d > best[len(best)-1].s {
						best = append(best, sc{i, d})
						slices.SortFunc(best, func(a, b sc) int { return cmp.Compare(b.s, a.s) })
						best = best[:min(10, len(best))]
					}
				}
				for _, b := range best {
					out[qi] = append(out[qi], b.id)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

