// Command ann measures this framework's HNSW index (package hnsw) on an approximate
// nearest-neighbour benchmark: build time, then recall@k and single-thread queries per second at
// each ef, side by side with hnswlib (through the npm package hnswlib-node) built with the same
// M, efConstruction and seed on the same vectors.
//
//	go run ./experiments/ann [-base B.fvecs -query Q.fvecs [-gt G.ivecs]] [-metric l2] [-M 16] [-efc 200]
//	    [-ef 10,20,40,80,160,320] [-k 10] [-n 100000 -dim 128 -nq 1000] [-peer=true] [-seed 1] [-out results/ann]
//
// Data. With -base and -query, the vectors are read from TEXMEX .fvecs files, and the ground
// truth from -gt (an .ivecs file of at least k ids per query, nearest first, for the same metric)
// or, without -gt, computed exactly by vecio.GroundTruth. Without files, -n base vectors and -nq
// queries of dimension -dim are drawn from one mixture of -clusters Gaussian blobs
// (vecio.Clustered, seeded with -seed): Clustered(n+nq) split in two, so the queries are fresh
// draws from the base set's distribution, not base points.
//
// Measurement. The index is built by one goroutine adding the vectors in order (build_s). For
// each ef, the queries run one after another on one goroutine (GOMAXPROCS as it is), three
// passes; qps is nq / wall time of the median pass and recall@k is counted against the ground
// truth. The peer, experiments/ann/peer/hnswlib_peer.js, runs after our side has finished, on
// .fvecs/.ivecs copies of the same data in a temporary directory, and does the same: build with
// one thread, searchKnn one query at a time, three passes per ef, recall against the same ground
// truth. Its qps includes the Node binding's per-call cost (the query is converted from a JS
// array, the results built as JS arrays), which it measures separately as call_overhead_us.
//
// The peer needs Node.js and `cd experiments/ann/peer && npm ci` (which compiles hnswlib with
// node-gyp: python3 and a C++ compiler); without them the experiment says so and runs our side
// alone. -peer=false skips it.
//
// Output: a table on stdout, <out>/results.json ({"build_s", "results": [{"ef",
// "recall_at_10", "qps"}], "peer": {...} or null, "env", ...}; the recall key is recall_at_<k>)
// and <out>/recall_qps.png (QPS on a log axis against recall). -data is not used.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/plots"
	"github.com/gnnlab/gognn/vecio"
)

// passes is the number of timed passes over the queries at each ef; qps is their median.
const passes = 3

// installHint is how to install the peer, from the repository root.
const installHint = "cd experiments/ann/peer && npm ci"

// options are the parsed command line.
type options struct {
	fl               expenv.Flags
	base, query, gt  string
	metric           hnsw.Metric
	m, efc, k        int
	efs              []int
	n, dim, nq       int
	clusters         int
	spread           float64
	peer             bool
	node             string
	generatedSetting []string // generator flags given on the command line
}

func main() {
	o, err := parseArgs(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ann:", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ann:", err)
		os.Exit(1)
	}
}

