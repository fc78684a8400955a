// Command load drives the search server (target single, over HTTP on loopback) and the sharded
// cluster (target sharded: 4 shards and a trainer on a local nats-server, through shard.Router)
// with a mix of searches, feedback, adds and deletes from many connections while training runs
// on a schedule, and writes results.json rows {target, mode, concurrency, qps, p50_ms, p99_ms,
// errors}: mode plain or reranked at full load (closed loop: the saturation QPS), then open loop
// at half that rate (mode *-half, target_qps), latency counted from when each request was due.
// Bounded in count and time by -n and -duration. Each row also counts the garbage collections
// (gcs), their pauses and the heap allocated per request (alloc_kb_per_req) of the process.
// The server runs in this process unless -url names a gognn-serve started beforehand, which
// then also trains on its own schedule (its -train-every).
//
//	go run ./experiments/load -n 100000 -dim 128 -conns 32 -duration 20s -target single [-writes 4] [-background 1] [-defer-gc] [-yield] [-gogc 100]
//	go run ./cmd/gognn-serve -addr 127.0.0.1:8080 -dim 128 -ef-construction 100 -train-every 5s -max-inflight 4096 &
//	go run ./experiments/load -n 100000 -dim 128 -conns 32 -duration 20s -target single -url http://127.0.0.1:8080
//	go run ./experiments/load -cora    # recall@10 and precision@10 after feedback, 4 shards against one index
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/ops"
	"github.com/gnnlab/gognn/search"
	"github.com/gnnlab/gognn/server"
	"github.com/gnnlab/gognn/shard"
	"github.com/gnnlab/gognn/vecio"
)

