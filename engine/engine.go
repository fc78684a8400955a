package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/ops/asm"
	"github.com/gnnlab/gognn/search"
)

// Op codes: the first byte of a request.
const (
	OpInfo        = 0
	OpCreateIndex = 1
	OpAdd         = 2
	OpSearch      = 3
	OpFeedback    = 4
	OpTrain       = 5
	OpStats       = 6
	OpSave        = 7
	OpLoad        = 8
	OpClose       = 9
	OpLoadModel   = 10
	OpEmbed       = 11
)

// Status codes: the first byte of a response.
const (
	StatusOK    = 0
	StatusError = 1
)

// Engine holds the handles of one JavaScript client. Its methods are safe for concurrent use;
// the native engine and the wasm build call Call from one goroutine, one request at a time.
type Engine struct {
	// Workers is the number of goroutines a batch search is split over, default GOMAXPROCS.
	Workers int

	mu      sync.Mutex
	next    uint32
	handles map[uint32]any // *search.Index, *hnsw.Index or *infer.Model
}

// New returns an engine without handles.
func New() *Engine { return &Engine{handles: map[uint32]any{}} }

// Call executes one request and returns its response: StatusOK and the op's result, or
// StatusError and the message (UTF-8). It never panics on a malformed request.
func (e *Engine) Call(req []byte) (resp []byte) {
	defer func() {
		if p := recover(); p != nil {
			resp = append([]byte{StatusError}, fmt.Sprintf("gognn: internal error: %v", p)...)
		}
	}()
	out, err := e.call(req)
	if err != nil {
		return append([]byte{StatusError}, err.Error()...)
	}
	return append([]byte{StatusOK}, out...)
}

func (e *Engine) call(req []byte) ([]byte, error) {
	if len(req) == 0 {
		return nil, errors.New("gognn: empty request")
	}
	r := &reader{b: req[1:]}
	switch req[0] {
	case OpInfo:
		return e.info(r)
	case OpCreateIndex:
		return e.createIndex(r)
	case OpAdd:
		return e.add(r)
	case OpSearch:
		return e.search(r)
	case OpFeedback:
		return e.feedback(r)
	case OpTrain:
		return e.train(r)
	case OpStats:
		return e.stats(r)
	case OpSave:
		return e.save(r)
	case OpLoad:
		return e.load(r)
	case OpClose:
		return e.close(r)
	case OpLoadModel:
		return e.loadModel(r)
	case OpEmbed:
		return e.embed(r)
	}
	return nil, fmt.Errorf("gognn: unknown op %d (the JavaScript package and the engine are of different versions)", req[0])
}

// put stores v under a new handle (never 0).
func (e *Engine) put(v any) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	e.handles[e.next] = v
	var w writer
	w.u32(e.next)
	return w.b
}

// get returns the object of handle h.
func (e *Engine) get(h uint32, op string) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.handles[h]
	if !ok {
		return nil, fmt.Errorf("%s: handle %d is closed or was never opened", op, h)
	}
	return v, nil
}

// index returns the index of handle h: a *search.Index or a *hnsw.Index.
func (e *Engine) index(h uint32, op string) (any, int, error) {
	v, err := e.get(h, op)
	if err != nil {
		return nil, 0, err
	}
	switch ix := v.(type) {
	case *search.Index:
		return ix, ix.Dim(), nil
	case *hnsw.Index:
		return ix, ix.Dim(), nil
	}
	return nil, 0, fmt.Errorf("%s: handle %d is a model, not an index", op, h)
}

func (e *Engine) info(r *reader) ([]byte, error) {
	if err := r.done("info"); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(),
		"kernels": asm.Backend(), "threads": runtime.GOMAXPROCS(0), "training": trainingBuilt,
	})
}

