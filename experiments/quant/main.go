// Command quant measures what storing a trained GNN in lower precision costs: it trains GCN and
// GAT on Cora with the citation experiment's settings, then for each precision of package
// modelfile (fp32, fp16, int8) saves the model, reloads it into a freshly built model
// (models.Build + models.Restore) and reports the file size, its ratio to fp32, the test
// accuracy and its change against fp32, and the inference time.
//
//	go run ./experiments/quant [-seeds 3] [-models gcn,gat] [-load FILE] [-epochs N] [-data DIR] [-out DIR]
//
// Accuracies are means over the seeds; the inference time is the median of 10 forward passes in
// evaluation mode over the whole graph, averaged over the seeds. Weights are dequantised to
// float32 when loaded, so int8 and fp16 shrink the file, not the arithmetic: the inference time
// should not depend on the precision. With -load FILE the model saved in FILE (for example by
// citation -save) is quantised instead of training one. It writes <out>/results.json.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// Result is one row of results.json.
type Result struct {
	Model     string  `json:"model"`
	Precision string  `json:"precision"`
	Bytes     int64   `json:"bytes"`
	SizeRatio float64 `json:"size_ratio"` // bytes / bytes of the fp32 file
	TestAcc   float64 `json:"test_acc"`   // mean over seeds
	AccDelta  float64 `json:"acc_delta"`  // TestAcc - TestAcc of fp32, mean over seeds
	InferMs   float64 `json:"infer_ms"`   // median of 10 forward passes, mean over seeds
}

// data is a node-classification task: Cora, or a generated graph in the test.
type data struct {
	name                     string
	graph                    *graph.CSR
	feats                    *datasets.SparseMatrix
	classes                  int
	labels, train, val, test []int
}

// config is what one run measures.
type config struct {
	models []string // "gcn", "gat"
	seeds  int
	seed   uint64 // first seed
	epochs int    // 0: the citation experiment's
	load   string // a saved model to quantise instead of training
}

var precisions = []modelfile.Precision{modelfile.FP32, modelfile.FP16, modelfile.INT8}

// inferRuns is how many timed forward passes give the median.
const inferRuns = 10

func main() {
	var (
		fl     expenv.Flags
		seeds  = flag.Int("seeds", 3, "trained models per architecture, with seeds seed, seed+1, ...")
		names  = flag.String("models", "gcn,gat", "comma-separated models: gcn, gat")
		load   = flag.String("load", "", "quantise the model saved in this file (e.g. by citation -save) instead of training")
		epochs = flag.Int("epochs", 0, "maximum training epochs (default: the citation experiment's, 200 for gcn, 1000 with patience 100 for gat)")
	)
	fl.Register(flag.CommandLine, filepath.Join("results", "quant"))
	flag.Parse()
	cfg := config{models: strings.Split(*names, ","), seeds: *seeds, seed: fl.Seed, epochs: *epochs, load: *load}
	if err := run(fl, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "quant:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, cfg config) error {
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir(fl.Data)))
	if err != nil {
		return err
	}
	feats := ds.Features.RowNormalized()
	d := data{name: ds.Name, graph: ds.Graph, feats: feats, classes: ds.NumClasses, labels: ds.Labels, train: ds.Train, val: ds.Val, test: ds.Test}
	env := expenv.Current(fl.Seed)
	fmt.Printf("%s: %d nodes, %d edges, %d features, %d classes\n", d.name, feats.Rows, d.graph.NumEdges(), feats.Cols, d.classes)
	fmt.Println("machine:", env)
	results, err := measure(d, cfg, os.Stdout)
	if err != nil {
		return err
	}
	printTable(results)
	src := fmt.Sprintf("%d seeds from %d", cfg.seeds, cfg.seed)
	if cfg.load != "" {
		src = "the model in " + cfg.load
	}
	fmt.Printf("%s; test accuracy (%%) mean over seeds, change vs fp32 in points; inference: median of %d eval forward passes (ms); weights are float32 after loading\n", src, inferRuns)
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": results, "env": env}); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return nil
}