// parseArgs parses and checks the command line; flag errors and -h usage go to errOut.
func parseArgs(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ann", flag.ContinueOnError)
	fs.SetOutput(errOut)
	o.fl.Register(fs, filepath.Join("results", "ann"))
	fs.StringVar(&o.base, "base", "", "base vectors (.fvecs); default: generated clustered data")
	fs.StringVar(&o.query, "query", "", "query vectors (.fvecs), with -base")
	fs.StringVar(&o.gt, "gt", "", "ground truth (.ivecs, >= k ids per query), with -base; default: computed exactly")
	metric := fs.String("metric", "l2", "distance: l2, cosine or ip")
	fs.IntVar(&o.m, "M", hnsw.DefaultM, "HNSW M: links per node (2*M on layer 0)")
	fs.IntVar(&o.efc, "efc", hnsw.DefaultEfConstruction, "HNSW efConstruction")
	efList := fs.String("ef", "10,20,40,80,160,320", "comma-separated ef values to search with (each >= k)")
	fs.IntVar(&o.k, "k", 10, "neighbours per query; recall@k")
	fs.IntVar(&o.n, "n", 100000, "generated base vectors")
	fs.IntVar(&o.dim, "dim", 128, "generated dimension")
	fs.IntVar(&o.nq, "nq", 1000, "generated queries")
	fs.IntVar(&o.clusters, "clusters", 50, "generated data: Gaussian blobs")
	fs.Float64Var(&o.spread, "spread", 1.0, "generated data: standard deviation around a centre (centres ~ N(0, 1))")
	fs.BoolVar(&o.peer, "peer", true, "also run hnswlib through experiments/ann/peer (needs node and npm ci there)")
	fs.StringVar(&o.node, "node", "node", "Node.js binary for the peer")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: every setting is a flag (see -h)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "n", "dim", "nq", "clusters", "spread":
			o.generatedSetting = append(o.generatedSetting, "-"+f.Name)
		}
	})
	var err error
	if o.metric, err = parseMetric(*metric); err != nil {
		return o, err
	}
	if o.k < 1 {
		return o, fmt.Errorf("-k %d: want k >= 1", o.k)
	}
	if o.efs, err = parseEfs(*efList, o.k); err != nil {
		return o, err
	}
	switch {
	case (o.base == "") != (o.query == ""):
		return o, errors.New("-base and -query go together: give both files, or neither for generated data")
	case o.base == "" && o.gt != "":
		return o, errors.New("-gt needs -base and -query: generated data gets its ground truth computed")
	case o.base != "" && len(o.generatedSetting) > 0:
		return o, fmt.Errorf("%s set the generated data; with -base and -query the files decide the sizes", strings.Join(o.generatedSetting, ", "))
	case o.base == "" && (o.n < 1 || o.dim < 1 || o.nq < 1):
		return o, fmt.Errorf("-n %d -dim %d -nq %d: each must be >= 1", o.n, o.dim, o.nq)
	case o.base == "" && o.k > o.n:
		return o, fmt.Errorf("-k %d is more than the %d base vectors (-n)", o.k, o.n)
	case o.base == "" && (o.clusters < 1 || !(o.spread > 0) || math.IsInf(o.spread, 0)):
		return o, fmt.Errorf("-clusters %d -spread %g: want clusters >= 1 and a finite spread > 0", o.clusters, o.spread)
	}
	// Fail on M and efC before any data is generated or read.
	if _, err := hnsw.New(o.hnswConfig(1)); err != nil {
		return o, fmt.Errorf("-M %d -efc %d: %w", o.m, o.efc, err)
	}
	return o, nil
}

func (o options) hnswConfig(dim int) hnsw.Config {
	return hnsw.Config{Dim: dim, Metric: o.metric, M: o.m, EfConstruction: o.efc, Seed: o.fl.Seed}
}

func parseMetric(s string) (hnsw.Metric, error) {
	for _, m := range []hnsw.Metric{hnsw.L2, hnsw.Cosine, hnsw.InnerProduct} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("-metric %q: unknown metric, want l2, cosine or ip", s)
}

// parseEfs parses a comma-separated list of ef values, each in [k, hnsw.MaxEf], and returns them
// sorted.
func parseEfs(s string, k int) ([]int, error) {
	var efs []int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		ef, err := strconv.Atoi(f)
		if err != nil || ef < 1 || ef > hnsw.MaxEf {
			return nil, fmt.Errorf("bad -ef list %q: %q is not an integer in [1, %d]", s, f, hnsw.MaxEf)
		}
		if ef < k {
			return nil, fmt.Errorf("bad -ef list %q: ef %d is below k = %d, and both libraries search with max(ef, k); use ef >= k", s, ef, k)
		}
		if slices.Contains(efs, ef) {
			return nil, fmt.Errorf("bad -ef list %q: ef %d given twice", s, ef)
		}
		efs = append(efs, ef)
	}
	slices.Sort(efs)
	return efs, nil
}

// data is the benchmark: base and query vectors (row-major) and the ground truth, gtWidth ids
// per query, nearest first.
type data struct {
	base, queries []float32
	dim, nb, nq   int
	gt            []int32
	gtWidth       int
	info          map[string]any // provenance for results.json
}

