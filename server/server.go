// Package server serves one search.Index over HTTP with JSON: vectors are added, updated and
// deleted under string ids chosen by the client, searched plainly or GNN-re-ranked, judged
// (feedback) and learned from (training, manual or on a schedule); snapshots are atomic and the
// server starts from the last one. cmd/gognn-serve is the command; the routes and their JSON
// are in the README ("Search as a service") and in the handlers' comments.
//
// Every request is bounded (body size, k, ef, batch size, requests in flight) and every bad one
// is a 4xx with a JSON body {"error": "..."} that names what was wrong, with no effect on the
// index. Adds are idempotent (an id already present with the same vector is not added again)
// and so is feedback that carries an event_id (a bounded set of recent ids is remembered, and
// saved with each snapshot, so a retry after a restart from the snapshot still counts once).
//
// Writes are group-committed (writes.go): those that arrive while one is being applied are
// applied together, in arrival order, as one search.Batch, and each gets the answer it would
// have got alone; a write is answered once it is applied.
package server

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/internal/vecmath"
	"github.com/gnnlab/gognn/search"
)

// Config configures a Server. Zero values select the defaults.
type Config struct {
	Dim   int    // vector dimension, required unless starting from a snapshot
	Dir   string // data directory for snapshots; "" keeps nothing on disk
	Token string // when set, every route but /healthz needs "Authorization: Bearer <Token>"

	MaxBody     int64         // largest request body in bytes, default 64 MiB
	MaxK        int           // largest k of a search, default 1000
	MaxEf       int           // largest ef (candidates re-ranked) of a search, default 4096
	MaxBatch    int           // most vectors in one add, default 100000
	MaxInFlight int           // requests served at once; more are refused with 503, default 1024
	DedupEvents int           // feedback event ids remembered for idempotency (and saved by snapshots), default 1<<20
	TrainEvery  time.Duration // train on a schedule when feedback arrived; 0: only POST /v1/train
	// WriteBatch is the most write requests (adds, puts, deletes) applied together as one batch
	// by group commit (writes.go), default 64; 1 applies each alone, as they arrive.
	WriteBatch int

	HNSW   hnsw.Config   // M, EfConstruction, Seed of a new index (Dim and Metric are set here)
	Search search.Config // the re-ranker of a new index
	// Background is how training does its long work (search.Index.SetBackground), also for an
	// index started from a snapshot. A server should set LowPriority with GOMAXPROCS raised by
	// Workers, as cmd/gognn-serve does, so that training uses only CPU the requests leave, and
	// DeferGC, so that no garbage collection waits for a training thread the kernel holds back.
	Background search.Background
	Logger     *slog.Logger // default: discard
}

func (c *Config) defaults() {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 64 << 20
	}
	set(&c.MaxK, 1000)
	set(&c.MaxEf, 4096)
	set(&c.MaxBatch, 100000)
	set(&c.MaxInFlight, 1024)
	set(&c.DedupEvents, 1<<20)
	set(&c.WriteBatch, 64)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is one search index behind HTTP. Create it with New; Handler serves it.
