// Command linkpred trains link predictors on a graph's random edge split (85/5/10, as PyTorch
// Geometric's RandomLinkSplit) once per seed and reports test ROC AUC and average precision
// against the papers' values.
//
//	go run ./experiments/linkpred -dataset cora -model gae|vgae|sage-mlp -seeds 10 [-epochs 200] [-normalize=false] [-negatives 1] [-patience 0] [-data DIR] [-out DIR]
//
// gae and vgae are the models of Kipf & Welling ("Variational Graph Auto-Encoders", 2016) in
// their setting: a two-layer GCN encoder (hidden 32, latent 16) over the raw features and the
// inner-product decoder, Adam lr 0.01, 200 epochs, no dropout; the loss is PyTorch Geometric's
// (the training edges against one new negative pair per edge every epoch, -negatives for more)
// instead of the paper's over every node pair. The score is taken at the final epoch (no
// model selection on the test pairs; -patience selects the epoch on the validation AUC). sage-mlp shows another encoder and
// decoder of the framework on the same split: two GraphSAGE (mean) layers and an MLP decoder.
// -dataset takes the Planetoid names (cora, citeseer, pubmed) and the npz names of package
// datasets (amazon-photo, npz:cora, ...).
//
// It writes <out>/results.json with rows {model, dataset, auc_mean, auc_std, ap_mean, ap_std,
// ...} and prints ms/epoch (one training step with its negative sampling plus one validation
// pass; the expression graph is built once per run).
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// Result is one row of results.json.
type Result struct {
	Model      string  `json:"model"`
	Dataset    string  `json:"dataset"`
	Seeds      int     `json:"seeds"`
	AUCMean    float64 `json:"auc_mean"`
	AUCStd     float64 `json:"auc_std"`
	APMean     float64 `json:"ap_mean"`
	APStd      float64 `json:"ap_std"`
	HitsMean   float64 `json:"hits50_mean"`
	MRRMean    float64 `json:"mrr_mean"`
	ValAUCMean float64 `json:"val_auc_mean"`
	MsPerEpoch float64 `json:"ms_per_epoch"`
	Epochs     int     `json:"epochs"`
	Patience   int     `json:"patience"`
	PaperAUC   float64 `json:"paper_auc,omitempty"`
	PaperAP    float64 `json:"paper_ap,omitempty"`
}

// paper holds Kipf & Welling 2016, Table 1 (Cora, CiteSeer, PubMed): AUC and AP.
var paper = map[string]map[string][2]float64{
	"gae":  {"cora": {0.910, 0.920}, "citeseer": {0.895, 0.899}, "pubmed": {0.964, 0.965}},
	"vgae": {"cora": {0.914, 0.926}, "citeseer": {0.908, 0.920}, "pubmed": {0.944, 0.947}},
}

var (
	normalize bool
	negRatio  int
	patience  int
)

var modelNames = []string{"gae", "vgae", "sage-mlp"}

func main() {
	var (
		fl      expenv.Flags
		model   = flag.String("model", "gae", "model: "+strings.Join(modelNames, ", ")+" or all")
		dataset = flag.String("dataset", "cora", "data set: cora, citeseer, pubmed, or an npz name (amazon-photo, npz:cora, ...)")
		seeds   = flag.Int("seeds", 10, "runs, with seeds seed, seed+1, ...")
		epochs  = flag.Int("epochs", 200, "training epochs (the paper's 200; PyTorch Geometric's example: 400)")
		norm    = flag.Bool("normalize", false, "divide each feature row by its sum (PyTorch Geometric's example; the paper uses the raw features)")
		negs    = flag.Int("negatives", 1, "negative pairs drawn per training edge every epoch")
		pat     = flag.Int("patience", 0, "when > 0, keep the epoch of the best validation AUC, stopping after this many epochs without a better one")
	)
	fl.Register(flag.CommandLine, filepath.Join("results", "linkpred"))
	flag.Parse()
	normalize, negRatio, patience = *norm, *negs, *pat
	if err := run(fl, *model, *dataset, *seeds, *epochs); err != nil {
		fmt.Fprintln(os.Stderr, "linkpred:", err)
		os.Exit(1)
	}
}

// data is a graph with node features.
type data struct {
	name  string
	graph *graph.CSR
	feats *datasets.SparseMatrix
}

func load(fl expenv.Flags, name string) (data, error) {
	dir := datasets.Dir(datasets.DataDir(fl.Data))
	switch strings.ToLower(name) {
	case "cora", "citeseer", "pubmed":
		p, err := datasets.LoadPlanetoid(name, dir)
		if err != nil {
			return data{}, err
		}
		return data{p.Name, p.Graph, p.Features}, nil
	}
	d, err := datasets.LoadNPZ(name, dir)
	if err != nil {
		return data{}, err
	}
	return data{name, d.Graph, d.Features}, nil
}