func printTable(results []Result) {
	t := expenv.NewTable(os.Stdout)
	t.Header("model", "precision", "bytes", "size ratio", "test accuracy", "Δ vs fp32", "inference ms")
	for _, r := range results {
		t.Append(r.Model, r.Precision, fmt.Sprint(r.Bytes), fmt.Sprintf("%.3f", r.SizeRatio), fmt.Sprintf("%.2f", 100*r.TestAcc),
			fmt.Sprintf("%+.2f", 100*r.AccDelta), fmt.Sprintf("%.2f", r.InferMs))
	}
	t.Render()
}

// trained is one fp32 master model.
type trained struct {
	arch   models.Architecture
	params map[string][]float32
	acc    float64 // test accuracy of the model as trained, -1 when loaded from a file
}

// measure trains (or loads) the models of cfg and measures every precision; log gets progress.
func measure(d data, cfg config, log io.Writer) ([]Result, error) {
	if cfg.seeds < 1 || cfg.epochs < 0 {
		return nil, errors.New("-seeds must be at least 1 and -epochs not negative")
	}
	dir, err := os.MkdirTemp("", "gognn-quant-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	var masters [][]trained // per model, per seed
	if cfg.load != "" {
		arch, values, err := models.Load(cfg.load)
		if err != nil {
			return nil, err
		}
		if arch.In != d.feats.Cols || arch.Classes != d.classes {
			return nil, fmt.Errorf("%s holds a %s for %d features and %d classes; %s has %d and %d", cfg.load, arch.Model, arch.In, arch.Classes, d.name, d.feats.Cols, d.classes)
		}
		masters = [][]trained{{{arch: arch, params: values, acc: -1}}}
	} else {
		bar := progress.New("quant: training", len(cfg.models)*cfg.seeds)
		defer bar.Done()
		for _, name := range cfg.models {
			if _, _, err := models.Published(name, 1, 1); err != nil {
				return nil, fmt.Errorf("-models: %w", err)
			}
			var ms []trained
			for s := 0; s < cfg.seeds; s++ {
				seed := cfg.seed + uint64(s)
				start := time.Now()
				tr, err := train(d, name, seed, cfg.epochs)
				if err != nil {
					return nil, fmt.Errorf("%s seed %d: %w", name, seed, err)
				}
				fmt.Fprintf(log, "  %s seed %d: trained in %.1f s, test %.4f\n", name, seed, time.Since(start).Seconds(), tr.acc)
				ms = append(ms, tr)
				bar.Add(1)
			}
			masters = append(masters, ms)
		}
	}

	var results []Result
	nruns := 0
	for _, ms := range masters {
		nruns += len(ms)
	}
	ebar := progress.New("quant: round trips", nruns)
	defer ebar.Done()
	for _, ms := range masters {
		rows := make([]Result, len(precisions))
		for s, tr := range ms {
			seed := cfg.seed + uint64(s)
			evals := make([]*models.Evaluator, len(precisions))
			var fp32Acc float64
			for i, p := range precisions {
				path := filepath.Join(dir, fmt.Sprintf("%s-%d-%s.gnn", tr.arch.Model, s, p))
				size, e, err := roundTrip(d, tr, p, path)
				if err != nil {
					closeAll(evals)
					return nil, fmt.Errorf("%s seed %d %s: %w", tr.arch.Model, seed, p, err)
				}
				evals[i] = e
				acc, err := e.Accuracy(d.labels, d.test) // also the warm-up run
				if err != nil {
					closeAll(evals)
					return nil, err
				}
				if p == modelfile.FP32 {
					fp32Acc = acc
					if tr.acc >= 0 && acc != tr.acc {
						closeAll(evals)
						return nil, fmt.Errorf("%s seed %d: fp32 reload scores %.4f, the trained model %.4f: save and restore must be exact", tr.arch.Model, seed, acc, tr.acc)
					}
				}
				r := &rows[i]
				r.Model, r.Precision, r.Bytes = tr.arch.Model, string(p), size
				r.TestAcc += acc / float64(len(ms))
				r.AccDelta += (acc - fp32Acc) / float64(len(ms))
			}
			times, err := inferTimes(evals)
			closeAll(evals)
			if err != nil {
				return nil, err
			}
			for i, t := range times {
				rows[i].InferMs += t / float64(len(ms))
			}
			ebar.Add(1)
		}
		for i := range rows {
			rows[i].SizeRatio = float64(rows[i].Bytes) / float64(rows[0].Bytes)
		}
		results = append(results, rows...)
	}
	return results, nil
}

// features adds d's features to c's graph.
func features(c *nn.Context, d data) (*nn.SparseFeatures, error) {
	f := d.feats
	return nn.NewSparseFeatures(c, f.Rows, f.Cols, f.RowPtr, f.ColIdx, f.Values)
}

// train fits one model with the citation settings and returns a copy of its weights.
func train(d data, name string, seed uint64, epochs int) (trained, error) {
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return trained{}, err
	}
	arch, tc, err := models.Published(name, d.feats.Cols, d.classes)
	if err != nil {
		return trained{}, err
	}
	if epochs > 0 {
		tc.Epochs = epochs
	}
	x, err := features(c, d)
	if err != nil {
		return trained{}, err
	}
	m, err := models.Build(c, arch)
	if err != nil {
		return trained{}, err
	}
	logits, err := m.Forward(c, d.graph, x)
	if err != nil {
		return trained{}, err
	}
	h, err := models.Train(c, models.Task{
		Logits: logits, Params: m.Learnables(), Decayed: m.Decayed(),
		Labels: d.labels, Train: d.train, Val: d.val, Test: d.test,
	}, tc)
	if err != nil {
		return trained{}, err
	}
	params := map[string][]float32{}
	for _, n := range m.Learnables() {
		params[n.Name()] = slices.Clone(n.Value().(*tensor.Dense).Float32s())
	}
	return trained{arch: arch, params: params, acc: h.TestAcc}, nil
}