type Server struct {
	cfg Config
	log *slog.Logger
	ix  *search.Index

	// wmu serialises the batches of writes that change ids (add, update, delete) with
	// snapshots, so a snapshot's id table matches its index.
	wmu sync.Mutex
	// qmu guards the queue of writes waiting for a batch and whether a leader is applying one.
	qmu     sync.Mutex
	queue   []*writeReq
	leading bool
	// mu guards the id tables; searches read them.
	mu  sync.RWMutex
	ext []string       // internal id -> client id, "" when deleted
	ids map[string]int // client id -> internal id

	dedup dedup
	// fbMu is held shared by Feedback from the event-id check to the event's entry in the
	// replay buffer, and exclusively by a snapshot, so that the event ids saved are those of the
	// events saved.
	fbMu     sync.RWMutex
	inFlight chan struct{}
	met      *metrics
	trained  atomic.Int64 // TotalEvents at the last Train
	snapSeq  atomic.Int64
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New starts a server: from the last snapshot in cfg.Dir when there is one, else with an empty
// index of dimension cfg.Dim.
func New(cfg Config) (*Server, error) {
	cfg.defaults()
	sv := &Server{cfg: cfg, log: cfg.Logger, ids: map[string]int{}, stop: make(chan struct{}),
		inFlight: make(chan struct{}, cfg.MaxInFlight), met: newMetrics()}
	sv.dedup.cap = cfg.DedupEvents
	loaded := false
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("server: data directory: %w", err)
		}
		var err error
		if loaded, err = sv.loadSnapshot(); err != nil {
			return nil, err
		}
	}
	if !loaded {
		if cfg.Dim <= 0 {
			return nil, fmt.Errorf("server: no snapshot in %q and no dimension: set Config.Dim (-dim)", cfg.Dir)
		}
		hc := cfg.HNSW
		hc.Dim, hc.Metric = cfg.Dim, hnsw.Cosine
		h, err := hnsw.New(hc)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		if sv.ix, err = search.New(h, cfg.Search); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	} else if cfg.Dim > 0 && cfg.Dim != sv.ix.Dim() {
		return nil, fmt.Errorf("server: the snapshot in %s has dimension %d, not -dim %d", cfg.Dir, sv.ix.Dim(), cfg.Dim)
	}
	if err := sv.ix.SetBackground(cfg.Background); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	sv.trained.Store(sv.ix.Stats().TotalEvents)
	if cfg.TrainEvery > 0 {
		sv.wg.Add(1)
		go sv.trainLoop()
	}
	return sv, nil
}

// Index returns the served index (for tests and embedding programs; change it only through
// the server, or the id tables go stale).
func (sv *Server) Index() *search.Index { return sv.ix }

// Close stops scheduled training. It does not snapshot: call Snapshot first for that.
func (sv *Server) Close() {
	sv.stopOnce.Do(func() { close(sv.stop) })
	sv.wg.Wait()
}

func (sv *Server) trainLoop() {
	defer sv.wg.Done()
	t := time.NewTicker(sv.cfg.TrainEvery)
	defer t.Stop()
	for {
		select {
		case <-sv.stop:
			return
		case <-t.C:
			if sv.ix.Stats().TotalEvents == sv.trained.Load() {
				continue
			}
			if st, err := sv.train(); err != nil {
				sv.log.Error("scheduled training", "err", err)
			} else {
				sv.log.Info("scheduled training", "steps", st.Steps, "loss", st.Loss, "version", sv.ix.Stats().Steps)
			}
		}
	}
}

func (sv *Server) train() (search.TrainStats, error) {
	total := sv.ix.Stats().TotalEvents
	st, err := sv.ix.Train()
	if err == nil {
		sv.trained.Store(total)
		sv.met.trains.Add(1)
	}
	return st, err
}

// errBadInput marks errors that are the client's fault (400).
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// StatusCode returns the HTTP status the error maps to (4xx: the client's fault).
func (e *httpError) StatusCode() int { return e.code }

func bad(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// checkVector reports a 400 unless v has the index's dimension, is finite and is not zero.
func (sv *Server) checkVector(v []float32, what string) error {
	if len(v) != sv.ix.Dim() {
		return bad(400, "%s has dimension %d, the index's is %d", what, len(v), sv.ix.Dim())
	}
	var sq float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return bad(400, "%s has %v at position %d; vectors must be finite", what, x, i)
		}
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return bad(400, "%s is the zero vector, which has no cosine similarity", what)
	}
	return nil
}

func checkID(id, what string) error {
	if id == "" || len(id) > 256 {
		return bad(400, "%s %q: want 1 to 256 bytes", what, id)
	}
	return nil
}

// Item is one vector with its client id.
type Item struct {
	ID     string    `json:"id"`
	Vector []float32 `json:"vector"`
}

// AddResult reports an add.
type AddResult struct {
	Added    int `json:"added"`
	Existing int `json:"existing"` // ids already present with the same vector (a retried add)
}

