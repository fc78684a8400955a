// Command gognn-serve serves one search index (HNSW candidates re-ranked by a GNN that learns
// from feedback) over HTTP with JSON; package server documents the routes.
//
//	go run ./cmd/gognn-serve -addr 127.0.0.1:8080 -dir /var/lib/gognn -dim 128 -token secret
//
// It starts from the last snapshot in -dir when there is one, trains on a schedule
// (-train-every) and writes a final snapshot on SIGTERM or SIGINT before exiting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/ops"
	"github.com/gnnlab/gognn/search"
	"github.com/gnnlab/gognn/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gognn-serve:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (port 0 picks a free one; the log names it)")
	dir := flag.String("dir", "", "data directory for snapshots (empty: nothing is kept)")
	dim := flag.Int("dim", 0, "vector dimension (needed unless -dir holds a snapshot)")
	token := flag.String("token", os.Getenv("GOGNN_TOKEN"), "bearer token required by every route but /healthz (default $GOGNN_TOKEN)")
	trainEvery := flag.Duration("train-every", time.Minute, "train on this schedule when feedback arrived (0: only POST /v1/train)")
	snapEvery := flag.Duration("snapshot-every", 0, "snapshot on this schedule (0: only POST /v1/snapshot and at shutdown)")
	maxBody := flag.Int64("max-body", 64<<20, "largest request body in bytes")
	maxBatch := flag.Int("max-batch", 100000, "most vectors in one add")
	maxInFlight := flag.Int("max-inflight", 1024, "requests served at once; more get 503")
	candidates := flag.Int("candidates", 0, "HNSW candidates re-ranked per query by default (0: 100)")
	efc := flag.Int("ef-construction", 0, "HNSW efConstruction of a new index (0: hnsw.DefaultEfConstruction)")
	seed := flag.Uint64("seed", 1, "seed of the index and the model")
	background := flag.Int("background", 1, "threads of lowest priority (SCHED_IDLE and nice 19, Linux; paused while requests want every CPU) that training uses, on top of GOMAXPROCS, so that it takes only the CPU requests leave idle (0: train at normal priority on all cores but one)")
	deferGC := flag.Bool("defer-gc", false, "with -background: no garbage collection while the low-priority training threads run (search.Background.DeferGC): no collection then waits for the kernel to give them a core, but the one after the round marks a heap up to 3 times its goal (off by default: it raised the re-ranked paced p99 in quiet runs)")
	yield := flag.Bool("yield", false, "train at normal priority on one goroutine that yields to the requests every ~0.1 ms (search.Background.Yield) instead of on -background's low-priority threads, which a garbage collection must wait for when the kernel leaves them waiting")
	gogc := flag.Int("gogc", 100, "garbage collector target percentage (debug.SetGCPercent): the heap grows to (1+gogc/100) times the live heap between collections")
	writeBatch := flag.Int("write-batch", 64, "most write requests applied together by group commit (1: each alone, as it arrives)")
	flag.Parse()
	if *writeBatch < 1 {
		return fmt.Errorf("-write-batch %d: want 1 or more", *writeBatch)
	}
	if *background < 0 || *background > search.MaxBackgroundWorkers {
		return fmt.Errorf("-background %d: want 0 to %d", *background, search.MaxBackgroundWorkers)
	}
	debug.SetGCPercent(*gogc)
	bg := search.Background{Workers: *background, LowPriority: *background > 0, DeferGC: *deferGC}
	if *yield {
		bg = search.Background{Workers: 1, Yield: true}
		ops.SetMaxWorkers(1) // as below: training's aggregations stay on its goroutine
	}
	if bg.LowPriority {
		// Each training thread holds a P while it runs, also while the kernel leaves it waiting
		// for an idle core: the requests keep GOMAXPROCS Ps of their own.
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + bg.Workers)
		// The training steps' sparse aggregations would start goroutines of normal priority
		// beside the low-priority thread: training is this program's only use of them.
		ops.SetMaxWorkers(1)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	sv, err := server.New(server.Config{Dim: *dim, Dir: *dir, Token: *token, TrainEvery: *trainEvery,
		MaxBody: *maxBody, MaxBatch: *maxBatch, MaxInFlight: *maxInFlight, WriteBatch: *writeBatch, Logger: log,
		Search: search.Config{Candidates: *candidates, Seed: *seed}, Background: bg,
		HNSW: hnsw.Config{EfConstruction: *efc}})
	if err != nil {
		return err
	}
	defer sv.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: sv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Info("listening", "addr", ln.Addr().String(), "dim", sv.Index().Dim(), "vectors", sv.Index().Live(), "dir", *dir)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *snapEvery > 0 && *dir != "" {
		go func() {
			t := time.NewTicker(*snapEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if _, err := sv.Snapshot(); err != nil {
						log.Error("scheduled snapshot", "err", err)
					}
				}
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown", "err", err)
	}
	if *dir != "" {
		if _, err := sv.Snapshot(); err != nil {
			return fmt.Errorf("final snapshot: %w", err)
		}
	}
	return nil
}
