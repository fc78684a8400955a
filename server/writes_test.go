package server

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/search"
)

var hnswSeed = hnsw.Config{M: 8, EfConstruction: 64, Seed: 1}

// statusOf is the HTTP status an error maps to, 0 for nil.
func statusOf(err error) int {
	var he *httpError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &he):
		return he.code
	}
	return 500
}

// writeOp is one write request of the tests, returning its answer as a string.
type writeOp func(sv *Server) string

func addOp(its ...Item) writeOp {
	return func(sv *Server) string { r, err := sv.Add(its); return fmt.Sprint("add ", r, statusOf(err)) }
}
func delOp(ids ...string) writeOp {
	return func(sv *Server) string { return fmt.Sprint("delete ", statusOf(sv.DeleteBatch(ids))) }
}
func putOp(id string, v []float32) writeOp {
	return func(sv *Server) string { c, err := sv.Put(id, v); return fmt.Sprint("put ", c, statusOf(err)) }
}
func putBatchOp(its ...Item) writeOp {
	return func(sv *Server) string { r, err := sv.PutBatch(its); return fmt.Sprint("putbatch ", r, statusOf(err)) }
}

// waitFor polls cond (under qmu) until it holds.
func waitFor(t *testing.T, sv *Server, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Microsecond) {
		sv.qmu.Lock()
		ok := cond()
		sv.qmu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the writes did not queue")
		}
	}
}

// coalesced runs ops concurrently so that they are applied as one batch, in the order given,
// and returns their answers: a first write leads and waits for wmu, held here, and the others
// queue one after the other behind it; the next leader then takes them all.
func coalesced(t *testing.T, sv *Server, ops []writeOp) []string {
	t.Helper()
	out := make([]string, len(ops))
	var wg sync.WaitGroup
	sv.wmu.Lock()
	before := sv.met.writeBatches.Load()
	wg.Add(1)
	go func() { defer wg.Done(); sv.Add(items(rand.New(rand.NewPCG(9, 9)), "lead", 1)) }()
	waitFor(t, sv, func() bool { return sv.leading && len(sv.queue) == 0 })
	for i, op := range ops {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = op(sv) }()
		waitFor(t, sv, func() bool { return len(sv.queue) == i+1 })
	}
	sv.wmu.Unlock()
	wg.Wait()
	if got := sv.met.writeBatches.Load() - before; got != 2 {
		t.Fatalf("%d writes were applied in %d batches, want 2 (the leader's and one of the rest)", len(ops)+1, got)
	}
	return out
}

// TestGroupCommit: writes coalesced into one batch get each its own answer, exactly the answers
// and the final index (ids, vectors, search results) of the same writes applied one at a time
// in the same order: per id order holds (an add then a delete of the same id), a refused write
// (unknown id, conflicting vector, id listed with an unknown one) fails alone, and a retried
// add stays idempotent.
func TestGroupCommit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := items(rng, "v", 40)
	va, vb, vx, vy, vz, vw, va2 := vec(rng), vec(rng), vec(rng), vec(rng), vec(rng), vec(rng), vec(rng)
	a := Item{ID: "v0", Vector: base[0].Vector}
	ops := []writeOp{
		addOp(Item{ID: "x", Vector: vx}),
		delOp("x"), // the x just added
		delOp("nope"),
		addOp(a), // retried add: existing
		addOp(Item{ID: "v0", Vector: va}),
		putOp("v1", vb),
		addOp(Item{ID: "y", Vector: vy}, Item{ID: "z", Vector: vz}),
		delOp("v2", "nope"), // all or nothing: v2 stays
		putOp("w", vw),
		delOp("v0"),
		addOp(Item{ID: "v0", Vector: va2}), // reuses a deleted internal id
		putBatchOp(Item{ID: "y", Vector: vx}, Item{ID: "q", Vector: vy}),
		delOp("x"), // deleted above
		delOp("v3", "v4"),
		addOp(Item{ID: "x", Vector: vz}),
	}
	lead := items(rand.New(rand.NewPCG(9, 9)), "lead", 1)
	var servers [2]*Server
	var answers [2][]string
	for i, wb := range []int{64, 1} {
		sv, err := New(Config{Dim: dim, WriteBatch: wb, Search: search.Config{Seed: 1}, HNSW: hnswSeed})
		if err != nil {
			t.Fatal(err)
		}
		defer sv.Close()
		if _, err := sv.Add(base); err != nil {
			t.Fatal(err)
		}
		if wb == 1 {
			sv.Add(lead)
			for _, op := range ops {
				answers[i] = append(answers[i], op(sv))
			}
		} else {
			answers[i] = coalesced(t, sv, ops)
		}
		servers[i] = sv
	}
	want := []string{"add {1 0} 0", "delete 0", "delete 404", "add {0 1} 0", "add {0 0} 409", "put false 0",
		"add {2 0} 0", "delete 404", "put true 0", "delete 0", "add {1 0} 0", "putbatch {1 1} 0", "delete 404",
		"delete 0", "add {1 0} 0"}
	if !slices.Equal(answers[0], want) || !slices.Equal(answers[1], want) {
		t.Fatalf("answers\ncoalesced:   %q\none by one:  %q\nwant:        %q", answers[0], answers[1], want)
	}
	co, one := servers[0], servers[1]
	if !maps.Equal(co.ids, one.ids) || !slices.Equal(co.ext, one.ext) {
		t.Fatalf("id tables differ:\ncoalesced  %v\none by one %v", co.ids, one.ids)
	}
	for id := range one.ids {
		v1, err1 := one.Get(id)
		v2, err2 := co.Get(id)
		if err1 != nil || err2 != nil || !slices.Equal(v1, v2) {
			t.Fatalf("id %q: vector %v (%v) coalesced, %v (%v) one by one", id, v2, err2, v1, err1)
		}
	}
	for q := range 20 {
		for _, mode := range []string{"plain", "reranked"} {
			r := SearchRequest{Vector: vec(rng), K: 10, Mode: mode}
			r1, err1 := one.Search(r)
			r2, err2 := co.Search(r)
			if err1 != nil || err2 != nil || !slices.Equal(r1.Results, r2.Results) {
				t.Fatalf("query %d (%s): coalesced %v (%v), one by one %v (%v)", q, mode, r2, err2, r1, err1)
			}
		}
	}
}

