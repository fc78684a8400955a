package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/experiments/internal/topics"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/search"
)

// ChurnOptions are the settings of -churn.
type ChurnOptions struct {
	Efs        []int `json:"efs"`         // ef values at which plain HNSW recall is measured
	Queries    int   `json:"queries"`     // fresh query vectors for recall (not in the corpus)
	Feedback   int   `json:"feedback"`    // feedback queries before the changes, and again after
	FreshSeeds int   `json:"fresh_seeds"` // fresh indexes built (HNSW seeds seed, seed+1, ...)
}

// ChurnRecall is plain HNSW recall@10 at one ef against exact search of the live vectors.
type ChurnRecall struct {
	Ef      int       `json:"ef"`
	Changed float64   `json:"changed"`   // the index after the deletes and updates
	Fresh   []float64 `json:"fresh"`     // indexes built from the final vectors, one per seed
	Gap     float64   `json:"gap"`       // mean of Fresh minus Changed
	FreshSD float64   `json:"fresh_std"` // spread of Fresh over seeds (0 for one seed)
}

// ChurnP10 is held-out precision@10 of the re-ranked search, with the standard error of a
// difference to Before (paired over the same queries).
type ChurnP10 struct {
	Before      float64 `json:"before"`        // after Feedback queries, before the changes
	After       float64 `json:"after"`         // right after the changes, same model
	AfterMore   float64 `json:"after_more"`    // after Feedback more queries on the changed index
	Fresh       float64 `json:"fresh"`         // a fresh index given the same 2*Feedback queries
	SEAfter     float64 `json:"se_after"`      // standard error of After - Before
	SEAfterMore float64 `json:"se_after_more"` // of AfterMore - Before
	SEFresh     float64 `json:"se_fresh"`      // of Fresh - AfterMore
	// FreshFirst is the fresh index after the first Feedback queries only, beside After.
	FreshFirst   float64 `json:"fresh_first"`
	SEFreshFirst float64 `json:"se_fresh_first"` // of FreshFirst - After
	EvalQueries  int     `json:"eval_queries"`
	// Plain HNSW precision@10 (no re-ranking): before and after the changes, and on the fresh
	// index, which tells the corpus's own change from the model's.
	PlainBefore    float64 `json:"plain_before"`
	PlainChanged   float64 `json:"plain_after"`
	SEPlainChanged float64 `json:"se_plain_after"` // of PlainChanged - PlainBefore
	PlainFresh     float64 `json:"plain_fresh"`
	SEPlainFresh   float64 `json:"se_plain_fresh"` // of PlainFresh - PlainChanged
}

// ChurnResults is <out>/churn/results.json.
type ChurnResults struct {
	Synthetic     Synthetic     `json:"synthetic"`
	Options       ChurnOptions  `json:"options"`
	Deleted       int           `json:"deleted"`
	Updated       int           `json:"updated"`
	DeleteSeconds float64       `json:"delete_seconds"` // one Delete call
	UpdateSeconds float64       `json:"update_seconds"` // one UpdateBatch call
	BuildSeconds  float64       `json:"build_seconds"`
	Recall        []ChurnRecall `json:"recall_at_10"`
	// Mean layer-0 out-degree of the live nodes, the changed index and each fresh one: what a
	// search pays per expanded node.
	DegreeChanged float64   `json:"layer0_degree_changed"`
	DegreeFresh   []float64 `json:"layer0_degree_fresh"`
	// DeletedReturned counts deleted ids among all results, plain at every ef and re-ranked.
	DeletedReturned int           `json:"deleted_returned"`
	Searches        int           `json:"searches_checked"`
	P10             ChurnP10      `json:"precision_at_10"`
	HNSW            hnsw.Config   `json:"hnsw_config"`
	Search          search.Config `json:"search_config"`
	Env             expenv.Env    `json:"env"`
	TotalSeconds    float64       `json:"total_seconds"`
}

