// Command citation trains node classifiers on the Planetoid citation graphs (Cora, CiteSeer,
// PubMed) with the published hyper-parameters, once per seed, and prints test accuracy against
// the papers' values.
//
//	go run ./experiments/citation -model gcn -dataset cora -seeds 10 [-parallel P] [-data DIR] [-epochs N] [-out DIR] [-save FILE]
//	go run ./experiments/citation -load FILE -dataset cora [-data DIR]
//
// It writes <out>/results.json and <out>/<dataset>-<model>.png (training loss and validation
// accuracy per epoch of the first seed). With -save it also writes the first seed's trained
// model (gcn or gat) to FILE in fp32 (package modelfile); -load rebuilds a saved model from the
// file's architecture, restores its weights and prints its test accuracy, without training.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot/vg"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/plots"
)

// Result is one row of results.json.
type Result struct {
	Dataset     string  `json:"dataset"`
	Model       string  `json:"model"`
	Seeds       int     `json:"seeds"`
	TestAccMean float64 `json:"test_acc_mean"`
	TestAccStd  float64 `json:"test_acc_std"`
	ValAccMean  float64 `json:"val_acc_mean"`
	MsPerEpoch  float64 `json:"ms_per_epoch"`
	Epochs      float64 `json:"epochs"`
	Paper       float64 `json:"paper_test_acc"`
	Parallel    int     `json:"parallel,omitempty"` // seeds trained at once: MsPerEpoch shares the cores
}

// paper holds published test accuracies on the public split: GCN from Kipf & Welling 2017,
// Table 2; GAT from Velickovic et al. 2018, Table 2.
var paper = map[string]map[string]float64{
	"gcn": {"cora": 0.815, "citeseer": 0.703, "pubmed": 0.790},
	"gat": {"cora": 0.830, "citeseer": 0.725, "pubmed": 0.790},
	// Wu et al., ICML 2019, Table 2.
	"sgc": {"cora": 0.810, "citeseer": 0.719, "pubmed": 0.789},
	// APPNP on the public split as Chen et al., ICML 2020, Table 2 report it; GCNII at 64 layers
	// (32 on CiteSeer, 16 on PubMed) from the same table.
	"appnp": {"cora": 0.833, "citeseer": 0.718, "pubmed": 0.801},
	"gcnii": {"cora": 0.855, "citeseer": 0.734, "pubmed": 0.803},
	// GraphSAGE was not evaluated on Planetoid in its paper, nor GATv2 on the public split:
	// these are the floors.
	"gatv2":     {"cora": 0.820},
	"gin":       {}, // no paper figure and no floor: reported
	"sage":      {"cora": 0.790},
	"sage-lstm": {"cora": 0.770},
}

// setup is the training setting of the GraphSAGE models.
type setup struct {
	epochs    int
	lr, decay float64
	patience  int
}

var setups = map[string]setup{
	// GCN and GAT train with models.Published. GraphSAGE: sampled mini-batches of 32 seeds with
	// fan-outs 25 and 10, hidden 64, dropout 0.5. The mean aggregator is evaluated with full
	// neighbourhoods and stops on the validation loss; the LSTM aggregator is evaluated on
	// neighbourhoods sampled with the training fan-outs and stops on the validation accuracy
	// (models.SampledConfig.EvalSamples, models.TrainConfig.ByAccuracy say why).
	"sage":      {epochs: 200, lr: 0.01, decay: 5e-4, patience: 50},
	"sage-lstm": {epochs: 400, lr: 0.01, decay: 5e-4, patience: 100},
}

