//go:build linux

// Command mmapdemo aggregates node features stored on disk in place: it writes a float32
// feature matrix of -gib GiB row by row (never holding it in memory), maps it with
// modelfile.OpenMatrix, and sums the features of -deg random in-neighbours, drawn from all rows,
// for each of -dst random destination nodes with asm.GatherSumF32 reading the mapping directly.
//
//	go run ./experiments/mmapdemo [-gib 4] [-dir DIR] [-keep] [-budget 256] [-evict fadvise|drop_caches] [-seed 1] [-out results/mmapdemo]
//
// The aggregation runs five times: with the file in the page cache ("warm", as it is right after
// writing) and after evicting it from the cache ("cold"), each time once as is and once holding
// the process's file-backed resident set near -budget MiB by releasing the mapped pages
// (Matrix.Release) whenever a batch of destinations takes it over; and once more right after
// the first run, with its pages still mapped (the speed of the gather itself, no page faults). For each run it
// reports the wall time, the throughput in GB/s of gathered feature bytes, and the peak
// resident set of the process (VmHWM from /proc/self/status, reset before each run through
// /proc/self/clear_refs), with its file-backed and anonymous parts at the end.
//
// Mapped file pages count in the resident set although they belong to the page cache: they are
// clean, so under memory pressure the kernel drops them rather than failing. The anonymous part
// is what the process itself holds (graph, output, runtime). Eviction uses
// posix_fadvise(DONTNEED) on the file by default, which needs no privilege and touches no other
// file; -evict drop_caches writes 1 to /proc/sys/vm/drop_caches instead (root only, and it
// empties the page cache of every process on the machine). The matrix file is deleted at the
// end unless -keep is given.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/ops/asm"
)

// batch is the number of destinations between two looks at the resident set. A row read can map
// a whole page-cache folio into the process (1 MiB and more on Linux 6.18 with large folios), so
// one batch can add batch*deg MiB before the next look.
const batch = 4

type config struct {
	GiB       float64 `json:"gib"`
	Rows      int     `json:"rows"`
	Cols      int     `json:"cols"`
	Dst       int     `json:"dst"`
	Deg       int     `json:"deg"`
	Dir       string  `json:"dir"`
	Keep      bool    `json:"keep"`
	BudgetMiB int     `json:"budget_mib"`
	Evict     string  `json:"evict"`
	Queries   int     `json:"queries"`
}