// runChurn measures deletes and updates: on a synthetic corpus of n vectors with feedback given
// and trained on, ids i with i%10 == 1 are deleted (one Delete call) and ids with i%10 == 2 get
// a new vector of the same topic (one UpdateBatch call). Then plain HNSW recall@10 at each ef
// against exact search of the live vectors, beside indexes built fresh from the final vectors
// with the same parameters (several seeds, for the build-to-build spread); every result is
// checked for deleted ids; and held-out precision@10 of the re-ranked search before the
// changes, right after them, after as many feedback queries again, and on a fresh index given
// the same feedback queries.
func runChurn(w io.Writer, o options, co ChurnOptions) error {
	begin := time.Now()
	s := o.Synthetic
	if s.N < 100 || s.Dim < 1 || s.Topics < 1 || !(s.Noise >= 0) || math.IsInf(s.Noise, 0) {
		return fmt.Errorf("churn: want -n >= 100, -dim >= 1, -topics >= 1 and a finite -noise >= 0; have %+v", s)
	}
	if len(co.Efs) == 0 || co.Queries < 1 || co.Feedback < 0 || co.FreshSeeds < 1 || o.Batch < 1 {
		return fmt.Errorf("churn: want -churn-ef values, -churn-queries >= 1, -churn-feedback >= 0, -churn-fresh >= 1, -batch >= 1")
	}
	n := s.N
	all, topic := topics.Corpus(2*n+co.Queries, s.Dim, s.Topics, s.Noise, o.Seed)
	cur, lab := slices.Clone(all[:n]), slices.Clone(topic[:n])
	queries := all[2*n:]
	res := ChurnResults{Synthetic: s, Options: co, Env: expenv.Current(o.Seed)}
	fmt.Fprintf(w, "churn: %d vectors of dimension %d, %d topics, noise %g; machine: %s\n", n, s.Dim, s.Topics, s.Noise, res.Env)

	hcfg := hnsw.Config{Dim: s.Dim, Metric: hnsw.Cosine, M: 16, EfConstruction: o.EfConstruction, EfSearch: 100, Seed: o.Seed}
	scfg := o.Search
	scfg.Seed = o.Seed
	start := time.Now()
	ix, ixH, err := buildSearch(hcfg, scfg, cur, "churn: index build")
	if err != nil {
		return err
	}
	res.BuildSeconds = time.Since(start).Seconds()
	res.HNSW, res.Search = hcfg, ix.Config()

	// Held-out evaluation queries and feedback queries are corpus vectors neither deleted nor
	// updated, so the same ids ask before and after the changes.
	rng := rand.New(rand.NewPCG(o.Seed, 0xc4a2))
	var stable []int
	for i := range n {
		if i%10 != 1 && i%10 != 2 {
			stable = append(stable, i)
		}
	}
	rng.Shuffle(len(stable), func(i, j int) { stable[i], stable[j] = stable[j], stable[i] })
	nEval := min(o.Eval, len(stable)/2)
	evalQ, pool := stable[:nEval], stable[nEval:]
	fbA, fbB := take(pool, co.Feedback, 0), take(pool, co.Feedback, co.Feedback)
	res.P10.EvalQueries = nEval

	relevant := func(q, id int) bool { return lab[q] == lab[id] }
	identity := func(id int) int { return id } // for ids that need no mapping
	fmt.Fprintf(w, "%d feedback queries, Train every %d\n", len(fbA), o.Batch)
	if err := giveFeedback(ix, cur, fbA, o.Batch, identity, relevant); err != nil {
		return err
	}
	before, err := precisions(ix.Search, cur, evalQ, identity, relevant)
	if err != nil {
		return err
	}
	plainBefore, err := precisions(ix.Baseline, cur, evalQ, identity, relevant)
	if err != nil {
		return err
	}

	// The changes.
	live := make([]bool, n)
	var del, upd []int
	var vecs [][]float32
	spare := make([][]int, s.Topics) // the replacement vectors of each topic, in order
	for j := n; j < 2*n; j++ {
		spare[topic[j]] = append(spare[topic[j]], j)
	}
	for i := range n {
		live[i] = i%10 != 1
		switch i % 10 {
		case 1:
			del = append(del, i)
		case 2:
			t := lab[i]
			if len(spare[t]) == 0 {
				return fmt.Errorf("churn: ran out of replacement vectors of topic %d", t)
			}
			j := spare[t][0]
			spare[t] = spare[t][1:]
			upd, vecs = append(upd, i), append(vecs, all[j])
			cur[i] = all[j]
		}
	}
	start = time.Now()
	if err := ix.Delete(del...); err != nil {
		return err
	}
	res.DeleteSeconds = time.Since(start).Seconds()
	start = time.Now()
	if err := ix.UpdateBatch(upd, vecs); err != nil {
		return err
	}
	res.UpdateSeconds = time.Since(start).Seconds()
	res.Deleted, res.Updated = len(del), len(upd)
	fmt.Fprintf(w, "deleted %d in %.1f s (one call), updated %d in %.1f s (one call)\n", res.Deleted, res.DeleteSeconds, res.Updated, res.UpdateSeconds)

	// Fresh indexes over the final vectors: fresh id f is corpus id ids[f].
	var ids []int
	var fresh [][]float32
	for i := range n {
		if live[i] {
			ids = append(ids, i)
			fresh = append(fresh, cur[i])
		}
	}
	toFresh := func(q int) int { f, _ := slices.BinarySearch(ids, q); return f }
	freshLab := func(q, id int) bool { return lab[ids[q]] == lab[ids[id]] }
	var fr []*search.Index
	for k := range co.FreshSeeds {
		h := hcfg
		h.Seed = o.Seed + uint64(k)
		f, fH, err := buildSearch(h, scfg, fresh, fmt.Sprintf("churn: fresh index %d", k+1))
		if err != nil {
			return err
		}
		fr = append(fr, f)
		if res.DegreeFresh = append(res.DegreeFresh, meanDegree(fH)); res.DegreeFresh[k] < 0 {
			return fmt.Errorf("churn: layer 0 of fresh index %d", k+1)
		}
	}
	if res.DegreeChanged = meanDegree(ixH); res.DegreeChanged < 0 {
		return fmt.Errorf("churn: layer 0 of the changed index")
	}
	fmt.Fprintf(w, "mean layer-0 degree: changed %.2f, fresh %v\n", res.DegreeChanged, res.DegreeFresh)

	truth := exactTop10(fresh, queries)
	check := func(r []search.Result) {
		res.Searches++
		for _, x := range r {
			if !live[x.ID] {
				res.DeletedReturned++
			}
		}
	}
	t := expenv.NewTable(w)
	t.Header("ef", "recall@10 changed", "recall@10 fresh (per seed)", "gap")
	for _, ef := range co.Efs {
		row := ChurnRecall{Ef: ef, Changed: recall10(ix, queries, truth, ef, toFresh, check)}
		for _, f := range fr {
			row.Fresh = append(row.Fresh, recall10(f, queries, truth, ef, identity, nil))
		}
		mean, sd := expenv.MeanStd(row.Fresh)
		row.Gap, row.FreshSD = mean-row.Changed, sd
		res.Recall = append(res.Recall, row)
		t.Append(fmt.Sprint(ef), f3(row.Changed), fmt.Sprint(row.Fresh), fmt.Sprintf("%+.4f", row.Gap))
	}
	t.Render()

	after, err := precisions(checked(ix.Search, check), cur, evalQ, identity, relevant)
	if err != nil {
		return err
	}
	plainAfter, err := precisions(ix.Baseline, cur, evalQ, identity, relevant)
	if err != nil {
		return err
	}
	if err := giveFeedback(ix, cur, fbB, o.Batch, identity, relevant); err != nil {
		return err
	}
	afterMore, err := precisions(checked(ix.Search, check), cur, evalQ, identity, relevant)
	if err != nil {
		return err
	}
	f0 := fr[0]
	freshPlain, err := precisions(f0.Baseline, fresh, evalQ, toFresh, freshLab)
	if err != nil {
		return err
	}
	if err := giveFeedback(f0, fresh, fbA, o.Batch, toFresh, freshLab); err != nil {
		return err
	}
	freshA, err := precisions(f0.Search, fresh, evalQ, toFresh, freshLab)
	if err != nil {
		return err
	}
	if err := giveFeedback(f0, fresh, fbB, o.Batch, toFresh, freshLab); err != nil {
		return err
	}
	freshP, err := precisions(f0.Search, fresh, evalQ, toFresh, freshLab)
	if err != nil {
		return err
	}
	p := &res.P10
	p.Before, _ = meanDiff(before, nil)
	p.After, p.SEAfter = meanDiff(after, before)
	p.AfterMore, p.SEAfterMore = meanDiff(afterMore, before)
	p.Fresh, p.SEFresh = meanDiff(freshP, afterMore)
	p.FreshFirst, p.SEFreshFirst = meanDiff(freshA, after)
	p.PlainBefore, _ = meanDiff(plainBefore, nil)
	p.PlainChanged, p.SEPlainChanged = meanDiff(plainAfter, plainBefore)
	p.PlainFresh, p.SEPlainFresh = meanDiff(freshPlain, plainAfter)
	fmt.Fprintf(w, "deleted ids returned: %d in %d searches\n", res.DeletedReturned, res.Searches)
	fmt.Fprintf(w, "held-out P@10 (GNN): %.4f after %d feedback queries; %.4f right after the changes (%+.4f ± %.4f), fresh index given the same %d: %.4f (%+.4f ± %.4f); %.4f after %d more (%+.4f ± %.4f), fresh index given the same %d: %.4f (%+.4f ± %.4f)\n",
		p.Before, co.Feedback, p.After, p.After-p.Before, p.SEAfter, co.Feedback, p.FreshFirst, p.FreshFirst-p.After, p.SEFreshFirst,
		p.AfterMore, co.Feedback, p.AfterMore-p.Before, p.SEAfterMore, 2*co.Feedback, p.Fresh, p.Fresh-p.AfterMore, p.SEFresh)
	fmt.Fprintf(w, "held-out P@10 (plain HNSW): %.4f before the changes, %.4f after (%+.4f ± %.4f), fresh index %.4f (%+.4f ± %.4f)\n",
		p.PlainBefore, p.PlainChanged, p.PlainChanged-p.PlainBefore, p.SEPlainChanged, p.PlainFresh, p.PlainFresh-p.PlainChanged, p.SEPlainFresh)
	res.TotalSeconds = time.Since(begin).Seconds()
	dir := filepath.Join(o.Out, "churn")
	if err := expenv.WriteJSON(dir, "results.json", res); err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", filepath.Join(dir, "results.json"))
	return nil
}