// createIndex: u32 dim, u8 metric (hnsw.Metric), u8 learn, u32 M, u32 efConstruction, u64 seed,
// u32 candidates. learn wraps the HNSW index (which must then be Cosine) in a search.Index that
// re-ranks with the GNN and learns from feedback; otherwise it is a plain HNSW index.
func (e *Engine) createIndex(r *reader) ([]byte, error) {
	cfg := hnsw.Config{Dim: r.count("dim"), Metric: hnsw.Metric(r.u8("metric"))}
	learn := r.u8("learn") != 0
	cfg.M, cfg.EfConstruction = r.count("M"), r.count("efConstruction")
	cfg.Seed = r.u64("seed")
	cands := r.count("candidates")
	if err := r.done("createIndex"); err != nil {
		return nil, err
	}
	if cfg.Metric > hnsw.InnerProduct {
		return nil, fmt.Errorf("createIndex: metric %d: want 0 (l2), 1 (cosine) or 2 (ip)", cfg.Metric)
	}
	if learn && cfg.Metric != hnsw.Cosine {
		return nil, fmt.Errorf("createIndex: an index that learns from feedback ranks by cosine similarity; use metric 'cosine', or learn: false for a plain %v index", cfg.Metric)
	}
	ix, err := hnsw.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("createIndex: %w", err)
	}
	if !learn {
		return e.put(ix), nil
	}
	s, err := search.New(ix, search.Config{Seed: cfg.Seed, Candidates: cands})
	if err != nil {
		return nil, fmt.Errorf("createIndex: %w", err)
	}
	return e.put(s), nil
}

// vectors splits flat into n rows of dim, checking every value is finite.
func vectors(flat []float32, dim int, op string) ([][]float32, error) {
	if dim == 0 || len(flat)%dim != 0 {
		return nil, fmt.Errorf("%s: %d values are not a whole number of vectors of dimension %d", op, len(flat), dim)
	}
	rows := make([][]float32, len(flat)/dim)
	for i := range rows {
		rows[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
		for j, x := range rows[i] {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%s: vector %d has %v at position %d; vectors must be finite", op, i, x, j)
			}
		}
	}
	return rows, nil
}

// add: u32 handle, u32 count, f32[count] (whole vectors) -> i32 ids.
func (e *Engine) add(r *reader) ([]byte, error) {
	h := r.u32("handle")
	flat := r.f32s(r.count("values"), "vectors")
	if err := r.done("add"); err != nil {
		return nil, err
	}
	v, dim, err := e.index(h, "add")
	if err != nil {
		return nil, err
	}
	rows, err := vectors(flat, dim, "add")
	if err != nil {
		return nil, err
	}
	ids := make([]int32, 0, len(rows))
	switch ix := v.(type) {
	case *search.Index:
		got, err := ix.Add(rows...)
		if err != nil {
			return nil, fmt.Errorf("add: %w", err)
		}
		for _, id := range got {
			ids = append(ids, int32(id))
		}
	case *hnsw.Index:
		for i, row := range rows {
			id, err := ix.Add(row)
			if err != nil {
				return nil, fmt.Errorf("add: vector %d: %w (the %d before it were added)", i, err, i)
			}
			ids = append(ids, int32(id))
		}
	}
	var w writer
	w.i32s(ids)
	return w.b, nil
}