func run(fl expenv.Flags, model, dataset string, seeds, epochs int) error {
	if seeds < 1 || epochs < 1 {
		return errors.New("-seeds and -epochs must be at least 1")
	}
	names := []string{model}
	if model == "all" {
		names = modelNames
	} else if !contains(modelNames, model) {
		return fmt.Errorf("unknown -model %q (have: %s, all)", model, strings.Join(modelNames, ", "))
	}
	env := expenv.Current(fl.Seed)
	d, err := load(fl, dataset)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d nodes, %d edges, %d features\n", d.name, d.feats.Rows, d.graph.NumEdges(), d.feats.Cols)
	fmt.Println("machine:", env)
	var results []Result
	for _, name := range names {
		r, err := runModel(fl, name, d, seeds, epochs)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	t := expenv.NewTable(os.Stdout)
	t.Header("dataset", "model", "test AUC", "paper", "test AP", "paper", "Hits@50", "MRR", "ms/epoch")
	for _, r := range results {
		t.Append(r.Dataset, r.Model, fmt.Sprintf("%.1f ± %.1f", 100*r.AUCMean, 100*r.AUCStd), pct(r.PaperAUC),
			fmt.Sprintf("%.1f ± %.1f", 100*r.APMean, 100*r.APStd), pct(r.PaperAP),
			fmt.Sprintf("%.1f", 100*r.HitsMean), fmt.Sprintf("%.3f", r.MRRMean), fmt.Sprintf("%.2f", r.MsPerEpoch))
	}
	t.Render()
	at := "the final epoch"
	if patience > 0 {
		at = "the epoch of the best validation AUC"
	}
	fmt.Printf("%d seeds from %d (each seed draws its own edge split); mean ± sample std; score at %s\n", seeds, fl.Seed, at)
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": results, "env": env}); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"))
	return nil
}

func pct(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", 100*v)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func runModel(fl expenv.Flags, model string, d data, seeds, epochs int) (Result, error) {
	var auc, ap, hits, mrr, vauc, ms []float64
	for s := 0; s < seeds; s++ {
		seed := fl.Seed + uint64(s)
		h, err := trainOnce(model, d, seed, epochs)
		if err != nil {
			return Result{}, fmt.Errorf("%s seed %d: %w", model, seed, err)
		}
		auc, ap = append(auc, h.Test.AUC), append(ap, h.Test.AP)
		hits, mrr, vauc = append(hits, h.Test.Hits), append(mrr, h.Test.MRR), append(vauc, h.Val.AUC)
		ms = append(ms, h.MsPerEpoch)
		fmt.Printf("  %s seed %d: test AUC %.4f AP %.4f  val AUC %.4f  %.2f ms/epoch\n", model, seed, h.Test.AUC, h.Test.AP, h.Val.AUC, h.MsPerEpoch)
	}
	r := Result{Model: model, Dataset: d.name, Seeds: seeds, Epochs: epochs, Patience: patience}
	r.AUCMean, r.AUCStd = expenv.MeanStd(auc)
	r.APMean, r.APStd = expenv.MeanStd(ap)
	r.HitsMean, _ = expenv.MeanStd(hits)
	r.MRRMean, _ = expenv.MeanStd(mrr)
	r.ValAUCMean, _ = expenv.MeanStd(vauc)
	r.MsPerEpoch, _ = expenv.MeanStd(ms)
	if p, ok := paper[model][d.name]; ok {
		r.PaperAUC, r.PaperAP = p[0], p[1]
	}
	return r, nil
}

func trainOnce(model string, d data, seed uint64, epochs int) (*models.LinkHistory, error) {
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return nil, err
	}
	split, err := models.RandomLinkSplit(d.graph, 0.05, 0.1, rand.New(rand.NewPCG(seed, 0x11d)))
	if err != nil {
		return nil, err
	}
	f := d.feats
	if normalize {
		f = f.RowNormalized()
	}
	x, err := nn.NewSparseFeatures(c, f.Rows, f.Cols, f.RowPtr, f.ColIdx, f.Values)
	if err != nil {
		return nil, err
	}
	task := models.LinkTask{Split: split, NegativeRatio: negRatio}
	switch model {
	case "gae", "vgae":
		m, err := models.NewGAE(c, f.Cols, 32, 16, model == "vgae")
		if err != nil {
			return nil, err
		}
		task.Params = m.Learnables()
		task.Encode = func(c *nn.Context, a *graph.CSR) (models.Encoding, error) { return m.Encode(c, a, x) }
	case "sage-mlp":
		s1, err := nn.NewSAGEConv(c, "sage1", nn.SAGEConfig{In: f.Cols, Out: 64, Aggr: nn.MeanAggr})
		if err != nil {
			return nil, err
		}
		s2, err := nn.NewSAGEConv(c, "sage2", nn.SAGEConfig{In: 64, Out: 64, Aggr: nn.MeanAggr})
		if err != nil {
			return nil, err
		}
		dec, err := models.NewMLPDecoder(c, 64, 64)
		if err != nil {
			return nil, err
		}
		task.Decoder = dec
		task.Params = append(append(s1.Learnables(), s2.Learnables()...), dec.Learnables()...)
		task.Encode = func(c *nn.Context, a *graph.CSR) (models.Encoding, error) {
			h, err := s1.ForwardFeatures(a, x)
			if err != nil {
				return models.Encoding{}, err
			}
			if h, err = nn.ReLU(h); err != nil {
				return models.Encoding{}, err
			}
			z, err := s2.Forward(a, h)
			return models.Encoding{Z: z}, err
		}
	}
	return models.TrainLinks(c, task, models.TrainConfig{Epochs: epochs, LearningRate: 0.01, Patience: patience, ByAccuracy: true})
}