// roundTrip saves tr in precision p at path, rebuilds and restores it in a fresh context and
// returns the file size and an evaluator of the restored model, which the caller closes.
func roundTrip(d data, tr trained, p modelfile.Precision, path string) (int64, *models.Evaluator, error) {
	// Save needs parameter nodes: build the master model and restore its weights into it.
	c, err := nn.NewContext(tensor.Float32, 0)
	if err != nil {
		return 0, nil, err
	}
	master, err := models.Build(c, tr.arch)
	if err != nil {
		return 0, nil, err
	}
	if err := models.Restore(master.Learnables(), tr.params); err != nil {
		return 0, nil, err
	}
	if err := models.Save(path, tr.arch, master.Learnables(), p); err != nil {
		return 0, nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, nil, err
	}

	arch, values, err := models.Load(path)
	if err != nil {
		return 0, nil, err
	}
	c, err = nn.NewContext(tensor.Float32, 1)
	if err != nil {
		return 0, nil, err
	}
	x, err := features(c, d)
	if err != nil {
		return 0, nil, err
	}
	m, err := models.Build(c, arch)
	if err != nil {
		return 0, nil, err
	}
	logits, err := m.Forward(c, d.graph, x)
	if err != nil {
		return 0, nil, err
	}
	if err := models.Restore(m.Learnables(), values); err != nil {
		return 0, nil, err
	}
	return st.Size(), models.NewEvaluator(c, logits), nil
}

func closeAll(evals []*models.Evaluator) {
	for _, e := range evals {
		if e != nil {
			e.Close()
		}
	}
}

// inferTimes returns each evaluator's median time of inferRuns forward passes in ms. The passes
// take turns, so a change of the machine's load during the measurement hits every evaluator
// alike.
func inferTimes(evals []*models.Evaluator) ([]float64, error) {
	times := make([][]float64, len(evals))
	for range inferRuns {
		for i, e := range evals {
			start := time.Now()
			if _, err := e.Outputs(); err != nil {
				return nil, err
			}
			times[i] = append(times[i], float64(time.Since(start).Nanoseconds())/1e6)
		}
	}
	med := make([]float64, len(evals))
	for i, t := range times {
		slices.Sort(t)
		med[i] = (t[inferRuns/2-1] + t[inferRuns/2]) / 2
	}
	return med, nil
}