// search: u32 handle, u32 k, u32 ef, u32 nExclude, i32[nExclude], u32 count, f32[count]
// (whole queries), k at most the index's size or 1024 -> u32 nq, u32 k, i32[nq*k] ids (-1
// past the results found), f32[nq*k]
// distances (smaller is closer: 1 - the GNN's cosine similarity for an index that learns, the
// metric's distance otherwise). Queries of a batch are searched in parallel.
func (e *Engine) search(r *reader) ([]byte, error) {
	h := r.u32("handle")
	k, ef := r.count("k"), r.count("ef")
	exclude := r.i32s(r.count("exclude count"), "exclude")
	flat := r.f32s(r.count("values"), "queries")
	if err := r.done("search"); err != nil {
		return nil, err
	}
	v, dim, err := e.index(h, "search")
	if err != nil {
		return nil, err
	}
	qs, err := vectors(flat, dim, "search")
	if err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, fmt.Errorf("search: k = %d: want at least 1", k)
	}
	if n := v.(interface{ Len() int }).Len(); k > max(n, maxPaddedK) {
		// Results past the index's size are padding; a huge k would only allocate it.
		return nil, fmt.Errorf("search: k = %d is more than the %d vectors of the index: ask for at most %d", k, n, max(n, maxPaddedK))
	}
	ex := make([]int, len(exclude))
	for i, id := range exclude {
		ex[i] = int(id)
	}
	ids := make([]int32, len(qs)*k)
	dist := make([]float32, len(qs)*k)
	for i := range ids {
		ids[i], dist[i] = -1, float32(math.Inf(1))
	}
	one := func(i int) error {
		out, err := searchOne(v, qs[i], k, ef, ex)
		if err != nil {
			return err
		}
		for j, res := range out {
			ids[i*k+j], dist[i*k+j] = int32(res.ID), res.Dist
		}
		return nil
	}
	if err := e.parallel(len(qs), one); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	w := writer{b: make([]byte, 0, 8+8*len(ids))} // the response's size: no regrowth
	w.u32(uint32(len(qs)))
	w.u32(uint32(k))
	w.i32s(ids)
	w.f32s(dist)
	return w.b, nil
}

// maxPaddedK is the largest k a search may ask of an index holding fewer vectors (the rest of
// its rows are -1).
const maxPaddedK = 1024

// searchOne returns the k nearest of q, not in exclude.
func searchOne(v any, q []float32, k, ef int, exclude []int) ([]hnsw.Result, error) {
	switch ix := v.(type) {
	case *search.Index:
		res, err := ix.Search(search.Query{Vector: q, Exclude: exclude, Candidates: ef}, k)
		if err != nil {
			return nil, err
		}
		out := make([]hnsw.Result, len(res))
		for i, x := range res {
			out[i] = hnsw.Result{ID: x.ID, Dist: 1 - x.Score}
		}
		return out, nil
	case *hnsw.Index:
		res, err := ix.Search(q, k+len(exclude), max(ef, k+len(exclude)))
		if err != nil {
			return nil, err
		}
		out := res[:0]
		for _, x := range res {
			if !containsInt(exclude, x.ID) && len(out) < k {
				out = append(out, x)
			}
		}
		return out, nil
	}
	return nil, errors.New("not an index")
}

func containsInt(s []int, x int) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// parallel runs f(0..n-1) over the engine's workers and returns the first error, naming the
// query.
func (e *Engine) parallel(n int, f func(i int) error) error {
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := f(i); err != nil {
				return fmt.Errorf("query %d: %w", i, err)
			}
		}
		return nil
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for p := 0; p < workers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += workers {
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("query %d: %w", i, err)
		}
	}
	return nil
}

// learner returns the search.Index of handle h, for the ops only it supports.
func (e *Engine) learner(h uint32, op string) (*search.Index, error) {
	v, _, err := e.index(h, op)
	if err != nil {
		return nil, err
	}
	s, ok := v.(*search.Index)
	if !ok {
		return nil, fmt.Errorf("%s: handle %d is a plain HNSW index; create it with learn: true (metric 'cosine') to learn from feedback", op, h)
	}
	return s, nil
}

// feedback: u32 handle, u32 ef, u32 n, i32[n] shown, u8[n] relevant, u32 dim, f32[dim] query.
// ef must be the one the judged search used.
func (e *Engine) feedback(r *reader) ([]byte, error) {
	h, ef := r.u32("handle"), r.count("ef")
	n := r.count("shown count")
	shown := r.i32s(n, "shown")
	rel := r.take(n, "relevant")
	q := r.f32s(r.count("query length"), "query")
	if err := r.done("feedback"); err != nil {
		return nil, err
	}
	s, err := e.learner(h, "feedback")
	if err != nil {
		return nil, err
	}
	if len(q) != s.Dim() {
		return nil, fmt.Errorf("feedback: query of dimension %d, the index has %d", len(q), s.Dim())
	}
	if _, err := vectors(q, s.Dim(), "feedback"); err != nil {
		return nil, err
	}
	ids := make([]int, n)
	relevant := make([]bool, n)
	for i := range ids {
		ids[i], relevant[i] = int(shown[i]), rel[i] != 0
	}
	if err := s.Feedback(search.Query{Vector: q, Candidates: ef}, ids, relevant); err != nil {
		return nil, fmt.Errorf("feedback: %w", err)
	}
	return nil, nil
}

