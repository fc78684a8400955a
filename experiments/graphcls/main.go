// Command graphcls runs graph classification on a TU data set with the protocol of Xu et al.
// ("How Powerful are Graph Neural Networks?", ICLR 2019): stratified 10-fold cross-validation;
// 5 layers (GIN-0 with 2-layer MLPs and batch norm, or GCN), hidden 64, a readout adding the
// scores of every layer's pooled representation (sum pooling; mean pooling for sets without
// node labels, as the paper's social sets), dropout 0.5 before the readout's linear maps, batches of
// 32 graphs, Adam lr 0.01 halved every 50 epochs, 350 epochs. Inputs are one-hot node labels,
// or one-hot degrees for sets without node labels (datasets.LoadTU).
//
//	go run ./experiments/graphcls -dataset MUTAG|PROTEINS|<TU name> -model gin|gcn [-select final|valloss|val [-patience N] [-grid]] [-folds 10] [-first-fold F] [-run-folds N] [-epochs 350] [-hidden 64] [-batch 32] [-dropout 0.5] [-data DIR] [-out DIR]
//	go run ./experiments/graphcls -merge DIR1,DIR2,... [-out DIR]
//
// Without -reshuffle each fold's training graphs are dealt into batches once and every epoch
// runs those batches in a new order (models.GraphTask.Reshuffle says why); -reshuffle deals
// new batches every epoch, as PyTorch's DataLoader, at about twice the CPU time.
//
// -select final (the default) reports the held-out fold's accuracy after the last epoch (a
// fixed epoch: no epoch is chosen on the held-out graphs; the paper's own figure takes the
// epoch with the best mean held-out accuracy, which this protocol does not allow). -select val
// holds out 10% of each fold's training graphs (stratified, drawn with the seed) as
// validation graphs, trains on the other 90% and reports the held-out fold's accuracy at the
// epoch of the best validation accuracy (ties to the lower validation loss), as Errica et al.
// ("A fair comparison of graph neural networks for graph classification", ICLR 2020) select
// inside each fold; -patience N stops a fold N epochs after its best validation accuracy.
// The same run also records the last epoch's accuracy (final_acc_*). -select valloss is
// PyTorch Geometric's kernel benchmark rule (benchmark/kernel/train_eval.py,
// cross_validation_with_val_set): fold f-1 (mod k) is fold f's validation set, the other k-2
// folds train, every epoch runs, and the fold's figure is the held-out accuracy at the epoch of
// the minimum validation loss (mean cross-entropy, evaluation mode; the earliest on ties).
//
// -grid (with -select val) searches Xu et al.'s grid for these sets inside each fold: every
// point (hidden 16|32, batch 32|128, dropout 0|0.5) trains on the fold's training graphs less
// the validation graphs, from the same seed, with its epoch chosen on the validation graphs;
// the point of the best validation accuracy at its chosen epoch (ties to the lower validation
// loss, then to the earlier point) gives the fold's accuracy (models.GridSearchGraphs). The
// test fold takes no part in either choice. results.json records each fold's chosen point
// (fold_chosen) and every point's validation accuracy (fold_grid_val_acc). Unlike Errica et
// al., the chosen point is not retrained on the whole fold: its model is the one scored.
//
// -first-fold and -run-folds run some of the folds (a shorter run, or folds in separate
// processes; results.json says which ran); -merge joins the results.json of such runs (same
// dataset, model and settings, disjoint folds) into one. It writes <out>/results.json rows
// {model, dataset, acc_mean, acc_std, folds, ...} and prints ms/epoch.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// Result is one row of results.json.
type Result struct {
	Model      string    `json:"model"`
	Dataset    string    `json:"dataset"`
	AccMean    float64   `json:"acc_mean"`
	AccStd     float64   `json:"acc_std"`
	Folds      int       `json:"folds"`
	FoldsTotal int       `json:"folds_total"`
	FirstFold  int       `json:"first_fold"`
	FoldAcc    []float64 `json:"fold_acc"`
	// FoldIndex are the folds run (their indices), FoldEpoch the epoch each one's accuracy is
	// that of; FinalAcc* the held-out accuracy after the last epoch (with -select val the
	// model trained on 90% of the fold's training graphs).
	FoldIndex    []int     `json:"fold_index"`
	FoldEpoch    []int     `json:"fold_epoch"`
	FoldFinalAcc []float64 `json:"fold_final_acc"`
	FinalAccMean float64   `json:"final_acc_mean"`
	FinalAccStd  float64   `json:"final_acc_std"`
	Epochs       int       `json:"epochs"`
	Hidden       int       `json:"hidden"`
	Layers       int       `json:"layers"`
	Batch        int       `json:"batch"`
	Dropout      float64   `json:"dropout"`
	MsPerEpoch   float64   `json:"ms_per_epoch"`
	FoldMs       []float64 `json:"fold_ms_per_epoch"`
	Selection    string    `json:"selection"`
	Patience     int       `json:"patience"`        // with -select val: epochs without a better validation accuracy before stopping (0: none)
	FoldRan      []int     `json:"fold_epochs_run"` // epochs each fold ran
	Reshuffle    bool      `json:"reshuffle"`
	// With -grid: the points searched (Hidden, Batch and Dropout above are then 0), the one
	// chosen in each fold, and each point's validation accuracy at its selected epoch per fold.
	Grid       []GridPoint `json:"grid,omitempty"`
	FoldChosen []GridPoint `json:"fold_chosen,omitempty"`
	FoldGridVA [][]float64 `json:"fold_grid_val_acc,omitempty"`
	Paper      float64     `json:"paper_acc,omitempty"`
}