// Row is one line of results.json.
type Row struct {
	Target      string  `json:"target"`
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency"`
	QPS         float64 `json:"qps"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	Errors      int64   `json:"errors"`   // transport errors, 5xx, missing shards
	Refused     int64   `json:"refused"`  // 4xx: feedback on a result deleted meanwhile
	Requests    int64   `json:"requests"` // all kinds
	Searches    int     `json:"searches"` // the requests behind the latency percentiles
	// TargetQPS is the open-loop rate of a paced run (mode *-half: half the saturated run's
	// QPS), 0 for a saturated (closed-loop) run.
	TargetQPS float64 `json:"target_qps,omitempty"`
	// GCPauses is the number of garbage-collector stop-the-world pauses during the run, and
	// GCStopMaxMs and GCPauseMaxMs bound the longest time taken to stop the world and the
	// longest pause (the upper bound of the runtime's histogram bucket, in ms).
	GCPauses uint64 `json:"gc_pauses"`
	// WriteP50ms and WriteP99ms are the latencies of the adds and deletes (from when they were
	// due, as for searches): a write holds its connection while it waits for the one before.
	WriteP50ms   float64 `json:"write_p50_ms"`
	WriteP99ms   float64 `json:"write_p99_ms"`
	GCStopMaxMs  float64 `json:"gc_stop_max_ms"`
	GCPauseMaxMs float64 `json:"gc_pause_max_ms"`
	// GCs is the number of garbage collections completed during the run, and AllocKBPerReq
	// the heap allocated during it per request, by the whole process: the requests' handling
	// on both sides of the connection, the writes, and training.
	GCs           uint64  `json:"gcs"`
	AllocKBPerReq float64 `json:"alloc_kb_per_req"`
	// SchedP99ms and SchedP999ms bound the 99th and 99.9th percentiles of the time goroutines
	// waited, runnable, for a processor of the Go scheduler (the histogram bucket's upper
	// bound): queueing for CPU in this process, whatever the kernel does.
	SchedP99ms  float64 `json:"sched_p99_ms"`
	SchedP999ms float64 `json:"sched_p999_ms"`
	// TrainSteps is the optimiser steps the served model made during the run (target single:
	// model_version of GET /v1/stats after the run less before), so that a row shows training
	// ran meanwhile.
	TrainSteps int64 `json:"train_steps"`
}

// refusedError is a 4xx answer.
type refusedError struct{ error }

// target is what the load drives.
type target interface {
	add(items []server.Item) error
	del(id string) error
	search(q server.SearchRequest) ([]string, error)
	feedback(f server.FeedbackRequest) error
}

func main() {
	var fl expenv.Flags
	fl.Register(flag.CommandLine, "results/load")
	n := flag.Int("n", 100000, "corpus vectors")
	dim := flag.Int("dim", 128, "dimension")
	conns := flag.Int("conns", 32, "concurrent connections")
	dur := flag.Duration("duration", 20*time.Second, "length of each timed run")
	which := flag.String("target", "single", "single, sharded or both")
	trainEvery := flag.Duration("train-every", 5*time.Second, "training schedule during the runs")
	efc := flag.Int("efc", 100, "HNSW efConstruction of the served index")
	writes := flag.Int("writes", 4, "percent of requests that are writes, half adds and half deletes (even, 0..94)")
	deferGC := flag.Bool("defer-gc", false, "with -background: no garbage collection while the low-priority training threads run (search.Background.DeferGC): no collection then waits for the kernel to give them a core, but the one after the round marks a heap up to 3 times its goal (off by default: it raised the re-ranked paced p99 in quiet runs)")
	yield := flag.Bool("yield", false, "train at normal priority on one goroutine that yields to the requests (search.Background.Yield), as cmd/gognn-serve -yield, instead of -background's low-priority threads")
	background := flag.Int("background", 1, "training threads of lowest priority on top of GOMAXPROCS, as cmd/gognn-serve -background (0: normal priority, all cores but one)")
	traceFile := flag.String("trace", "", "write a runtime/trace of the timed runs (not the loading) to this file, for go tool trace")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed runs to this file, for go tool pprof")
	memProfile := flag.String("memprofile", "", "write the allocation profile after the runs to this file and the one before the timed runs to it with .base appended (go tool pprof -sample_index=alloc_space -diff_base FILE.base FILE: the timed runs' allocations)")
	coalesce := flag.Bool("coalesce", true, "group commit of the server's writes (server.Config.WriteBatch default); false applies each write alone")
	url := flag.String("url", "", "target single: drive the gognn-serve already listening at this URL (started with the same -dim, an empty index and its own -train-every) instead of a server in this process, so that the load generator's CPU and garbage are not the server's; the gc_* and alloc columns then describe this process only")
	gogc := flag.Int("gogc", 100, "garbage collector target percentage of the in-process server (debug.SetGCPercent), as gognn-serve -gogc")
	flag.StringVar(&timeline, "timeline", "", "write each timed run's searches (when each was due and its latency, ms) to DIR/<target>-<mode>.csv, to see when the slow ones fall")
	coraOnly := flag.Bool("cora", false, "compare recall@10 of plain search and precision@10 after feedback on Cora's vectors, 4 shards against one index (cora.json)")
	flag.Parse()
	if *writes < 0 || *writes > 94 || *writes%2 != 0 {
		log.Fatalf("-writes %d: want an even percentage from 0 to 94", *writes)
	}
	if *background < 0 || *background > search.MaxBackgroundWorkers {
		log.Fatalf("-background %d: want 0 to %d", *background, search.MaxBackgroundWorkers)
	}
	bg := search.Background{Workers: *background, LowPriority: *background > 0, DeferGC: *deferGC}
	if *yield {
		bg = search.Background{Workers: 1, Yield: true}
		ops.SetMaxWorkers(1)
	}
	if bg.LowPriority {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + bg.Workers) // as cmd/gognn-serve does
		ops.SetMaxWorkers(1)
	}
	debug.SetGCPercent(*gogc)
	env := expenv.Current(fl.Seed)
	writeBatch := 0 // the server's default
	if !*coalesce {
		writeBatch = 1
	}
	log.Printf("%s, background %+v, writes %d%%, coalesce %v", env, bg, *writes, *coalesce)
	if *coraOnly {
		res := cora(fl.Data, 1000, 1000, 50, fl.Seed)
		if err := expenv.WriteJSON(fl.Out, "cora.json", struct {
			Env expenv.Env `json:"env"`
			CoraResult
		}{env, res}); err != nil {
			log.Fatal(err)
		}
		return
	}
	all := vecio.Clustered(*n+10000, *dim, 100, 1, fl.Seed)
	item := func(i int) server.Item {
		return server.Item{ID: fmt.Sprintf("v%d", i), Vector: all[i**dim : (i+1)**dim]}
	}
	var rows []Row
	for _, tg := range []string{"single", "sharded"} {
		if *which != "both" && *which != tg {
			continue
		}
		var t target
		var stop func()
		scfg := server.Config{Dim: *dim, TrainEvery: *trainEvery, Search: search.Config{Seed: fl.Seed}, MaxInFlight: 4096,
			HNSW: hnsw.Config{EfConstruction: *efc, Seed: fl.Seed}, Background: bg, WriteBatch: writeBatch}
		switch {
		case tg == "single" && *url != "":
			t, stop = dialSingle(*url), func() {}
		case tg == "single":
			t, stop = startSingle(scfg)
		default:
			t, stop = startSharded(scfg, 4)
		}
		start := time.Now()
		for lo := 0; lo < *n; lo += 1000 {
			batch := make([]server.Item, 0, 1000)
			for i := lo; i < min(lo+1000, *n); i++ {
				batch = append(batch, item(i))
			}
			if err := t.add(batch); err != nil {
				log.Fatal(err)
			}
		}
		log.Printf("%s: loaded %d x %d in %v", tg, *n, *dim, time.Since(start).Round(time.Millisecond))
		var next, deleted atomic.Int64
		next.Store(int64(*n))
		if *memProfile != "" && len(rows) == 0 {
			writeAllocs(*memProfile + ".base")
		}
		// One trace and one CPU profile, of the first target's timed runs.
		defer record(traceFile, trace.Start, trace.Stop)()
		defer record(cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)()
		for _, mode := range []string{"plain", "reranked"} {
			r := run(t, tg, mode, *conns, *dur, 0, *writes, all, *dim, *n, &next, &deleted, fl.Seed)
			log.Printf("%+v", r)
			rows = append(rows, r)
			h := run(t, tg, mode+"-half", *conns, *dur, r.QPS/2, *writes, all, *dim, *n, &next, &deleted, fl.Seed)
			log.Printf("%+v", h)
			rows = append(rows, h)
		}
		stop()
	}
	if *memProfile != "" {
		writeAllocs(*memProfile)
	}
	out := struct {
		Env expenv.Env `json:"env"`
		N   int        `json:"n"`
		Dim int        `json:"dim"`
		// Writes is -writes, the percentage of requests that add or delete; Background the
		// training threads (-background).
		Writes     int               `json:"writes"`
		Coalesce   bool              `json:"coalesce"` // -coalesce: group commit of writes
		Background search.Background `json:"background"`
		Rows       []Row             `json:"rows"`
	}{env, *n, *dim, *writes, *coalesce, bg, rows}
	if err := expenv.WriteJSON(fl.Out, "results.json", out); err != nil {
		log.Fatal(err)
	}
}

// writeAllocs writes the allocation profile so far to path.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// record starts writing a trace or profile to *path with start, unless *path is "", clears
// *path, and returns what stops it.
func record(path *string, start func(io.Writer) error, stop func()) func() {
	if *path == "" {
		return func() {}
	}
	f, err := os.Create(*path)
	if err != nil {
		log.Fatal(err)
	}
	if err := start(f); err != nil {
		log.Fatal(err)
	}
	*path = ""
	return func() {
		stop()
		f.Close()
	}
}

// run drives t from conns connections (goroutines) for dur with a mix of requests: of every
// 100, 100-writes are searches in mode (of which the last 6 are followed by feedback on the
// results just shown) and writes/2 each adds and deletes.
//
// With rate 0 it runs closed loop: each connection sends its next request as soon as the last
// is answered, which measures the saturation throughput. With rate > 0 it runs open loop at
// rate requests per second: request i is due at start + i/rate whatever happened before, the
// next free connection sends the next due request (at once when it is already late), and a
// request's latency counts from when it was due, so time spent waiting for a free connection
// is counted instead of omitted (the coordinated omission of a closed-loop pacer). Latency
// percentiles are over searches.
func run(t target, tg, mode string, conns int, dur time.Duration, rate float64, writes int, all []float32, dim, n int, next, deleted *atomic.Int64, seed uint64) Row {
	searchMode := strings.TrimSuffix(mode, "-half")
	var mu sync.Mutex
	var lat, wlat []time.Duration // searches, writes
	var points [][2]time.Duration // -timeline: each search's due time and latency
	var reqs, errs, refused, due atomic.Int64
	before := readPauses()
	stepsBefore := modelVersion(t)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			var mine, mineW []time.Duration
			var mineAt []time.Duration // when each search was due, from the start, for -timeline
			for {
				at := time.Now()
				if rate > 0 {
					at = start.Add(time.Duration(float64(due.Add(1)-1) / rate * float64(time.Second)))
					time.Sleep(time.Until(at))
				}
				if at.After(deadline) {
					break
				}
				var err error
				p := rng.IntN(100)
				q := n + rng.IntN(10000)
				req := server.SearchRequest{Vector: all[q*dim : (q+1)*dim], K: 10, Mode: searchMode}
				switch {
				case p < 100-writes:
					var ids []string
					ids, err = t.search(req)
					mine = append(mine, time.Since(at))
					if timeline != "" {
						mineAt = append(mineAt, at.Sub(start))
					}
					if err == nil && p >= 100-writes-6 && len(ids) > 1 {
						rel := make([]bool, len(ids))
						for i := range rel {
							rel[i] = rng.IntN(2) == 0
						}
						req.Mode = ""
						err = t.feedback(server.FeedbackRequest{Query: req, Shown: ids, Relevant: rel})
					}
				case p < 100-writes/2:
					i := next.Add(1) - 1
					err = t.add([]server.Item{{ID: fmt.Sprintf("v%d", i), Vector: all[(int(i)%len(all)/dim)*dim : (int(i)%len(all)/dim+1)*dim]}})
				default: // every id deleted once: v0, v1, ...
					err = t.del(fmt.Sprintf("v%d", deleted.Add(1)-1))
				}
				if p >= 100-writes {
					mineW = append(mineW, time.Since(at))
				}
				reqs.Add(1)
				var sh *shard.Error
				switch {
				case errors.As(err, new(refusedError)) || errors.As(err, &sh) && sh.Code < 500:
					refused.Add(1)
				case err != nil:
					errs.Add(1)
				}
			}
			mu.Lock()
			lat, wlat = append(lat, mine...), append(wlat, mineW...)
			for i, a := range mineAt {
				points = append(points, [2]time.Duration{a, mine[i]})
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	slices.Sort(lat)
	slices.Sort(wlat)
	pctOf := func(lat []time.Duration, p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	if timeline != "" {
		writeTimeline(filepath.Join(timeline, tg+"-"+mode+".csv"), points)
	}
	r := Row{WriteP50ms: pctOf(wlat, 0.5), WriteP99ms: pctOf(wlat, 0.99), Target: tg, Mode: mode, Concurrency: conns, QPS: float64(reqs.Load()) / el, TargetQPS: rate, P50ms: pctOf(lat, 0.5), P99ms: pctOf(lat, 0.99),
		Errors: errs.Load(), Refused: refused.Load(), Requests: reqs.Load(), Searches: len(lat)}
	after := readPauses()
	r.GCStopMaxMs, r.GCPauseMaxMs, r.GCPauses = after.maxSince(before)
	allocated, gcs := after.allocsSince(before)
	r.GCs, r.AllocKBPerReq = gcs, float64(allocated)/1024/float64(max(1, r.Requests))
	r.SchedP99ms, r.SchedP999ms = after.schedSince(before)
	r.TrainSteps = modelVersion(t) - stepsBefore
	return r
}

// modelVersion returns the optimiser steps of the model served by a single target, 0 for others.
func modelVersion(t target) int64 {
	h, ok := t.(*httpTarget)
	if !ok {
		return 0
	}
	var st server.Stats
	if err := h.post("GET", "/v1/stats", nil, "", &st); err != nil {
		log.Printf("stats: %v", err)
		return 0
	}
	return st.ModelVersion
}

// timeline is -timeline: the directory for each timed run's searches, one CSV per run.
var timeline string

// writeTimeline writes due_ms,latency_ms per search, in order of due time.
func writeTimeline(path string, points [][2]time.Duration) {
	slices.SortFunc(points, func(a, b [2]time.Duration) int { return cmp.Compare(a[0], b[0]) })
	var b bytes.Buffer
	b.WriteString("due_ms,latency_ms\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%.3f,%.3f\n", float64(p[0].Microseconds())/1000, float64(p[1].Microseconds())/1000)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := atomicfile.WriteBytes(path, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// httpTarget drives a server over HTTP.
type httpTarget struct {
	url string
	c   *http.Client
}

func (h *httpTarget) post(method, path string, body []byte, ct string, out any) error {
	req, _ := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	resp, err := h.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		err := fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		if resp.StatusCode < 500 {
			return refusedError{err}
		}
		return err
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (h *httpTarget) add(items []server.Item) error {
	return h.post("POST", "/v1/vectors", server.EncodeBinary(nil, items), server.BinaryVectors, nil)
}
func (h *httpTarget) del(id string) error { return h.post("DELETE", "/v1/vectors/"+id, nil, "", nil) }
func (h *httpTarget) search(q server.SearchRequest) ([]string, error) {
	raw, _ := json.Marshal(q)
	var r server.SearchResponse
	err := h.post("POST", "/v1/search", raw, "application/json", &r)
	ids := make([]string, len(r.Results))
	for i, x := range r.Results {
		ids[i] = x.ID
	}
	return ids, err
}
func (h *httpTarget) feedback(f server.FeedbackRequest) error {
	raw, _ := json.Marshal(f)
	return h.post("POST", "/v1/feedback", raw, "application/json", nil)
}

// dialSingle drives the server at url, checking first that it answers.
func dialSingle(url string) target {
	h := &httpTarget{url: strings.TrimSuffix(url, "/"), c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 10 * time.Minute}}
	if err := h.post("GET", "/healthz", nil, "", nil); err != nil {
		log.Fatalf("-url %s: %v", url, err)
	}
	return h
}

func startSingle(cfg server.Config) (target, func()) {
	sv, err := server.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: sv.Handler()}
	go hs.Serve(ln)
	tr := &http.Transport{MaxIdleConnsPerHost: 1024}
	return &httpTarget{url: "http://" + ln.Addr().String(), c: &http.Client{Transport: tr, Timeout: 10 * time.Minute}}, func() { hs.Close(); sv.Close() }
}

// shardTarget drives the cluster through a router.
type shardTarget struct{ r *shard.Router }

func (s *shardTarget) add(items []server.Item) error {
	_, err := s.r.Add(items)
	return err
}
func (s *shardTarget) del(id string) error { return s.r.Delete(id) }
func (s *shardTarget) search(q server.SearchRequest) ([]string, error) {
	res, err := s.r.Search(q)
	ids := make([]string, len(res.Results))
	for i, x := range res.Results {
		ids[i] = x.ID
	}
	if err == nil && len(res.Missing) > 0 {
		err = fmt.Errorf("missing shards %v", res.Missing)
	}
	return ids, err
}
func (s *shardTarget) feedback(f server.FeedbackRequest) error {
	_, err := s.r.Feedback(f)
	return err
}

func startSharded(cfg server.Config, shards int) (*shardTarget, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("nats-server", "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	dieWithParent(cmd) // never outlive a failed run
	if err := cmd.Start(); err != nil {
		log.Fatalf("nats-server (Debian package nats-server): %v", err)
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var nc *nats.Conn
	for i := 0; i < 100 && nc == nil; i++ {
		nc, _ = nats.Connect(url)
		time.Sleep(50 * time.Millisecond)
	}
	if nc == nil {
		log.Fatal("nats-server did not start")
	}
	cfgNoTrain := cfg
	cfgNoTrain.TrainEvery = 0
	for i := 0; i < shards; i++ {
		sv, err := server.New(cfgNoTrain)
		if err != nil {
			log.Fatal(err)
		}
		c, _ := nats.Connect(url)
		if _, err := shard.ServeShard(c, "load", i, sv, nil); err != nil {
			log.Fatal(err)
		}
	}
	tsv, err := server.New(cfgNoTrain)
	if err != nil {
		log.Fatal(err)
	}
	tc, _ := nats.Connect(url)
	if _, err := shard.ServeTrainer(tc, "load", tsv, nil); err != nil {
		log.Fatal(err)
	}
	r, err := shard.NewRouter(nc, "load", shards, 2*time.Second, true)
	if err != nil {
		log.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		if cfg.TrainEvery <= 0 {
			return
		}
		t := time.NewTicker(cfg.TrainEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.Train()
			}
		}
	}()
	return &shardTarget{r: r}, func() {
		close(stop)
		cmd.Process.Kill()
		cmd.Wait()
		fmt.Fprintln(os.Stderr, "cluster stopped")
	}
}