type run struct {
	Name           string  `json:"name"`
	Cache          string  `json:"cache"`           // warm or cold
	Mapped         bool    `json:"mapped"`          // the previous run's pages still mapped
	Budget         bool    `json:"budget"`          // releasing pages over the budget
	ResidentBefore float64 `json:"resident_before"` // fraction of the file's pages in the page cache
	Seconds        float64 `json:"seconds"`
	GBps           float64 `json:"gbps"`
	Releases       int     `json:"releases"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	RssFileMiB     float64 `json:"rss_file_mib_at_end"`
	RssAnonMiB     float64 `json:"rss_anon_mib_at_end"`
}

func main() {
	var (
		fl  expenv.Flags
		cfg config
	)
	flag.Float64Var(&cfg.GiB, "gib", 4, "size of the feature matrix in GiB")
	flag.IntVar(&cfg.Cols, "cols", 128, "features per node")
	flag.IntVar(&cfg.Dst, "dst", 100000, "destination nodes")
	flag.IntVar(&cfg.Deg, "deg", 16, "in-neighbours per destination")
	flag.StringVar(&cfg.Dir, "dir", os.TempDir(), "directory for the matrix file")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the matrix file")
	flag.IntVar(&cfg.BudgetMiB, "budget", 256, "file-backed resident set (MiB) above which the budgeted runs release the mapping")
	flag.IntVar(&cfg.Queries, "queries", 8, "queries of the exact search over the whole mapped matrix")
	flag.StringVar(&cfg.Evict, "evict", "fadvise", "how to empty the page cache for the cold runs: fadvise or drop_caches")
	fl.Register(flag.CommandLine, "results/mmapdemo")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo(ctx, fl, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "mmapdemo:", err)
		os.Exit(1)
	}
}

func demo(ctx context.Context, fl expenv.Flags, cfg config) error {
	if cfg.GiB <= 0 || cfg.Cols <= 0 || cfg.Dst <= 0 || cfg.Deg <= 0 || cfg.BudgetMiB <= 0 || cfg.Queries <= 0 {
		return errors.New("-gib, -cols, -dst, -deg, -budget and -queries must be positive")
	}
	if cfg.Evict != "fadvise" && cfg.Evict != "drop_caches" {
		return fmt.Errorf("-evict %q: want fadvise or drop_caches", cfg.Evict)
	}
	cfg.Rows = int(math.Ceil(cfg.GiB * (1 << 30) / float64(4*cfg.Cols)))
	if cfg.Rows > math.MaxInt32 {
		return fmt.Errorf("%d rows exceed the int32 row indices of the gather kernels; use more -cols", cfg.Rows)
	}
	if cfg.Deg > cfg.Rows {
		return fmt.Errorf("-deg %d exceeds the %d rows", cfg.Deg, cfg.Rows)
	}
	env := expenv.Current(fl.Seed)
	size := 64 + int64(cfg.Rows)*int64(cfg.Cols)*4
	if err := checkFreeSpace(cfg.Dir, size); err != nil {
		return err
	}
	path := filepath.Join(cfg.Dir, fmt.Sprintf("gognn-mmapdemo-%dx%d-seed%d.mat", cfg.Rows, cfg.Cols, fl.Seed))
	if !cfg.Keep {
		defer os.Remove(path)
	}

	fmt.Printf("writing %d x %d float32 features (%.2f GB) to %s\n", cfg.Rows, cfg.Cols, float64(size)/1e9, path)
	t0 := time.Now()
	wbar := progress.New("mmapdemo: write rows", cfg.Rows)
	err := modelfile.WriteMatrix(path, cfg.Rows, cfg.Cols, func(i int, row []float32) error {
		if i%(1<<16) == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			wbar.Report(i, cfg.Rows)
		}
		fillRow(fl.Seed, i, row)
		return nil
	})
	wbar.Done()
	if err != nil {
		return err
	}
	writeS := time.Since(t0).Seconds()
	writeRSS := readStatus()

	g, err := randomBlock(cfg, fl.Seed)
	if err != nil {
		return err
	}
	gathered := float64(g.NumEdges()) * float64(cfg.Cols) * 4
	y := make([]float32, cfg.Dst*cfg.Cols)

	m, err := modelfile.OpenMatrix(path)
	if err != nil {
		return err
	}
	defer func() { m.Close() }()
	hwmReset := resetPeak() == nil
	var runs []run
	rbar := progress.New("mmapdemo: aggregation runs", 5)
	defer rbar.Done()
	for _, r := range []run{
		{Name: "warm", Cache: "warm"},
		{Name: "warm, already mapped", Cache: "warm", Mapped: true},
		{Name: "warm, budget", Cache: "warm", Budget: true},
		{Name: "cold", Cache: "cold"},
		{Name: "cold, budget", Cache: "cold", Budget: true},
	} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !r.Mapped {
			if err := m.Release(); err != nil { // start with nothing mapped
				return err
			}
		}
		if r.Cache == "cold" {
			// The kernel does not evict mapped pages: unmap, evict, map again.
			m.Close()
			if err := evict(path, cfg.Evict); err != nil {
				return err
			}
			if m, err = modelfile.OpenMatrix(path); err != nil {
				return err
			}
		}
		r.ResidentBefore = cached(m)
		runtime.GC()
		resetPeak()
		budget := -1
		if r.Budget {
			budget = cfg.BudgetMiB << 20
		}
		t := time.Now()
		if r.Releases, err = aggregate(m, g, y, budget); err != nil {
			return err
		}
		r.Seconds = time.Since(t).Seconds()
		st := readStatus()
		r.GBps = gathered / r.Seconds / 1e9
		r.PeakRSSMiB, r.RssFileMiB, r.RssAnonMiB = st["VmHWM"]/1024, st["RssFile"]/1024, st["RssAnon"]/1024
		runs = append(runs, r)
		if err := verify(g, y, cfg.Cols, fl.Seed); err != nil {
			return fmt.Errorf("run %q: %w", r.Name, err)
		}
		rbar.Add(1)
	}
	rbar.Done()

	fmt.Printf("sum aggregation over a memory-mapped feature matrix: %d destinations x %d random in-neighbours among %d rows, %d float32 features, %d threads\n",
		cfg.Dst, cfg.Deg, cfg.Rows, cfg.Cols, runtime.GOMAXPROCS(0))
	fmt.Println("machine:", env)
	fmt.Printf("file: %d bytes (%.2f GiB), written in %.1f s (%.2f GB/s, fsync included); peak RSS while writing %.0f MiB\n",
		size, float64(size)/(1<<30), writeS, float64(size)/writeS/1e9, writeRSS["VmHWM"]/1024)
	fmt.Printf("gathered per run: %.0f MB; cold runs evicted the file with %s; budget %d MiB of file-backed RSS, checked every %d destinations\n",
		gathered/1e6, cfg.Evict, cfg.BudgetMiB, batch)
	tab := expenv.NewTable(os.Stdout)
	tab.Header("run", "file cached before", "wall s", "GB/s gathered", "releases", "peak RSS MiB", "file-backed RSS at end MiB", "anon RSS MiB")
	for _, r := range runs {
		tab.Append(r.Name, fmt.Sprintf("%.0f%%", 100*r.ResidentBefore), fmt.Sprintf("%.2f", r.Seconds), fmt.Sprintf("%.2f", r.GBps),
			strconv.Itoa(r.Releases), fmt.Sprintf("%.0f", r.PeakRSSMiB), fmt.Sprintf("%.0f", r.RssFileMiB), fmt.Sprintf("%.0f", r.RssAnonMiB))
	}
	tab.Render()

	sr, m2, err := runSearch(m, path, cfg.Evict, cfg.Queries, 10, cfg.BudgetMiB<<20, fl.Seed)
	m = m2
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	fmt.Printf("exact top-10 inner-product search of %d queries over all %d mapped rows, cold file, budget %d MiB: %.2f s, %.2f GB/s scanned, %d releases, peak RSS %.0f MiB (file %.0f MiB)\n",
		sr.Queries, cfg.Rows, cfg.BudgetMiB, sr.Seconds, sr.GBps, sr.Releases, sr.PeakRSSMiB, float64(size)/(1<<20))
	if !hwmReset {
		fmt.Println("note: /proc/self/clear_refs refused a reset, so each peak RSS includes the runs before it")
	}
	if cfg.Keep {
		fmt.Println("kept", path)
	}
	return expenv.WriteJSON(fl.Out, "results.json", map[string]any{
		"config": cfg, "file": path, "file_bytes": size, "write_seconds": writeS, "write_gbps": float64(size) / writeS / 1e9,
		"write_peak_rss_mib": writeRSS["VmHWM"] / 1024, "gathered_bytes": gathered, "batch": batch,
		"peak_reset_per_run": hwmReset, "runs": runs, "search": sr, "env": env,
	})
}

// fillRow sets row i of the feature matrix: values in [-1, 1) from a generator seeded by the
// seed and the row, so any row can be recomputed on its own.
func fillRow(seed uint64, i int, row []float32) {
	s := seed*0x9e3779b97f4a7c15 ^ uint64(i)
	s ^= s >> 31
	s *= 0xbf58476d1ce4e5b9
	s ^= s >> 29
	for j := range row {
		s = s*6364136223846793005 + 1442695040888963407
		row[j] = float32(int32(s>>32)) * 0x1p-31
	}
}

// randomBlock returns the bipartite graph of the aggregation: cfg.Dst destinations, each with
// cfg.Deg distinct in-neighbours drawn uniformly from all rows. Output row i belongs to the i-th
// destination; which nodes the destinations are does not change the work.
func randomBlock(cfg config, seed uint64) (*graph.CSR, error) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6d6170))
	rowPtr := make([]int, cfg.Dst+1)
	col := make([]int32, 0, cfg.Dst*cfg.Deg)
	for i := range cfg.Dst {
		row := col[len(col):len(col):cap(col)]
		for len(row) < cfg.Deg {
			if j := int32(rng.IntN(cfg.Rows)); !slices.Contains(row, j) {
				row = append(row, j)
			}
		}
		slices.Sort(row)
		col = col[:len(col)+len(row)]
		rowPtr[i+1] = len(col)
	}
	g := &graph.CSR{NumSrc: cfg.Rows, NumDst: cfg.Dst, RowPtr: rowPtr, ColIdx: col}
	return g, g.Validate()
}

// aggregate sets y[i] to the sum of the features of i's in-neighbours, read from the mapping,
// in batches of destinations split over GOMAXPROCS goroutines. With budget >= 0 it releases the
// mapping whenever the file-backed resident set exceeds budget bytes after a batch, and returns
// how often it did.
func aggregate(m *modelfile.Matrix, g *graph.CSR, y []float32, budget int) (releases int, err error) {
	x, cols := m.Data(), m.Cols()
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for lo := 0; lo < g.NumDst; lo += batch {
		hi := min(lo+batch, g.NumDst)
		for w := range workers {
			a, b := lo+(hi-lo)*w/workers, lo+(hi-lo)*(w+1)/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := a; i < b; i++ {
					src, _ := g.Row(i)
					asm.GatherSumF32(y[i*cols:(i+1)*cols], x, cols, src, nil)
				}
			}()
		}
		wg.Wait()
		if budget >= 0 && fileResident() > budget {
			if err := m.Release(); err != nil {
				return releases, err
			}
			releases++
		}
	}
	return releases, nil
}

// verify recomputes a sample of the destinations from the generator.
func verify(g *graph.CSR, y []float32, cols int, seed uint64) error {
	row := make([]float32, cols)
	want := make([]float64, cols)
	for i := 0; i < g.NumDst; i += max(1, g.NumDst/97) {
		clear(want)
		src, _ := g.Row(i)
		for _, s := range src {
			fillRow(seed, int(s), row)
			for j, v := range row {
				want[j] += float64(v)
			}
		}
		for j, w := range want {
			if math.Abs(float64(y[i*cols+j])-w) > 1e-5*float64(len(src)) {
				return fmt.Errorf("destination %d, feature %d: %g from the mapping, %g recomputed", i, j, y[i*cols+j], w)
			}
		}
	}
	return nil
}

// checkFreeSpace fails unless dir's file system has room for a file of size bytes and a margin.
func checkFreeSpace(dir string, size int64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("checking free space in %s: %w (is -dir an existing directory?)", dir, err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	const margin = 1 << 30
	if free < size+margin {
		return fmt.Errorf("%s has %.2f GiB free; the matrix needs %.2f GiB plus a %.0f GiB margin: choose another -dir or a smaller -gib",
			dir, float64(free)/(1<<30), float64(size)/(1<<30), float64(margin)/(1<<30))
	}
	return nil
}

// evict drops the file's pages from the page cache.
func evict(path, how string) error {
	if how == "drop_caches" {
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0); err != nil {
			return fmt.Errorf("-evict drop_caches: %w (needs root; -evict fadvise needs no privilege)", err)
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("evicting %s from the page cache: %w", path, err)
	}
	return nil
}

// cached returns the fraction of the matrix file's pages that are in the page cache, from
// mincore(2) on the mapping.
func cached(m *modelfile.Matrix) float64 {
	d := m.Data()
	if len(d) == 0 {
		return 0
	}
	// The mapping starts 64 header bytes before the data, on a page boundary.
	start := unsafe.Add(unsafe.Pointer(&d[0]), -64)
	n := 64 + 4*len(d)
	page := os.Getpagesize()
	vec := make([]byte, (n+page-1)/page)
	// x/sys/unix has no wrapper for mincore.
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(start), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return math.NaN()
	}
	k := 0
	for _, v := range vec {
		k += int(v & 1)
	}
	return float64(k) / float64(len(vec))
}

// statm is /proc/self/statm, kept open: fileResident runs after every batch and should not
// allocate (garbage would grow the anonymous resident set being measured).
var (
	statm    *os.File
	statmBuf [256]byte
)

// fileResident returns the process's resident shared pages in bytes (the third field of
// /proc/self/statm: file-backed and shared memory), a cheaper read than /proc/self/status.
func fileResident() int {
	if statm == nil {
		var err error
		if statm, err = os.Open("/proc/self/statm"); err != nil {
			return 0
		}
	}
	n, err := statm.ReadAt(statmBuf[:], 0)
	if err != nil && n == 0 {
		return 0
	}
	// size resident shared text lib data dt, in pages
	b := statmBuf[:n]
	for range 2 {
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			return 0
		}
		b = b[i+1:]
	}
	pages := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		pages = pages*10 + int(c-'0')
	}
	return pages * os.Getpagesize()
}

// resetPeak resets VmHWM to the current resident set (Linux 4.0 and later).
func resetPeak() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readStatus returns the kB fields of /proc/self/status.
func readStatus() map[string]float64 {
	out := map[string]float64{}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return out
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		if n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 64); err == nil {
			out[k] = n
		}
	}
	return out
}