// GridPoint is one setting of -grid.
type GridPoint struct {
	Hidden  int     `json:"hidden"`
	Batch   int     `json:"batch"`
	Dropout float64 `json:"dropout"`
}

// xuGrid is the grid Xu et al. 2019 searched for the bioinformatics sets (hidden units, batch
// size, dropout after the dense layer; the number of epochs is chosen on validation here).
func xuGrid() []GridPoint {
	var g []GridPoint
	for _, h := range []int{16, 32} {
		for _, b := range []int{32, 128} {
			for _, d := range []float64{0, 0.5} {
				g = append(g, GridPoint{Hidden: h, Batch: b, Dropout: d})
			}
		}
	}
	return g
}

// paper holds GIN-0 of Xu et al. 2019, Table 1 (best mean held-out epoch, not comparable with
// a fixed final epoch; see the shared data's tu/README.md).
var paper = map[string]float64{"MUTAG": 0.894, "PROTEINS": 0.762, "NCI1": 0.827, "IMDB-BINARY": 0.751}

func main() {
	var (
		fl       expenv.Flags
		model    = flag.String("model", "gin", "model: gin or gcn")
		dataset  = flag.String("dataset", "MUTAG", "TU data set: its directory under <data>/tu/")
		folds    = flag.Int("folds", 10, "cross-validation folds")
		runFolds = flag.Int("run-folds", 0, "run only N folds (0: all from -first-fold on)")
		first    = flag.Int("first-fold", 0, "first fold to run (folds can run in separate processes)")
		epochs   = flag.Int("epochs", 350, "training epochs")
		hidden   = flag.Int("hidden", 64, "hidden width")
		layers   = flag.Int("layers", 5, "message-passing layers")
		batch    = flag.Int("batch", 32, "graphs per mini-batch")
		prof     = flag.String("cpuprofile", "", "write a CPU profile to this file")
		reshuf   = flag.Bool("reshuffle", false, "deal new mini-batches every epoch (rebuilds every batch's model; see models.GraphTask.Reshuffle)")
		sel      = flag.String("select", "final", "final: the accuracy after the last epoch; val: at the epoch of the best accuracy on 10% of each fold's training graphs held out; valloss: at the epoch of the minimum loss on the previous fold, every epoch run")
		drop     = flag.Float64("dropout", 0.5, "dropout before the readout's linear maps")
		patFlag  = flag.Int("patience", 0, "with -select val: stop after this many epochs without a better validation accuracy (0: run every epoch)")
		gridFlag = flag.Bool("grid", false, "with -select val: per fold, train every point of Xu et al.'s grid (hidden 16|32, batch 32|128, dropout 0|0.5) and report the point best on the validation graphs")
		merge    = flag.String("merge", "", "comma-separated directories whose results.json (runs of disjoint folds) to join into <out>/results.json")
	)
	fl.Register(flag.CommandLine, filepath.Join("results", "graphcls"))
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "graphcls:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	reshuffle, firstFold, selection, dropout, patience, grid = *reshuf, *first, *sel, *drop, *patFlag, *gridFlag
	if *merge != "" {
		if err := mergeRuns(fl, strings.Split(*merge, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "graphcls:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(fl, *model, *dataset, *folds, *runFolds, *epochs, *hidden, *layers, *batch); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "graphcls:", err)
		os.Exit(1)
	}
}

var (
	reshuffle bool
	firstFold int
	selection string
	dropout   float64
	patience  int
	grid      bool
)

// selections names the protocols of -select, as results.json records them.
var selections = map[string]string{
	"final": "final epoch",
	"val":   "epoch of the best validation accuracy, 10% of each fold's training graphs held out (stratified)",
	"valloss": "epoch of the minimum validation loss, every epoch run, the previous fold as validation graphs " +
		"(PyTorch Geometric's kernel benchmark, cross_validation_with_val_set)",
}

// foldSets returns fold f's training and validation graphs under the selection: every other
// fold for training and no validation graphs (final); a stratified tenth of those held out
// (val), drawn from a source of the seed and the fold, so any process running fold f holds out
// the same graphs; or fold f-1 (mod k) as validation graphs and the other k-2 folds for
// training (valloss, as PyTorch Geometric's k_fold).
func foldSets(folds [][]int, f int, selection string, labels []int, seed uint64) (train, val []int, err error) {
	switch selection {
	case "val":
		return models.StratifiedHoldout(models.FoldTrain(folds, f), labels, 10, rand.New(rand.NewPCG(seed, 0x7a1+uint64(f))))
	case "valloss":
		return models.FoldTrainVal(folds, f)
	}
	return models.FoldTrain(folds, f), nil, nil
}

func run(fl expenv.Flags, model, dataset string, k, runFolds, epochs, hidden, layers, batch int) error {
	if model != "gin" && model != "gcn" {
		return fmt.Errorf("unknown -model %q (have: gin, gcn)", model)
	}
	if epochs < 1 || k < 2 {
		return errors.New("-epochs must be at least 1 and -folds at least 2")
	}
	if selections[selection] == "" {
		return fmt.Errorf("unknown -select %q (have: final, val, valloss)", selection)
	}
	if selection == "valloss" && k < 3 {
		return fmt.Errorf("-select valloss with %d folds: want at least 3 (one to test, one to validate, the rest to train)", k)
	}
	if patience < 0 || (patience > 0 && selection != "val") {
		return fmt.Errorf("-patience %d: want 0, or > 0 with -select val", patience)
	}
	if grid && selection != "val" {
		return errors.New("-grid chooses on validation graphs: add -select val")
	}
	if firstFold < 0 || firstFold >= k {
		return fmt.Errorf("-first-fold %d: want 0 <= fold < %d", firstFold, k)
	}
	if runFolds <= 0 || firstFold+runFolds > k {
		runFolds = k - firstFold
	}
	env := expenv.Current(fl.Seed)
	ds, err := datasets.LoadTU(dataset, datasets.TUOption{}, datasets.Dir(datasets.DataDir(fl.Data)))
	if err != nil {
		return err
	}
	graphs := make([]models.LabelledGraph, len(ds.Graphs))
	labels := make([]int, len(ds.Graphs))
	for i, g := range ds.Graphs {
		graphs[i] = models.LabelledGraph{Graph: g.Graph, X: g.X, Label: g.Label}
		labels[i] = g.Label
	}
	// The paper's readout: sum for sets with node labels, mean for the social sets, whose
	// inputs are one-hot degrees.
	readout := "sum"
	if ds.Features == "degree" {
		readout = "mean"
	}
	fmt.Printf("%s: %d graphs, %d classes, %d features (%s), %s readout\n", dataset, len(graphs), ds.NumClasses, ds.NumFeatures, ds.Features, readout)
	fmt.Println("machine:", env)
	folds, err := models.StratifiedFolds(labels, k, rand.New(rand.NewPCG(fl.Seed, 0xf01d)))
	if err != nil {
		return err
	}
	r := Result{Model: model, Dataset: dataset, FoldsTotal: k, Epochs: epochs, Hidden: hidden, Layers: layers, Batch: batch, Dropout: dropout,
		Paper: paper[dataset], Selection: selections[selection], Reshuffle: reshuffle, FirstFold: firstFold, Patience: patience}
	points := []GridPoint{{Hidden: hidden, Batch: batch, Dropout: dropout}}
	if grid {
		points = xuGrid()
		r.Grid, r.Hidden, r.Batch, r.Dropout = points, 0, 0, 0
		r.Selection += "; grid point of the best validation accuracy at its selected epoch (ties to the lower validation loss)"
	}
	for f := firstFold; f < firstFold+runFolds; f++ {
		train, val, err := foldSets(folds, f, selection, labels, fl.Seed)
		if err != nil {
			return err
		}
		gps := make([]models.GraphGridPoint, len(points))
		for i, pt := range points {
			gps[i] = models.GraphGridPoint{BatchSize: pt.Batch, Build: func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error) {
				m, err := models.NewGraphClassifier(c, model, ds.NumFeatures, pt.Hidden, ds.NumClasses, layers, pt.Dropout)
				if err != nil {
					return nil, err
				}
				m.Readout = readout
				return m.Forward(b, x, seg)
			}}
		}
		start := time.Now()
		point := 0
		cfg := models.TrainConfig{Epochs: epochs, LearningRate: 0.01, LRStep: 50, LRGamma: 0.5, Patience: patience,
			Progress: func(p models.Progress) {
				if p.Epoch == 1 || p.Epoch%50 == 0 {
					fmt.Printf("    fold %d%s epoch %d: loss %.4f, validation accuracy %.3f, %.0f ms/epoch so far\n", f, pointName(grid, points, point), p.Epoch, p.TrainLoss, p.ValScore, float64(p.Elapsed.Milliseconds())/float64(p.Epoch))
				}
			}}
		task := models.GraphTask{Graphs: graphs, Train: train, Val: val, Test: folds[f], Reshuffle: reshuffle, SelectByLoss: selection == "valloss"}
		// Every point of a fold starts from the same seed.
		newContext := func(i int) (*nn.Context, error) {
			point = i
			return nn.NewContext(tensor.Float32, fl.Seed+uint64(f))
		}
		var h *models.GraphHistory
		var chosen int
		var ms float64
		if grid {
			g, err := models.GridSearchGraphs(newContext, task, gps, cfg)
			if err != nil {
				return fmt.Errorf("fold %d: %w", f, err)
			}
			chosen, h = g.Chosen, g.Histories[g.Chosen]
			va := make([]float64, len(points))
			var run float64
			for i, gh := range g.Histories {
				va[i] = gh.ValAcc[gh.SelectedEpoch-1]
				ms += gh.MsPerEpoch * float64(gh.Epochs)
				run += float64(gh.Epochs)
				fmt.Printf("    fold %d%s: validation accuracy %.4f at epoch %d\n", f, pointName(grid, points, i), va[i], gh.SelectedEpoch)
			}
			ms /= run
			r.FoldChosen = append(r.FoldChosen, points[chosen])
			r.FoldGridVA = append(r.FoldGridVA, va)
		} else {
			c, err := newContext(0)
			if err != nil {
				return err
			}
			task.Build, task.BatchSize = gps[0].Build, gps[0].BatchSize
			if h, err = models.TrainGraphs(c, task, cfg); err != nil {
				return fmt.Errorf("fold %d: %w", f, err)
			}
			ms = h.MsPerEpoch
		}
		acc, epoch := h.TestAcc, h.Epochs
		if selection != "final" {
			acc, epoch = h.SelectedAcc, h.SelectedEpoch
		}
		r.FoldIndex = append(r.FoldIndex, f)
		r.FoldAcc = append(r.FoldAcc, acc)
		r.FoldEpoch = append(r.FoldEpoch, epoch)
		r.FoldFinalAcc = append(r.FoldFinalAcc, h.TestAcc)
		r.FoldMs = append(r.FoldMs, ms)
		r.FoldRan = append(r.FoldRan, h.Epochs)
		fmt.Printf("  fold %d%s: accuracy %.4f at epoch %d, %.4f after the last (%d of %d; %d held-out graphs, %d validation), %.1f ms/epoch, %s\n",
			f, pointName(grid, points, chosen), acc, epoch, h.TestAcc, h.Epochs, epochs, len(folds[f]), len(val), ms, time.Since(start).Round(time.Second))
		r.summarise()
		// Written after every fold, so a run cut short still leaves its folds.
		if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": []Result{r}, "env": env}); err != nil {
			return err
		}
	}
	r.print()
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return nil
}