// TestConcurrentWrites (run with -race): writers, each on ids of its own, add, update and delete
// concurrently with searches; every answer is the one its own sequence gives, and the id
// tables end as those sequences leave them.
func TestConcurrentWrites(t *testing.T) {
	sv, err := New(Config{Dim: dim, WriteBatch: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer sv.Close()
	if _, err := sv.Add(items(rand.New(rand.NewPCG(3, 3)), "base", 50)); err != nil {
		t.Fatal(err)
	}
	const writers, rounds = 8, 15
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, writers*rounds*4+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(4, 4))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := sv.Search(SearchRequest{Vector: vec(rng), K: 5}); err != nil {
				errs <- err
			}
		}
	}()
	var ww sync.WaitGroup
	for w := range writers {
		ww.Add(1)
		go func() {
			defer ww.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 5))
			check := func(what string, got, want any) {
				if fmt.Sprint(got) != fmt.Sprint(want) {
					errs <- fmt.Errorf("writer %d: %s: %v, want %v", w, what, got, want)
				}
			}
			for r := range rounds {
				id, v := fmt.Sprintf("w%d-%d", w, r), vec(rng)
				res, err := sv.Add([]Item{{ID: id, Vector: v}})
				check("add", fmt.Sprint(res, err), "{1 0} <nil>")
				res, err = sv.Add([]Item{{ID: id, Vector: v}})
				check("retried add", fmt.Sprint(res, err), "{0 1} <nil>")
				created, err := sv.Put(id, vec(rng))
				check("put", fmt.Sprint(created, err), "false <nil>")
				check("delete of an unknown id", statusOf(sv.Delete(id+"-nope")), 404)
				if r%2 == 0 {
					check("delete", sv.Delete(id), nil)
					check("delete again", statusOf(sv.Delete(id)), 404)
				}
			}
		}()
	}
	ww.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		for r := range rounds {
			id := fmt.Sprintf("w%d-%d", w, r)
			if _, err := sv.Get(id); (err == nil) != (r%2 == 1) {
				t.Errorf("id %s: Get %v", id, err)
			}
		}
	}
	if b, n := sv.met.writeBatches.Load(), sv.met.writesCoalesced.Load(); b >= n {
		t.Logf("%d writes in %d batches: none coalesced", n, b)
	} else {
		t.Logf("%d writes in %d batches", n, b)
	}
	if live := sv.ix.Live(); live != 50+writers*(rounds/2) {
		t.Errorf("%d live vectors, want %d", live, 50+writers*(rounds/2))
	}
}