func main() {
	var (
		fl       expenv.Flags
		model    = flag.String("model", "gcn", "model: gcn, gat, gatv2, gin, sgc, appnp, gcnii, sage (mean aggregator) or sage-lstm (sampled mini-batches), or all")
		dataset  = flag.String("dataset", "cora", "data set: cora, citeseer or pubmed, or topics (a generated graph, see topicGraph)")
		seeds    = flag.Int("seeds", 10, "runs, with seeds seed, seed+1, ...")
		parallel = flag.Int("parallel", 1, "seeds trained at once (ms/epoch then counts the sharing of the cores)")
		budget   = flag.Duration("budget", 0, "start no seed after this much time (0: no limit); results.json records the seeds run")
		epochs   = flag.Int("epochs", 0, "maximum training epochs (default: the paper's, 200 for gcn, 1000 with patience 100 for gat)")
		save     = flag.String("save", "", "write the first seed's trained model (gcn or gat) to this file, fp32")
		load     = flag.String("load", "", "evaluate the model saved in this file on -dataset instead of training")
	)
	export := flag.Bool("export", false, "write -dataset to <out>/<dataset>.json (raw features, edges, labels, split) for gcnii_reference.py, and exit")
	flag.IntVar(&traceEvery, "trace", 0, "print every N epochs of each seed: training loss, training accuracy (evaluation mode), validation loss and accuracy (0: off)")
	fl.Register(flag.CommandLine, filepath.Join("results", "citation"))
	flag.Parse()
	var err error
	switch {
	case *export:
		var ds *datasets.Planetoid
		if ds, err = loadDataset(fl, *dataset); err == nil {
			var path string
			if path, err = exportDataset(fl.Out, ds); err == nil {
				fmt.Println("wrote", path)
			}
		}
	case *load != "":
		err = runLoad(fl, *load, *dataset)
	default:
		err = run(fl, *model, *dataset, *seeds, *epochs, *save, *parallel, *budget)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "citation:", err)
		os.Exit(1)
	}
}

// traceEvery is -trace: print the curves every traceEvery epochs (0: off).
var traceEvery int

// modelNames is the order of -model all.
var modelNames = []string{"gcn", "gat", "gatv2", "gin", "sgc", "appnp", "gcnii", "sage", "sage-lstm"}

func run(fl expenv.Flags, model, dataset string, seeds, epochs int, save string, parallel int, budget time.Duration) error {
	var deadline time.Time
	if budget > 0 {
		deadline = time.Now().Add(budget)
	}
	if seeds < 1 || epochs < 0 || parallel < 1 {
		return errors.New("-seeds and -parallel must be at least 1 and -epochs not negative")
	}
	if save != "" && model != "gcn" && model != "gat" {
		return fmt.Errorf("-save works with -model gcn or gat, not %q", model)
	}
	names := []string{model}
	if model == "all" {
		names = modelNames
	} else if _, ok := paper[model]; !ok {
		return fmt.Errorf("unknown -model %q (have: %s, all)", model, strings.Join(modelNames, ", "))
	}
	env := expenv.Current(fl.Seed)
	ds, err := loadDataset(fl, dataset)
	if err != nil {
		return err
	}
	feats := ds.Features.RowNormalized()
	fmt.Printf("%s: %d nodes, %d edges, %d features, %d classes; train/val/test %d/%d/%d\n",
		ds.Name, feats.Rows, ds.Graph.NumEdges(), feats.Cols, ds.NumClasses, len(ds.Train), len(ds.Val), len(ds.Test))
	fmt.Println("machine:", env)

	var results []Result
	for _, name := range names {
		r, first, err := runModel(fl, name, ds, feats, seeds, epochs, save, parallel, deadline)
		if err != nil {
			return err
		}
		results = append(results, r)
		if err := plotHistory(fl, name, dataset, first); err != nil {
			return err
		}
	}
	t := expenv.NewTable(os.Stdout)
	t.Header("dataset", "model", "seeds", "test accuracy", "paper", "val accuracy", "epochs", "ms/epoch")
	for _, r := range results {
		t.Append(r.Dataset, r.Model, fmt.Sprint(r.Seeds), fmt.Sprintf("%.1f ± %.1f", 100*r.TestAccMean, 100*r.TestAccStd), fmt.Sprintf("%.1f", 100*r.Paper),
			fmt.Sprintf("%.1f", 100*r.ValAccMean), fmt.Sprintf("%.0f", r.Epochs), fmt.Sprintf("%.2f", r.MsPerEpoch))
	}
	t.Render()
	fmt.Printf("up to %d seeds from %d; mean ± sample std of test accuracy (%%); sage and gatv2 rows: the issue's floors, not a paper's\n", seeds, fl.Seed)
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": results, "env": env}); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return nil
}