func loadData(o options, logw io.Writer) (*data, error) {
	d := &data{}
	if o.base == "" {
		d.dim, d.nb, d.nq = o.dim, o.n, o.nq
		all := vecio.Clustered(o.n+o.nq, o.dim, o.clusters, float32(o.spread), o.fl.Seed)
		d.base, d.queries = all[:o.n*o.dim], all[o.n*o.dim:]
		d.info = map[string]any{"source": "generated: vecio.Clustered(n+nq) split into base and queries", "n": o.n, "dim": o.dim, "nq": o.nq,
			"clusters": o.clusters, "spread": o.spread, "seed": o.fl.Seed}
	} else {
		var qdim int
		var err error
		if d.base, d.nb, d.dim, err = vecio.ReadFvecs(o.base); err != nil {
			return nil, err
		}
		if d.queries, d.nq, qdim, err = vecio.ReadFvecs(o.query); err != nil {
			return nil, err
		}
		switch {
		case d.nb == 0:
			return nil, fmt.Errorf("-base %s holds no vectors", o.base)
		case d.nq == 0:
			return nil, fmt.Errorf("-query %s holds no vectors", o.query)
		case qdim != d.dim:
			return nil, fmt.Errorf("dimension mismatch: -base %s has dimension %d, -query %s has %d", o.base, d.dim, o.query, qdim)
		case o.k > d.nb:
			return nil, fmt.Errorf("-k %d is more than the %d vectors of -base %s", o.k, d.nb, o.base)
		}
		d.info = map[string]any{"source": "files", "base": o.base, "query": o.query, "n": d.nb, "dim": d.dim, "nq": d.nq}
	}
	if o.gt != "" {
		gt, rows, width, err := vecio.ReadIvecs(o.gt)
		if err != nil {
			return nil, err
		}
		if rows != d.nq || width < o.k {
			return nil, fmt.Errorf("-gt %s is %d rows x %d ids; want one row per query (%d) of at least k = %d ids", o.gt, rows, width, d.nq, o.k)
		}
		for i, id := range gt {
			if id < 0 || int(id) >= d.nb {
				return nil, fmt.Errorf("-gt %s: row %d holds id %d, outside the %d base vectors", o.gt, i/width, id, d.nb)
			}
		}
		d.gt, d.gtWidth = gt, width
		d.info["gt"] = o.gt
	} else {
		t0 := time.Now()
		gt, err := vecio.GroundTruth(d.base, d.queries, d.dim, o.k, o.metric)
		if err != nil {
			return nil, err
		}
		d.gt, d.gtWidth = gt, o.k
		d.info["gt"] = "computed (vecio.GroundTruth, exact)"
		fmt.Fprintf(logw, "ann: exact ground truth for %d queries in %.1f s\n", d.nq, time.Since(t0).Seconds())
	}
	return d, nil
}

// point is one ef's measurement. It marshals as {"ef", "recall_at_<k>", "qps"}.
type point struct {
	EF     int
	Recall float64
	QPS    float64
	k      int
}

func (p point) MarshalJSON() ([]byte, error) {
	r, err := json.Marshal(p.Recall)
	if err != nil {
		return nil, err
	}
	q, err := json.Marshal(p.QPS)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, `{"ef":%d,"recall_at_%d":%s,"qps":%s}`, p.EF, p.k, r, q), nil
}

// peerResult is what the peer reports, with its results in our form.
type peerResult struct {
	Library        string  `json:"library"`
	Version        string  `json:"version"`
	Node           string  `json:"node"`
	BuildS         float64 `json:"build_s"`
	Seed           uint64  `json:"seed"`
	CallOverheadUS float64 `json:"call_overhead_us"`
	Results        []point `json:"results"`
}

// report is results.json.
type report struct {
	BuildS   float64        `json:"build_s"`
	Results  []point        `json:"results"`
	Peer     *peerResult    `json:"peer"`
	PeerNote string         `json:"peer_note,omitempty"`
	Metric   string         `json:"metric"`
	M        int            `json:"M"`
	Efc      int            `json:"efc"`
	K        int            `json:"k"`
	Passes   int            `json:"passes"`
	Data     map[string]any `json:"data"`
	Env      expenv.Env     `json:"env"`
}