// Add inserts items all or nothing as far as validation goes: any bad item (dimension, values,
// id, an id present with another vector, an id twice) refuses the whole batch.
func (sv *Server) Add(items []Item) (AddResult, error) {
	if err := sv.checkItems(items, "add"); err != nil {
		return AddResult{}, err
	}
	var res AddResult
	err := sv.write(len(items), func(t *tx) error {
		var fresh []Item
		for i, it := range items {
			in, ok := t.lookup(it.ID)
			if !ok {
				fresh = append(fresh, it)
				continue
			}
			same, err := sv.sameVector(in, it.Vector)
			if err != nil {
				return err
			}
			if !same {
				res = AddResult{}
				return bad(409, "vectors[%d].id %q exists with another vector; PUT /v1/vectors/{id} replaces it", i, it.ID)
			}
			res.Existing++
		}
		var err error
		res.Added, err = t.add(fresh)
		return err
	})
	return res, err
}

// checkItems checks a batch of an add or put: its size, every id and vector, no id twice.
func (sv *Server) checkItems(items []Item, op string) error {
	if len(items) == 0 {
		return bad(400, "no vectors to %s", op)
	}
	if len(items) > sv.cfg.MaxBatch {
		return bad(413, "%d vectors in one %s, the limit is %d; split the batch", len(items), op, sv.cfg.MaxBatch)
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if err := checkID(it.ID, fmt.Sprintf("vectors[%d].id", i)); err != nil {
			return err
		}
		if seen[it.ID] {
			return bad(400, "vectors[%d].id %q is listed twice", i, it.ID)
		}
		seen[it.ID] = true
		if err := sv.checkVector(it.Vector, fmt.Sprintf("vectors[%d] (id %q)", i, it.ID)); err != nil {
			return err
		}
	}
	return nil
}

// PutResult reports a batch put.
type PutResult struct {
	Updated int `json:"updated"` // ids present before, given the new vector
	Created int `json:"created"` // ids absent before, added
}

// PutBatch is Put of every item: the vectors of present ids are replaced in one
// search.Index.UpdateBatch, absent ids are added. A bad item (dimension, values, id, an id
// twice) refuses the whole batch.
func (sv *Server) PutBatch(items []Item) (PutResult, error) {
	if err := sv.checkItems(items, "put"); err != nil {
		return PutResult{}, err
	}
	var res PutResult
	err := sv.write(len(items), func(t *tx) error {
		var ins []int
		var vecs [][]float32
		var fresh []Item
		for _, it := range items {
			if in, ok := t.lookup(it.ID); ok {
				ins, vecs = append(ins, in), append(vecs, it.Vector)
			} else {
				fresh = append(fresh, it)
			}
		}
		if len(ins) > 0 {
			if err := t.b.UpdateBatch(ins, vecs); err != nil {
				return err
			}
			res.Updated = len(ins)
		}
		var err error
		res.Created, err = t.add(fresh)
		return err
	})
	return res, err
}

// sameVector reports whether the stored vector of internal id in is v (normalised as stored).
func (sv *Server) sameVector(in int, v []float32) (bool, error) {
	stored, err := sv.ix.Vector(in)
	if err != nil {
		return false, err
	}
	// The normalisation the index stores vectors with, so the same vector compares equal.
	unit := make([]float32, len(v))
	vecmath.Normalize(unit, v, vecmath.SquaredNorm(v))
	return slices.Equal(unit, stored), nil
}

// Put replaces the vector of id, or adds it when absent; created reports which.
func (sv *Server) Put(id string, v []float32) (created bool, err error) {
	if err := checkID(id, "id"); err != nil {
		return false, err
	}
	if err := sv.checkVector(v, "vector"); err != nil {
		return false, err
	}
	err = sv.write(1, func(t *tx) error {
		in, ok := t.lookup(id)
		if !ok {
			created = true
			_, err := t.add([]Item{{ID: id, Vector: v}})
			return err
		}
		return t.b.Update(in, v)
	})
	return created, err
}

// Delete removes id; an unknown id is a 404.
func (sv *Server) Delete(id string) error {
	return sv.DeleteBatch([]string{id})
}