func runModel(fl expenv.Flags, model string, ds *datasets.Planetoid, feats *datasets.SparseMatrix, seeds, epochs int, save string, parallel int, deadline time.Time) (Result, *models.History, error) {
	// Seeds train concurrently, parallel at a time, each in a context and model of its own;
	// the results are gathered in seed order, so they do not depend on parallel. No seed
	// starts after the deadline but the first: the row then holds the seeds that ran, in Seeds.
	hs := make([]*models.History, seeds)
	errs := make([]error, seeds)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	bar := progress.New("citation: "+model+" seeds", seeds)
	for s := 0; s < seeds; s++ {
		seed := fl.Seed + uint64(s)
		path := ""
		if s == 0 {
			path = save
		}
		sem <- struct{}{} // seeds start in order, so a cut-short run has its first seeds
		if s > 0 && !deadline.IsZero() && time.Now().After(deadline) {
			fmt.Printf("  %s: -budget spent, seeds from %d not run\n", model, seed)
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h, err := trainOnce(model, ds, feats, seed, epochs, path)
			hs[seed-fl.Seed], errs[seed-fl.Seed] = h, err
			bar.Add(1)
			if err == nil {
				mu.Lock()
				fmt.Printf("  %s seed %d: test %.4f  val %.4f  epochs %d  %.2f ms/epoch\n", model, seed, h.TestAcc, h.ValAccFinal, h.Epochs, h.MsPerEpoch)
				if path != "" {
					fmt.Printf("  %s seed %d: saved to %s\n", model, seed, path)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	bar.Done()
	var test, val, ms, eps []float64
	for s, h := range hs {
		if h == nil && errs[s] == nil {
			hs = hs[:s] // not started: the budget was spent
			break
		}
		if errs[s] != nil {
			return Result{}, nil, fmt.Errorf("%s seed %d: %w", model, fl.Seed+uint64(s), errs[s])
		}
		test, val = append(test, h.TestAcc), append(val, h.ValAccFinal)
		ms, eps = append(ms, h.MsPerEpoch), append(eps, float64(h.Epochs))
	}
	first := hs[0]
	mean, std := expenv.MeanStd(test)
	vmean, _ := expenv.MeanStd(val)
	msMean, _ := expenv.MeanStd(ms)
	epMean, _ := expenv.MeanStd(eps)
	return Result{Dataset: ds.Name, Model: model, Seeds: len(hs), TestAccMean: mean, TestAccStd: std, ValAccMean: vmean,
		MsPerEpoch: msMean, Epochs: epMean, Paper: paper[model][ds.Name], Parallel: parallel}, first, nil
}

// plotHistory writes the first seed's loss and validation accuracy curves.
func plotHistory(fl expenv.Flags, model, dataset string, h *models.History) error {
	png := filepath.Join(fl.Out, fmt.Sprintf("%s-%s.png", dataset, model))
	x := plots.Epochs(h.Epochs)
	return plots.Save(png, 4.5*vg.Inch, 3.2*vg.Inch,
		plots.Panel{Title: fmt.Sprintf("%s on %s: loss (seed %d)", strings.ToUpper(model), dataset, fl.Seed), XLabel: "epoch", YLabel: "cross-entropy (nats)",
			Series: []plots.Series{{Name: "train", X: x, Y: h.TrainLoss}, {Name: "validation", X: x, Y: h.ValLoss}}},
		plots.Panel{Title: "validation accuracy", XLabel: "epoch", YLabel: "accuracy (fraction)", LegendBottom: true,
			Series: []plots.Series{{Name: "validation", X: x, Y: h.ValAcc}}})
}

// trainOnce trains model with one seed and, when save is not empty, writes the trained model
// there (fp32).
func trainOnce(model string, ds *datasets.Planetoid, feats *datasets.SparseMatrix, seed uint64, epochs int, save string) (*models.History, error) {
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(model, "sage") {
		st := setups[model]
		if epochs == 0 {
			epochs = st.epochs
		}
		return trainSAGE(c, model, ds, feats, st, epochs)
	}
	set, err := models.PublishedSetting(model, feats.Cols, ds.NumClasses)
	if err != nil {
		return nil, err
	}
	arch, tc := set.Arch, set.Train
	if epochs > 0 {
		tc.Epochs = epochs
	}
	x, err := nn.NewSparseFeatures(c, feats.Rows, feats.Cols, feats.RowPtr, feats.ColIdx, feats.Values)
	if err != nil {
		return nil, err
	}
	m, err := models.BuildPublished(c, set)
	if err != nil {
		return nil, err
	}
	logits, err := m.Forward(c, ds.Graph, x)
	if err != nil {
		return nil, err
	}
	if traceEvery > 0 {
		e := models.NewEvaluator(c, logits)
		defer e.Close()
		tc.Progress = func(p models.Progress) {
			if p.Epoch%traceEvery != 0 {
				return
			}
			acc, err := e.Accuracy(ds.Labels, ds.Train)
			if err != nil {
				acc = math.NaN()
			}
			best := ""
			if p.Best {
				best = " best"
			}
			fmt.Printf("  %s seed %d epoch %d: train loss %.4f acc %.4f  val loss %.4f acc %.4f%s\n", model, seed, p.Epoch, p.TrainLoss, acc, p.ValLoss, p.ValScore, best)
		}
	}
	h, err := models.Train(c, models.Task{
		Logits: logits, Params: m.Learnables(), Decayed: m.Decayed(), Decays: models.PublishedDecays(m, set),
		Labels: ds.Labels, Train: ds.Train, Val: ds.Val, Test: ds.Test,
	}, tc)
	if err != nil || save == "" {
		return h, err
	}
	return h, models.Save(save, arch, m.Learnables(), modelfile.FP32)
}

// loadDataset returns a Planetoid graph from the data directory, or the generated "topics"
// graph.
func loadDataset(fl expenv.Flags, name string) (*datasets.Planetoid, error) {
	if name == "topics" {
		return topicGraph()
	}
	return datasets.LoadPlanetoid(name, datasets.Dir(datasets.DataDir(fl.Data)))
}

// runLoad rebuilds the model saved at path, restores its weights and prints its test accuracy
// on dataset, in evaluation mode, without training.
func runLoad(fl expenv.Flags, path, dataset string) error {
	arch, values, err := models.Load(path)
	if err != nil {
		return err
	}
	ds, err := datasets.LoadPlanetoid(dataset, datasets.Dir(datasets.DataDir(fl.Data)))
	if err != nil {
		return err
	}
	feats := ds.Features.RowNormalized()
	if arch.In != feats.Cols || arch.Classes != ds.NumClasses {
		return fmt.Errorf("%s holds a %s for %d features and %d classes; %s has %d and %d: pick its -dataset", path, arch.Model, arch.In, arch.Classes, ds.Name, feats.Cols, ds.NumClasses)
	}
	c, err := nn.NewContext(tensor.Float32, fl.Seed)
	if err != nil {
		return err
	}
	x, err := nn.NewSparseFeatures(c, feats.Rows, feats.Cols, feats.RowPtr, feats.ColIdx, feats.Values)
	if err != nil {
		return err
	}
	m, err := models.Build(c, arch)
	if err != nil {
		return err
	}
	logits, err := m.Forward(c, ds.Graph, x)
	if err != nil {
		return err
	}
	if err := models.Restore(m.Learnables(), values); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	e := models.NewEvaluator(c, logits)
	defer e.Close()
	acc, err := e.Accuracy(ds.Labels, ds.Test)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s %+v loaded, no training\n", path, arch.Model, arch)
	fmt.Printf("%s test accuracy: %.4f (%d test nodes)\n", ds.Name, acc, len(ds.Test))
	return nil
}

// evalSamples is models.SampledConfig.EvalSamples per model: the LSTM is evaluated on sampled
// neighbourhoods, the mean aggregator on full ones.
func evalSamples(model string) int {
	if model == "sage-lstm" {
		return 1
	}
	return 0
}

func trainSAGE(c *nn.Context, model string, ds *datasets.Planetoid, feats *datasets.SparseMatrix, st setup, epochs int) (*models.History, error) {
	aggr := nn.MeanAggr
	if model == "sage-lstm" {
		aggr = nn.LSTMAggr
	}
	table := &nn.SparseTable{Rows: feats.Rows, Cols: feats.Cols, RowPtr: feats.RowPtr, ColIdx: feats.ColIdx, Values: feats.Values}
	build := func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
		m, err := models.NewSAGE(c, feats.Cols, 64, ds.NumClasses, aggr, 0.5)
		if err != nil {
			return nil, err
		}
		if aggr == nn.LSTMAggr {
			// Mini-batches see each node's neighbours in a random order (GraphSAGE's LSTM).
			m.Conv1.Seq.Shuffle, m.Conv2.Seq.Shuffle = c.Training(), c.Training()
		}
		x, err := table.Gather(c, blocks[0].SrcIDs)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, x)
	}
	return models.TrainSampled(c, models.SampledTask{
		Graph: ds.Graph, Build: build, Labels: ds.Labels, Train: ds.Train, Val: ds.Val, Test: ds.Test,
	}, models.SampledConfig{
		TrainConfig: models.TrainConfig{Epochs: epochs, LearningRate: st.lr, WeightDecay: st.decay, Patience: st.patience, ByAccuracy: model == "sage-lstm"},
		Fanouts:     []int{25, 10}, BatchSize: 32, EvalSamples: evalSamples(model),
	})
}