// pointName names grid point i in the progress lines (nothing without -grid).
func pointName(grid bool, points []GridPoint, i int) string {
	if !grid {
		return ""
	}
	p := points[i]
	return fmt.Sprintf(" [hidden %d, batch %d, dropout %g]", p.Hidden, p.Batch, p.Dropout)
}

// summarise sets the means and standard deviations from the per-fold figures.
func (r *Result) summarise() {
	r.Folds = len(r.FoldAcc)
	r.AccMean, r.AccStd = expenv.MeanStd(r.FoldAcc)
	r.FinalAccMean, r.FinalAccStd = expenv.MeanStd(r.FoldFinalAcc)
	r.MsPerEpoch, _ = expenv.MeanStd(r.FoldMs)
}

func (r *Result) print() {
	t := expenv.NewTable(os.Stdout)
	t.Header("dataset", "model", "accuracy", "last epoch", "folds", "paper (best epoch)", "ms/epoch")
	t.Append(r.Dataset, r.Model, fmt.Sprintf("%.1f ± %.1f", 100*r.AccMean, 100*r.AccStd), fmt.Sprintf("%.1f ± %.1f", 100*r.FinalAccMean, 100*r.FinalAccStd),
		fmt.Sprintf("%d of %d", r.Folds, r.FoldsTotal), fmt.Sprintf("%.1f", 100*r.Paper), fmt.Sprintf("%.1f", r.MsPerEpoch))
	t.Render()
	fmt.Printf("mean ± sample std over folds of the held-out accuracy; selection: %s; patience %d\n", r.Selection, r.Patience)
}