// train: u32 handle -> JSON search.TrainStats (loss null without steps).
func (e *Engine) train(r *reader) ([]byte, error) {
	h := r.u32("handle")
	if err := r.done("train"); err != nil {
		return nil, err
	}
	s, err := e.learner(h, "train")
	if err != nil {
		return nil, err
	}
	st, err := s.Train()
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var loss *float64
	if !math.IsNaN(st.Loss) {
		loss = &st.Loss
	}
	return json.Marshal(map[string]any{"steps": st.Steps, "pairs": st.Pairs, "loss": loss,
		"newEdges": st.NewEdges, "refreshed": st.Refreshed})
}

// stats: u32 handle -> JSON.
func (e *Engine) stats(r *reader) ([]byte, error) {
	h := r.u32("handle")
	if err := r.done("stats"); err != nil {
		return nil, err
	}
	v, dim, err := e.index(h, "stats")
	if err != nil {
		return nil, err
	}
	switch ix := v.(type) {
	case *search.Index:
		st := ix.Stats()
		return json.Marshal(map[string]any{"dim": dim, "learns": true, "len": st.Len, "live": st.Live,
			"deleted": st.Deleted, "events": st.Events, "trainable": st.Trainable,
			"totalEvents": st.TotalEvents, "evictedEvents": st.EvictedEvents,
			"feedbackEdges": st.FeedbackEdges, "pendingEdges": st.PendingEdges,
			"droppedEdges": st.DroppedEdges, "steps": st.Steps})
	case *hnsw.Index:
		return json.Marshal(map[string]any{"dim": dim, "learns": false, "len": ix.Len(), "live": ix.Live(),
			"deleted": ix.Len() - ix.Live(), "metric": ix.Config().Metric.String()})
	}
	return nil, errors.New("stats: not an index")
}

// save: u32 handle -> the index's bytes (search's one-stream container or an HNSW file).
func (e *Engine) save(r *reader) ([]byte, error) {
	h := r.u32("handle")
	if err := r.done("save"); err != nil {
		return nil, err
	}
	v, _, err := e.index(h, "save")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	switch ix := v.(type) {
	case *search.Index:
		_, err = ix.SaveTo(&buf)
	case *hnsw.Index:
		_, err = ix.SaveTo(&buf)
	}
	if err != nil {
		return nil, fmt.Errorf("save: %w", err)
	}
	return buf.Bytes(), nil
}

// The magics that tell the saved formats apart (package search's stream, package hnsw's file).
const (
	searchMagic = "GOGNNsix"
	hnswMagic   = "HNSWgogn"
)

// load: the bytes of a saved index -> u32 handle.
func (e *Engine) load(r *reader) ([]byte, error) {
	b := r.rest()
	switch {
	case bytes.HasPrefix(b, []byte(searchMagic)):
		s, err := search.LoadFrom(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		return e.put(s), nil
	case bytes.HasPrefix(b, []byte(hnswMagic)):
		ix, err := hnsw.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		return e.put(ix), nil
	}
	return nil, fmt.Errorf("load: %d bytes that are not a saved index (neither a search index, magic %q, nor an HNSW index, magic %q)", len(b), searchMagic, hnswMagic)
}

// close: u32 handle. Closing a closed handle is an error, so a double close is caught.
func (e *Engine) close(r *reader) ([]byte, error) {
	h := r.u32("handle")
	if err := r.done("close"); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.handles[h]; !ok {
		return nil, fmt.Errorf("close: handle %d is closed or was never opened", h)
	}
	delete(e.handles, h)
	return nil, nil
}