// DeleteBatch removes every id in one search.Index.Delete, all or nothing: an unknown id is a
// 404 and an id listed twice a 400, and then nothing is deleted.
func (sv *Server) DeleteBatch(ids []string) error {
	if len(ids) == 0 {
		return bad(400, "no ids to delete")
	}
	if len(ids) > sv.cfg.MaxBatch {
		return bad(413, "%d ids in one delete, the limit is %d; split the batch", len(ids), sv.cfg.MaxBatch)
	}
	return sv.write(len(ids), func(t *tx) error {
		ins := make([]int, len(ids))
		seen := make(map[string]bool, len(ids))
		for i, id := range ids {
			in, ok := t.lookup(id)
			switch {
			case !ok && len(ids) == 1:
				return bad(404, "no vector with id %q", id)
			case !ok:
				return bad(404, "ids[%d]: no vector with id %q", i, id)
			case seen[id]:
				return bad(400, "ids[%d] %q is listed twice", i, id)
			}
			seen[id], ins[i] = true, in
		}
		if err := t.b.Delete(ins...); err != nil {
			return err
		}
		for i, id := range ids {
			t.remove(id, ins[i])
		}
		return nil
	})
}

func (sv *Server) lookup(id string) (int, bool) {
	sv.mu.RLock()
	defer sv.mu.RUnlock()
	in, ok := sv.ids[id]
	return in, ok
}

// Get returns the stored (unit-norm) vector of id.
func (sv *Server) Get(id string) ([]float32, error) {
	in, ok := sv.lookup(id)
	if !ok {
		return nil, bad(404, "no vector with id %q", id)
	}
	return sv.ix.Vector(in)
}

// SearchRequest is the body of POST /v1/search (and the query of feedback).
type SearchRequest struct {
	Vector  []float32 `json:"vector"`
	K       int       `json:"k"`       // default 10
	Ef      int       `json:"ef"`      // candidates re-ranked (HNSW ef), 0: the index's default
	Mode    string    `json:"mode"`    // "reranked" (default) or "plain"
	Exclude []string  `json:"exclude"` // ids never to return; unknown ones are ignored
}

// Hit is one search result.
type Hit struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"` // cosine similarity of the GNN embeddings (plain: of the vectors)
	Dist  float32 `json:"dist"`  // HNSW distance, 1 - cosine similarity of the vectors
}

// SearchResponse is the answer of POST /v1/search.
type SearchResponse struct {
	Results      []Hit `json:"results"`
	ModelVersion int64 `json:"model_version"` // optimiser steps of the model that ranked
}

// query converts a request to a search.Query, checked against the limits.
func (sv *Server) query(r *SearchRequest) (search.Query, error) {
	if r.K == 0 {
		r.K = 10
	}
	if r.Mode == "" {
		r.Mode = "reranked"
	}
	if r.Mode != "reranked" && r.Mode != "plain" {
		return search.Query{}, bad(400, "mode %q: want \"reranked\" or \"plain\"", r.Mode)
	}
	if r.K < 1 || r.K > sv.cfg.MaxK {
		return search.Query{}, bad(400, "k = %d: want 1 <= k <= %d", r.K, sv.cfg.MaxK)
	}
	if r.Ef < 0 || r.Ef > sv.cfg.MaxEf {
		return search.Query{}, bad(400, "ef = %d: want 0 (the default, %d) or up to %d", r.Ef, sv.ix.Config().Candidates, sv.cfg.MaxEf)
	}
	ef := r.Ef
	if ef == 0 {
		ef = sv.ix.Config().Candidates
	}
	if r.K > ef {
		return search.Query{}, bad(400, "k = %d exceeds ef = %d, the candidates re-ranked; raise ef", r.K, ef)
	}
	if err := sv.checkVector(r.Vector, "query vector"); err != nil {
		return search.Query{}, err
	}
	q := search.Query{Vector: r.Vector, Candidates: r.Ef}
	sv.mu.RLock()
	for _, id := range r.Exclude {
		if in, ok := sv.ids[id]; ok {
			q.Exclude = append(q.Exclude, in)
		}
	}
	sv.mu.RUnlock()
	return q, nil
}

// Search answers a query.
func (sv *Server) Search(r SearchRequest) (SearchResponse, error) {
	q, err := sv.query(&r)
	if err != nil {
		return SearchResponse{}, err
	}
	ver := sv.ix.ModelVersion()
	var res []search.Result
	if r.Mode == "plain" {
		res, err = sv.ix.Baseline(q, r.K)
	} else {
		res, err = sv.ix.Search(q, r.K)
	}
	if err != nil {
		return SearchResponse{}, bad(400, "%v", err)
	}
	out := SearchResponse{Results: make([]Hit, 0, len(res)), ModelVersion: ver}
	sv.mu.RLock()
	for _, x := range res {
		if x.ID < len(sv.ext) && sv.ext[x.ID] != "" { // an id added or deleted meanwhile is skipped
			out.Results = append(out.Results, Hit{ID: sv.ext[x.ID], Score: x.Score, Dist: x.Dist})
		}
	}
	sv.mu.RUnlock()
	return out, nil
}