// take returns up to k ids of pool from position from, cycling through pool when it is short.
func take(pool []int, k, from int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = pool[(from+i)%len(pool)]
	}
	return out
}

// buildSearch builds an HNSW index of vecs and wraps it; it returns both.
func buildSearch(h hnsw.Config, c search.Config, vecs [][]float32, label string) (*search.Index, *hnsw.Index, error) {
	ix, err := hnsw.New(h)
	if err != nil {
		return nil, nil, err
	}
	bar := progress.New(label, len(vecs))
	_, err = ix.AddAll(vecs, bar.Report)
	bar.Done()
	if err != nil {
		return nil, nil, err
	}
	s, err := search.New(ix, c)
	return s, ix, err
}

// meanDegree returns the mean layer-0 out-degree of ix's live nodes, -1 on error.
func meanDegree(ix *hnsw.Index) float64 {
	g, err := ix.Layer(0)
	if err != nil || ix.Live() == 0 {
		return -1
	}
	return float64(g.NumEdges()) / float64(ix.Live())
}

// giveFeedback asks the corpus queries qs (corpus ids, mapped to the index's ids by toIndex),
// judges the top 10 by relevant and trains after every batch of them and at the end.
func giveFeedback(s *search.Index, vecs [][]float32, qs []int, batch int, toIndex func(int) int, relevant func(q, id int) bool) error {
	for i, q := range qs {
		qi := toIndex(q)
		query := search.Query{Vector: vecs[qi], Exclude: []int{qi}}
		r, err := s.Search(query, k)
		if err != nil {
			return err
		}
		ids, rel := make([]int, len(r)), make([]bool, len(r))
		for j, x := range r {
			ids[j], rel[j] = x.ID, relevant(qi, x.ID)
		}
		if err := s.Feedback(query, ids, rel); err != nil {
			return err
		}
		if (i+1)%batch == 0 || i == len(qs)-1 {
			if _, err := s.Train(); err != nil {
				return err
			}
		}
	}
	return nil
}

