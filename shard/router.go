package shard

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnnlab/gognn/server"
)

// Router sends requests to the shards of a cluster and merges their answers.
type Router struct {
	nc      *nats.Conn
	prefix  string
	n       int
	timeout time.Duration
	trainer bool // mirror adds and deletes to the trainer
}

// NewRouter returns a router for n shards under prefix; a search waits at most timeout
// (default 2 s) for the shards, other requests writeTimeout. With trainer set, adds and deletes are mirrored to the trainer and
// feedback goes to it.
func NewRouter(nc *nats.Conn, prefix string, n int, timeout time.Duration, trainer bool) (*Router, error) {
	if n < 1 || n > VirtualShards {
		return nil, fmt.Errorf("shard: %d shards: want 1..%d", n, VirtualShards)
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Router{nc: nc, prefix: prefix, n: n, timeout: timeout, trainer: trainer}, nil
}

// Error is an error answered by a node, with its HTTP-like status code.
type Error struct {
	Node string
	Code int
	Msg  string
}

func (e *Error) Error() string   { return fmt.Sprintf("%s: %s", e.Node, e.Msg) }
func (e *Error) StatusCode() int { return e.Code }

// writeTimeout bounds adds, deletes, feedback and training, which take longer than searches
// (training recomputes every embedding of the trainer and of each shard).
const writeTimeout = 10 * time.Minute

// call sends a request and decodes the answer's body into out; searches, stats and version
// polls wait r.timeout, other requests writeTimeout.
func (r *Router) call(subject, node string, body []byte, out any) error {
	timeout := writeTimeout
	if strings.HasSuffix(subject, ".search") || strings.HasSuffix(subject, ".stats") || strings.HasSuffix(subject, ".version") {
		timeout = r.timeout
	}
	m, err := r.nc.Request(subject, body, timeout)
	if err != nil {
		return fmt.Errorf("%s: %w", node, err)
	}
	var rep reply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return fmt.Errorf("%s: bad reply: %w", node, err)
	}
	if rep.Error != "" {
		return &Error{Node: node, Code: rep.Code, Msg: rep.Error}
	}
	if out != nil && rep.Body != nil {
		return json.Unmarshal(rep.Body, out)
	}
	return nil
}

func shardName(i int) string { return fmt.Sprintf("shard-%d", i) }