// mergeRuns joins the results of runs over disjoint folds of one setting.
func mergeRuns(fl expenv.Flags, dirs []string) error {
	var all Result
	var envs []any
	seen := map[int]bool{}
	for n, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, "results.json"))
		if err != nil {
			return err
		}
		var doc struct {
			Results []Result `json:"results"`
			Env     any      `json:"env"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if len(doc.Results) != 1 {
			return fmt.Errorf("%s: %d result rows, want 1", dir, len(doc.Results))
		}
		r := doc.Results[0]
		envs = append(envs, doc.Env)
		if n == 0 {
			all = r
			all.FoldAcc, all.FoldIndex, all.FoldEpoch, all.FoldFinalAcc, all.FoldMs, all.FoldRan = nil, nil, nil, nil, nil, nil
			all.FoldChosen, all.FoldGridVA = nil, nil
		} else if r.Model != all.Model || r.Dataset != all.Dataset || r.FoldsTotal != all.FoldsTotal || r.Epochs != all.Epochs || r.Hidden != all.Hidden ||
			r.Layers != all.Layers || r.Batch != all.Batch || r.Dropout != all.Dropout || r.Selection != all.Selection || r.Reshuffle != all.Reshuffle || r.Patience != all.Patience ||
			!slices.Equal(r.Grid, all.Grid) {
			return fmt.Errorf("%s: another setting than %s's", dir, dirs[0])
		}
		if len(r.FoldIndex) != len(r.FoldAcc) || len(r.FoldMs) != len(r.FoldAcc) || (len(r.Grid) > 0 && (len(r.FoldChosen) != len(r.FoldAcc) || len(r.FoldGridVA) != len(r.FoldAcc))) {
			return fmt.Errorf("%s: per-fold lists of different lengths", dir)
		}
		for _, f := range r.FoldIndex {
			if seen[f] {
				return fmt.Errorf("%s: fold %d ran twice", dir, f)
			}
			seen[f] = true
		}
		all.FoldIndex = append(all.FoldIndex, r.FoldIndex...)
		all.FoldAcc = append(all.FoldAcc, r.FoldAcc...)
		all.FoldEpoch = append(all.FoldEpoch, r.FoldEpoch...)
		all.FoldFinalAcc = append(all.FoldFinalAcc, r.FoldFinalAcc...)
		all.FoldMs = append(all.FoldMs, r.FoldMs...)
		all.FoldRan = append(all.FoldRan, r.FoldRan...)
		all.FoldChosen = append(all.FoldChosen, r.FoldChosen...)
		all.FoldGridVA = append(all.FoldGridVA, r.FoldGridVA...)
	}
	all.FirstFold = -1
	all.summarise()
	all.print()
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": []Result{all}, "merged": dirs, "env": envs}); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return nil
}