// precisions returns the precision@10 of each query (corpus ids, mapped by toIndex).
func precisions(fn func(search.Query, int) ([]search.Result, error), vecs [][]float32, qs []int, toIndex func(int) int, relevant func(q, id int) bool) ([]float64, error) {
	out := make([]float64, len(qs))
	for i, q := range qs {
		qi := toIndex(q)
		r, err := fn(search.Query{Vector: vecs[qi], Exclude: []int{qi}}, k)
		if err != nil {
			return nil, err
		}
		for _, x := range r {
			if relevant(qi, x.ID) {
				out[i]++
			}
		}
		out[i] /= k
	}
	return out, nil
}

// checked wraps a search so that check sees every result list.
func checked(fn func(search.Query, int) ([]search.Result, error), check func([]search.Result)) func(search.Query, int) ([]search.Result, error) {
	return func(q search.Query, n int) ([]search.Result, error) {
		r, err := fn(q, n)
		check(r)
		return r, err
	}
}

// meanDiff returns the mean of a and the standard error of the mean of a - b (paired; of a
// alone when b is nil).
func meanDiff(a, b []float64) (mean, se float64) {
	d := make([]float64, len(a))
	for i := range a {
		mean += a[i]
		d[i] = a[i]
		if b != nil {
			d[i] -= b[i]
		}
	}
	mean /= float64(len(a))
	_, sd := expenv.MeanStd(d)
	return mean, sd / math.Sqrt(float64(len(a)))
}

// recall10 is the mean recall@10 of plain HNSW at ef (search.Index.Baseline with Candidates ef)
// against truth, whose ids are mapped from the index's by toTruth; check, when not nil, sees
// every result list.
func recall10(s *search.Index, queries [][]float32, truth [][]int, ef int, toTruth func(int) int, check func([]search.Result)) float64 {
	hit := 0
	for qi, q := range queries {
		r, err := s.Baseline(search.Query{Vector: q, Candidates: ef}, k)
		if err != nil {
			continue
		}
		if check != nil {
			check(r)
		}
		for _, x := range r {
			if slices.Contains(truth[qi], toTruth(x.ID)) {
				hit++
			}
		}
	}
	return float64(hit) / float64(k*len(queries))
}

// exactTop10 returns, per query, the ids of the 10 vectors of base with the largest dot
// product (base and queries are unit vectors: cosine), ties by id, on every core.
func exactTop10(base, queries [][]float32) [][]int {
	out := make([][]int, len(queries))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for p := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for qi := p; qi < len(queries); qi += workers {
				out[qi] = nearest(queries[qi], base, -1)
			}
		}()
	}
	wg.Wait()
	return out
}