// Add sends each item to its shard (and all to the trainer), shards in parallel. Adds are
// idempotent by id, so a failed call may be retried whole.
func (r *Router) Add(items []server.Item) (server.AddResult, error) {
	groups := make([][]server.Item, r.n)
	for _, it := range items {
		s := Of(it.ID, r.n)
		groups[s] = append(groups[s], it)
	}
	var mu sync.Mutex
	var total server.AddResult
	var errs []error
	var wg sync.WaitGroup
	send := func(subject, node string, g []server.Item, count bool) {
		defer wg.Done()
		for len(g) > 0 {
			var chunk []server.Item
			chunk, g = r.chunk(g)
			raw, _ := json.Marshal(chunk)
			var res server.AddResult
			err := r.call(subject, node, raw, &res)
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			} else if count {
				total.Added += res.Added
				total.Existing += res.Existing
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}
	for i, g := range groups {
		if len(g) > 0 {
			wg.Add(1)
			go send(shardSubject(r.prefix, i, "add"), shardName(i), g, true)
		}
	}
	if r.trainer {
		wg.Add(1)
		go send(trainerSubject(r.prefix, "add"), "trainer", items, false)
	}
	wg.Wait()
	return total, errors.Join(errs...)
}

// chunk splits off the first items of g whose JSON fits in half the server's payload limit.
func (r *Router) chunk(g []server.Item) (head, tail []server.Item) {
	limit := int(r.nc.MaxPayload()) / 2
	size := 2
	for i, it := range g {
		raw, _ := json.Marshal(it)
		if size += len(raw) + 1; size > limit && i > 0 {
			return g[:i], g[i:]
		}
	}
	return g, nil
}

// Delete removes id from its shard and the trainer.
func (r *Router) Delete(id string) error {
	s := Of(id, r.n)
	err := r.call(shardSubject(r.prefix, s, "delete"), shardName(s), []byte(id), nil)
	if r.trainer {
		err = errors.Join(err, r.call(trainerSubject(r.prefix, "delete"), "trainer", []byte(id), nil))
	}
	return err
}

// Hit is a merged result: the shard's hit, the shard and its model version.
type Hit struct {
	server.Hit
	Shard        int   `json:"shard"`
	ModelVersion int64 `json:"model_version"`
}

// Response is a merged search answer. Missing names the shards that did not answer (timed out
// or failed), with the reason; the results are then those of the other shards.
type Response struct {
	Results []Hit             `json:"results"`
	Missing map[string]string `json:"missing,omitempty"`
}

// Search fans the query out to every shard at once and merges the top k: by score for
// re-ranked search, by distance for plain search (ties by id). It waits at most the timeout.
func (r *Router) Search(q server.SearchRequest) (Response, error) {
	raw, err := json.Marshal(q)
	if err != nil {
		return Response{}, err
	}
	type part struct {
		res server.SearchResponse
		err error
	}
	parts := make([]part, r.n)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].err = r.call(shardSubject(r.prefix, i, "search"), shardName(i), raw, &parts[i].res)
		}()
	}
	wg.Wait()
	var out Response
	for i, p := range parts {
		if p.err != nil {
			var e *Error
			if errors.As(p.err, &e) && e.Code >= 400 && e.Code < 500 {
				return Response{}, p.err // a bad query is bad everywhere
			}
			if out.Missing == nil {
				out.Missing = map[string]string{}
			}
			out.Missing[shardName(i)] = p.err.Error()
			continue
		}
		for _, h := range p.res.Results {
			out.Results = append(out.Results, Hit{Hit: h, Shard: i, ModelVersion: p.res.ModelVersion})
		}
	}
	plain := q.Mode == "plain"
	slices.SortFunc(out.Results, func(a, b Hit) int {
		if plain {
			if c := cmp.Compare(a.Dist, b.Dist); c != 0 {
				return c
			}
		} else if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	k := q.K
	if k == 0 {
		k = 10
	}
	out.Results = out.Results[:min(k, len(out.Results))]
	return out, nil
}

// Feedback sends judgements to the trainer; with an EventID a retry counts once.
func (r *Router) Feedback(f server.FeedbackRequest) (duplicate bool, err error) {
	raw, _ := json.Marshal(f)
	var out map[string]bool
	err = r.call(trainerSubject(r.prefix, "feedback"), "trainer", raw, &out)
	return out["duplicate"], err
}

// Train makes the trainer learn and publish its weights, and waits until every shard serves
// them (has recomputed its embeddings), so that a search after Train sees the new model; it
// returns the new model version. A shard that does not answer, or has not taken the version
// within applyTimeout, is named in the error (an *Error per shard, joined); the others serve it.
func (r *Router) Train() (int64, error) {
	var out versionReply
	if err := r.call(trainerSubject(r.prefix, "train"), "trainer", nil, &out); err != nil {
		return 0, err
	}
	return out.Version, r.awaitVersion(out.Version, time.Now().Add(applyTimeout))
}

// applyTimeout bounds how long Train waits for the shards to take new weights (each recomputes
// the embeddings of its vectors).
const applyTimeout = 2 * time.Minute

// awaitVersion polls every shard's model version until all have version v or the deadline
// passes; a shard that does not answer a poll within the search timeout is not asked again.
func (r *Router) awaitVersion(v int64, deadline time.Time) error {
	errs := make([]error, r.n)
	var wg sync.WaitGroup
	for i := range r.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
				var got versionReply
				if err := r.call(shardSubject(r.prefix, i, "version"), shardName(i), nil, &got); err != nil {
					errs[i] = &Error{Node: shardName(i), Code: 504, Msg: fmt.Sprintf("model version %d not confirmed: %v", v, err)}
					return
				}
				if got.Version >= v {
					return
				}
				if time.Now().After(deadline) {
					errs[i] = &Error{Node: shardName(i), Code: 504, Msg: fmt.Sprintf("serves model version %d, not %d, after %v", got.Version, v, applyTimeout)}
					return
				}
				time.Sleep(wait)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Stats returns each shard's stats, by shard name; shards that do not answer are missing.
func (r *Router) Stats() map[string]server.Stats {
	out := map[string]server.Stats{}
	for i := 0; i < r.n; i++ {
		var st server.Stats
		if r.call(shardSubject(r.prefix, i, "stats"), shardName(i), nil, &st) == nil {
			out[shardName(i)] = st
		}
	}
	return out
}