func run(o options, stdout, logw io.Writer) error {
	env := expenv.Current(o.fl.Seed)
	d, err := loadData(o, logw)
	if err != nil {
		return err
	}
	cfg := o.hnswConfig(d.dim)
	ix, err := hnsw.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "ann: building %d x %d (%v, M=%d, efC=%d, seed %d)\n", d.nb, d.dim, o.metric, o.m, o.efc, o.fl.Seed)
	t0 := time.Now()
	rows := make([][]float32, d.nb)
	for i := range rows {
		rows[i] = d.base[i*d.dim : (i+1)*d.dim]
	}
	bar := progress.New("ann: build", d.nb)
	_, err = ix.AddAll(rows, bar.Report)
	bar.Done()
	if err != nil {
		return err
	}
	rep := report{BuildS: time.Since(t0).Seconds(), Metric: o.metric.String(), M: o.m, Efc: o.efc, K: o.k,
		Passes: passes, Data: d.info, Env: env}
	fmt.Fprintf(logw, "ann: built in %.1f s\n", rep.BuildS)
	for _, ef := range o.efs {
		p, err := measure(ix, d, o.k, ef)
		if err != nil {
			return err
		}
		rep.Results = append(rep.Results, p)
	}

	if o.peer {
		if note := peerMissing(o.node); note != "" {
			rep.PeerNote = note
		} else {
			runtime.GC() // our index is garbage now: the peer runs alone
			if rep.Peer, err = runPeer(o, d, logw); err != nil {
				rep.PeerNote = "hnswlib peer failed: " + err.Error()
			}
		}
	}

	printReport(stdout, o, d, rep)
	if err := expenv.WriteJSON(o.fl.Out, "results.json", rep); err != nil {
		return err
	}
	return plot(filepath.Join(o.fl.Out, "recall_qps.png"), o, d, rep)
}

// measure runs all queries at ef, passes times, on this goroutine, and returns recall@k and the
// median pass's queries per second.
func measure(ix *hnsw.Index, d *data, k, ef int) (point, error) {
	res := make([][]hnsw.Result, d.nq)
	qps := make([]float64, passes)
	for p := range qps {
		t0 := time.Now()
		for q := range res {
			r, err := ix.Search(d.queries[q*d.dim:(q+1)*d.dim], k, ef)
			if err != nil {
				return point{}, fmt.Errorf("query %d, ef %d: %w", q, ef, err)
			}
			res[q] = r
		}
		qps[p] = float64(d.nq) / time.Since(t0).Seconds()
	}
	found := make([][]int, d.nq)
	for q, r := range res {
		for _, x := range r {
			found[q] = append(found[q], x.ID)
		}
	}
	recall, err := vecio.Recall(d.gt, d.gtWidth, found, k)
	if err != nil {
		return point{}, err
	}
	slices.Sort(qps)
	return point{EF: ef, Recall: recall, QPS: qps[len(qps)/2], k: k}, nil
}

// peerScript finds experiments/ann/peer/hnswlib_peer.js: from the working directory (the
// repository root, as with go run ./experiments/ann), else beside this source file.
func peerScript() (string, error) {
	cands := []string{filepath.Join("experiments", "ann", "peer", "hnswlib_peer.js")}
	if _, file, _, ok := runtime.Caller(0); ok {
		cands = append(cands, filepath.Join(filepath.Dir(file), "peer", "hnswlib_peer.js"))
	}
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", errors.New("experiments/ann/peer/hnswlib_peer.js not found: run from the repository root")
}

// peerMissing returns why the peer cannot run (with how to fix it), or "" when it can.
func peerMissing(node string) string {
	script, err := peerScript()
	if err != nil {
		return "hnswlib peer skipped: " + err.Error()
	}
	if _, err := exec.LookPath(node); err != nil {
		return fmt.Sprintf("hnswlib peer skipped: %s not found; install Node.js (>= 18), then: %s", node, installHint)
	}
	addon := filepath.Join(filepath.Dir(script), "node_modules", "hnswlib-node", "build", "Release", "addon.node")
	if _, err := os.Stat(addon); err != nil {
		return "hnswlib peer skipped: hnswlib-node is not installed (or its addon not compiled); install it with: " + installHint
	}
	return ""
}