// FeedbackRequest is the body of POST /v1/feedback.
type FeedbackRequest struct {
	Query    SearchRequest `json:"query"`    // the query as searched (vector, ef, exclude)
	Shown    []string      `json:"shown"`    // ids shown
	Relevant []bool        `json:"relevant"` // relevant[i] judges shown[i]
	EventID  string        `json:"event_id"` // optional: a retried event with the same id counts once
}

// Feedback records judgements; duplicate reports an event id seen before (no effect).
func (sv *Server) Feedback(r FeedbackRequest) (duplicate bool, err error) {
	if len(r.Shown) == 0 || len(r.Shown) != len(r.Relevant) {
		return false, bad(400, "%d shown ids and %d judgements: want as many, at least one", len(r.Shown), len(r.Relevant))
	}
	if len(r.Shown) > sv.cfg.MaxK {
		return false, bad(400, "%d shown ids: at most %d", len(r.Shown), sv.cfg.MaxK)
	}
	if len(r.EventID) > 256 {
		return false, bad(400, "event_id longer than 256 bytes")
	}
	q, err := sv.query(&r.Query)
	if err != nil {
		return false, err
	}
	shown := make([]int, len(r.Shown))
	sv.mu.RLock()
	for i, id := range r.Shown {
		in, ok := sv.ids[id]
		if !ok {
			sv.mu.RUnlock()
			return false, bad(404, "shown[%d]: no vector with id %q", i, id)
		}
		shown[i] = in
	}
	sv.mu.RUnlock()
	// A snapshot saves the event ids with the replay buffer; holding fbMu keeps the two alike.
	sv.fbMu.RLock()
	defer sv.fbMu.RUnlock()
	if r.EventID != "" && !sv.dedup.add(r.EventID) {
		return true, nil
	}
	if err := sv.ix.Feedback(q, shown, r.Relevant); err != nil {
		if r.EventID != "" {
			sv.dedup.remove(r.EventID)
		}
		return false, bad(409, "%v", err)
	}
	return false, nil
}

// dedup is a bounded set of recent event ids: a ring evicting the oldest.
type dedup struct {
	mu   sync.Mutex
	cap  int
	set  map[string]int // id -> its slot in ring
	ring []string       // "" marks a slot freed by remove
	next int            // the oldest slot once the ring is full
}

// add records id and reports whether it was new.
func (d *dedup) add(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.set == nil {
		d.set = map[string]int{}
	}
	if _, ok := d.set[id]; ok {
		return false
	}
	if len(d.ring) < d.cap {
		d.set[id] = len(d.ring)
		d.ring = append(d.ring, id)
		return true
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.set, old)
	}
	d.ring[d.next], d.set[id] = id, d.next
	d.next = (d.next + 1) % d.cap
	return true
}

// remove forgets id (its feedback was refused).
func (d *dedup) remove(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if slot, ok := d.set[id]; ok {
		d.ring[slot] = ""
		delete(d.set, id)
	}
}

// ordered returns the ids remembered, oldest first.
func (d *dedup) ordered() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.set))
	for i := range d.ring {
		if id := d.ring[(d.next+i)%len(d.ring)]; id != "" {
			out = append(out, id)
		}
	}
	return out
}

// Stats is the answer of GET /v1/stats.
type Stats struct {
	search.Stats
	ModelVersion int64 `json:"model_version"`
	Dim          int   `json:"dim"`
	Rejected     int64 `json:"rejected"` // requests refused with 503: too many in flight
	Snapshots    int64 `json:"snapshots"`
}

// Stats returns the index's and the server's counters.
func (sv *Server) Stats() Stats {
	st := sv.ix.Stats()
	return Stats{Stats: st, ModelVersion: st.Steps, Dim: sv.ix.Dim(), Rejected: sv.met.rejected.Load(), Snapshots: sv.met.snapshots.Load()}
}
