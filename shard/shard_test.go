package shard

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnnlab/gognn/search"
	"github.com/gnnlab/gognn/server"
)

// startNATS starts Debian's nats-server binary on a free loopback port and returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Fatalf("these tests need the nats-server binary (Debian package nats-server): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if nc, err := nats.Connect(url); err == nil {
			nc.Close()
			return url
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("nats-server did not start")
	return ""
}

func connect(t *testing.T, url string) *nats.Conn {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

var cfg = server.Config{Dim: 16, Search: search.Config{Candidates: 40, Hidden: 16, Steps: 10, BatchSize: 16, LearningRate: 0.01, Seed: 1}}

func newServer(t *testing.T) *server.Server {
	sv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sv.Close)
	return sv
}

// clusteredItems returns n vectors around 20 centres, labelled by centre.
func clusteredItems(n int, seed uint64) ([]server.Item, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float32, 20)
	for c := range centres {
		centres[c] = make([]float32, 16)
		for j := range centres[c] {
			centres[c][j] = float32(rng.NormFloat64())
		}
	}
	items, labels := make([]server.Item, n), make([]int, n)
	for i := range items {
		v := make([]float32, 16)
		for j := range v {
			v[j] = centres[i%20][j] + float32(0.8*rng.NormFloat64())
		}
		items[i], labels[i] = server.Item{ID: fmt.Sprintf("id-%d", i), Vector: v}, i%20
	}
	return items, labels
}

func exact(items []server.Item, q []float32, k int) []string {
	type sc struct {
		id string
		s  float64
	}
	var all []sc
	norm := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s)
	}
	for _, it := range items {
		var d float64
		for j := range q {
			d += float64(q[j]) * float64(it.Vector[j])
		}
		all = append(all, sc{it.ID, d / (norm(q) * norm(it.Vector))})
	}
	slices.SortFunc(all, func(a, b sc) int { return cmp.Compare(b.s, a.s) })
	out := []string{}
	for _, a := range all[:k] {
		out = append(out, a.id)
	}
	return out
}

// TestCluster: 4 shards and a trainer on one nats-server. Merged recall@10 within 0.01 of one
// index over the same vectors at the same ef; training reaches every shard; a shard killed
// mid-load is named in partial results, promptly.
func TestCluster(t *testing.T) {
	url := startNATS(t)
	const shards = 4
	var conns []*nats.Conn
	for i := 0; i < shards; i++ {
		nc := connect(t, url)
		conns = append(conns, nc)
		if _, err := ServeShard(nc, "test", i, newServer(t), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ServeTrainer(connect(t, url), "test", newServer(t), nil); err != nil {
		t.Fatal(err)
	}
	r, err := NewRouter(connect(t, url), "test", shards, 500*time.Millisecond, true)
	if err != nil {
		t.Fatal(err)
	}
	n := 2000
	if raceEnabled {
		n = 600
	}
	items, labels := clusteredItems(n, 3)
	single := newServer(t)
	for lo := 0; lo < len(items); lo += 200 {
		if _, err := r.Add(items[lo : lo+200]); err != nil {
			t.Fatal(err)
		}
		if _, err := single.Add(items[lo : lo+200]); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := r.Add(items[:10]); err != nil || res.Existing != 10 || res.Added != 0 {
		t.Fatalf("retried add: %+v %v", res, err)
	}
	per := r.Stats()
	total := 0
	for _, st := range per {
		total += st.Live
	}
	if total != len(items) || len(per) != shards {
		t.Fatalf("shards hold %d vectors (%v), want %d", total, per, len(items))
	}
	// Recall@10 (plain HNSW, ef = 10 per shard and in the single index) against exact search.
	qs, _ := clusteredItems(100, 9)
	var hitS, hitM int
	for _, q := range qs {
		truth := exact(items, q.Vector, 10)
		req := server.SearchRequest{Vector: q.Vector, K: 10, Ef: 10, Mode: "plain"}
		m, err := r.Search(req)
		if err != nil || len(m.Missing) > 0 {
			t.Fatalf("search: %v %v", err, m.Missing)
		}
		s, _ := single.Search(req)
		for _, h := range m.Results {
			if slices.Contains(truth, h.ID) {
				hitM++
			}
		}
		for _, h := range s.Results {
			if slices.Contains(truth, h.ID) {
				hitS++
			}
		}
	}
	rm, rs := float64(hitM)/float64(10*len(qs)), float64(hitS)/float64(10*len(qs))
	t.Logf("recall@10 at ef = 10: 4 shards merged %.4f, one index %.4f", rm, rs)
	if rm < rs-0.01 {
		t.Errorf("merged recall %.4f, single %.4f: want within 0.01", rm, rs)
	}
	// Feedback through the router (retried once), training, weights on every shard.
	for i := 0; i < 100; i++ {
		q := server.SearchRequest{Vector: items[i].Vector, K: 10, Exclude: []string{items[i].ID}}
		m, _ := r.Search(q)
		f := server.FeedbackRequest{Query: q, EventID: fmt.Sprint("ev", i)}
		for _, h := range m.Results {
			var j int
			fmt.Sscanf(h.ID, "id-%d", &j)
			f.Shown, f.Relevant = append(f.Shown, h.ID), append(f.Relevant, labels[j] == labels[i])
		}
		for retry := 0; retry < 2; retry++ {
			if dup, err := r.Feedback(f); err != nil || dup != (retry == 1) {
				t.Fatalf("feedback %d retry %d: %v %v", i, retry, dup, err)
			}
		}
	}
	ver, err := r.Train()
	if err != nil || ver == 0 {
		t.Fatalf("train: %d %v", ver, err)
	}
	// Train returns once every shard serves the new model: the next search sees it everywhere.
	m, _ := r.Search(server.SearchRequest{Vector: items[0].Vector, K: 40})
	seen := map[int]int64{}
	for _, h := range m.Results {
		seen[h.Shard] = h.ModelVersion
	}
	for i := range shards {
		if v, ok := seen[i]; ok && v != ver {
			t.Fatalf("right after Train, shard %d answered with model version %d, want %d (%v)", i, v, ver, seen)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("results from %d shards, want several: %v", len(seen), seen)
	}
	// Kill shard 2 during a stream of searches: every answer comes within the timeout, and
	// once it is gone they name it.
	done := make(chan struct{})
	go func() { time.Sleep(100 * time.Millisecond); conns[2].Close(); close(done) }()
	named := 0
	for i := 0; i < 300; i++ {
		start := time.Now()
		m, err := r.Search(server.SearchRequest{Vector: qs[i%len(qs)].Vector, K: 10})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("search took %v with a dead shard", d)
		}
		if _, ok := m.Missing["shard-2"]; ok {
			named++
			if len(m.Results) != 10 || len(m.Missing) != 1 {
				t.Fatalf("partial answer: %d results, missing %v", len(m.Results), m.Missing)
			}
			for _, h := range m.Results {
				if h.Shard == 2 {
					t.Fatal("a result from the dead shard")
				}
			}
		}
	}
	<-done
	if named == 0 {
		t.Fatal("no answer named the killed shard")
	}
	// Training with a dead shard: the others take the weights, the dead one is named, promptly.
	start := time.Now()
	if _, err := r.Train(); err == nil || !strings.Contains(err.Error(), "shard-2") || strings.Contains(err.Error(), "shard-1") {
		t.Fatalf("Train with shard-2 dead: %v, want an error naming shard-2 alone", err)
	} else if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("Train with a dead shard took %v", d)
	}
	t.Logf("%d of 300 searches after the kill named shard-2 as missing", named)
}