// runPeer writes the data set to a temporary directory and runs the peer script on it.
func runPeer(o options, d *data, logw io.Writer) (*peerResult, error) {
	script, err := peerScript()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gognn-ann-peer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := vecio.WriteFvecs(filepath.Join(dir, "base.fvecs"), d.base, d.dim); err != nil {
		return nil, err
	}
	if err := vecio.WriteFvecs(filepath.Join(dir, "query.fvecs"), d.queries, d.dim); err != nil {
		return nil, err
	}
	if err := vecio.WriteIvecs(filepath.Join(dir, "gt.ivecs"), d.gt, d.gtWidth); err != nil {
		return nil, err
	}
	efs := make([]string, len(o.efs))
	for i, ef := range o.efs {
		efs[i] = strconv.Itoa(ef)
	}
	cmd := exec.Command(o.node, script, dir, o.metric.String(), strconv.Itoa(o.m), strconv.Itoa(o.efc),
		strings.Join(efs, ","), strconv.Itoa(o.k), strconv.FormatUint(o.fl.Seed, 10))
	cmd.Dir = filepath.Dir(script)
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(logw, &stderr)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", o.node, filepath.Base(script), err, lastLine(stderr.String()))
	}
	var raw struct {
		peerResult
		Results []struct {
			EF     int     `json:"ef"`
			Recall float64 `json:"recall"`
			QPS    float64 `json:"qps"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("peer output %q: %v", out, err)
	}
	if len(raw.Results) != len(o.efs) {
		return nil, fmt.Errorf("peer reported %d ef values, want %d", len(raw.Results), len(o.efs))
	}
	pr := raw.peerResult
	pr.Results = nil
	for i, r := range raw.Results {
		if r.EF != o.efs[i] {
			return nil, fmt.Errorf("peer reported ef %d where %d was asked", r.EF, o.efs[i])
		}
		pr.Results = append(pr.Results, point{EF: r.EF, Recall: r.Recall, QPS: r.QPS, k: o.k})
	}
	return &pr, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func printReport(w io.Writer, o options, d *data, rep report) {
	fmt.Fprintf(w, "ANN: %d base x %d queries, dim %d, %v, M=%d, efC=%d, recall@%d, single-thread qps (median of %d passes), seed %d\n",
		d.nb, d.nq, d.dim, o.metric, o.m, o.efc, o.k, passes, o.fl.Seed)
	fmt.Fprintln(w, "machine:", rep.Env)
	fmt.Fprintf(w, "build: gognn hnsw %.1f s", rep.BuildS)
	if rep.Peer != nil {
		fmt.Fprintf(w, ", %s %s %.1f s (node %s; its qps include %.1f us per call of binding overhead)",
			rep.Peer.Library, rep.Peer.Version, rep.Peer.BuildS, rep.Peer.Node, rep.Peer.CallOverheadUS)
	}
	fmt.Fprintln(w)
	rk := fmt.Sprintf("recall@%d", o.k)
	t := expenv.NewTable(w)
	if rep.Peer != nil {
		t.Header("ef", rk, "qps", "hnswlib "+rk, "hnswlib qps")
	} else {
		t.Header("ef", rk, "qps")
	}
	for i, p := range rep.Results {
		row := []any{p.EF, fmt.Sprintf("%.4f", p.Recall), fmt.Sprintf("%.0f", p.QPS)}
		if rep.Peer != nil {
			q := rep.Peer.Results[i]
			row = append(row, fmt.Sprintf("%.4f", q.Recall), fmt.Sprintf("%.0f", q.QPS))
		}
		t.Append(row...)
	}
	t.Render()
	if rep.PeerNote != "" {
		fmt.Fprintln(w, rep.PeerNote)
	}
}

func plot(path string, o options, d *data, rep report) error {
	series := func(name string, ps []point) plots.Series {
		s := plots.Series{Name: name}
		for _, p := range ps {
			s.X = append(s.X, p.Recall)
			s.Y = append(s.Y, p.QPS)
		}
		return s
	}
	panel := plots.Panel{
		Title:  fmt.Sprintf("%d x %d, %v, M=%d, efC=%d (ef %d..%d)", d.nb, d.dim, o.metric, o.m, o.efc, o.efs[0], o.efs[len(o.efs)-1]),
		XLabel: fmt.Sprintf("recall@%d", o.k),
		YLabel: "queries per second (1 thread)",
		LogY:   true,
		Series: []plots.Series{series("gognn hnsw", rep.Results)},
	}
	if rep.Peer != nil {
		panel.Series = append(panel.Series, series(rep.Peer.Library+" "+rep.Peer.Version, rep.Peer.Results))
	}
	return plots.Save(path, 5*vg.Inch, 3.6*vg.Inch, panel)
}
