// Command depth trains GCN stacks of increasing depth on a Planetoid graph, with and without
// residual connections and LayerNorm, and shows what skip connections do to deep GCNs.
//
//	go run ./experiments/depth -dataset cora [-depths 2,4,8,16] [-seeds 3] [-data DIR] [-out DIR]
//
// Every stack has hidden width 64, dropout 0.5, Adam lr 0.01 with weight decay 5e-4 on every
// parameter, at most 400 epochs, and keeps the parameters of its best validation accuracy
// (patience 100; deep stacks reach their lowest validation loss well before their best
// accuracy). It writes <out>/results.json and <out>/depth.png.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/plots"
)

// Result is one row of results.json.
type Result struct {
	Dataset     string  `json:"dataset"`
	Depth       int     `json:"depth"`
	Residual    bool    `json:"residual_layernorm"`
	Seeds       int     `json:"seeds"`
	TestAccMean float64 `json:"test_acc_mean"`
	TestAccStd  float64 `json:"test_acc_std"`
	Epochs      float64 `json:"epochs"`
}

func main() {
	var (
		fl      expenv.Flags
		dataset = flag.String("dataset", "cora", "Planetoid data set")
		depths  = flag.String("depths", "2,4,8,16", "comma-separated stack depths")
		seeds   = flag.Int("seeds", 3, "runs per configuration")
		epochs  = flag.Int("epochs", 400, "maximum epochs")
	)
	fl.Register(flag.CommandLine, filepath.Join("results", "depth"))
	flag.Parse()
	if err := run(fl, *dataset, *depths, *seeds, *epochs); err != nil {
		fmt.Fprintln(os.Stderr, "depth:", err)
		os.Exit(1)
	}
}

func parseDepths(s string) ([]int, error) {
	var ds []int
	for _, f := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 2 {
			return nil, fmt.Errorf("-depths %q: %q is not a depth of at least 2", s, f)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func run(fl expenv.Flags, dataset, depthList string, seeds, epochs int) error {
	depths, err := parseDepths(depthList)
	if err != nil {
		return err
	}
	if seeds < 1 || epochs < 1 {
		return errors.New("-seeds and -epochs must be at least 1")
	}
	env := expenv.Current(fl.Seed)
	ds, err := datasets.LoadPlanetoid(dataset, datasets.Dir(datasets.DataDir(fl.Data)))
	if err != nil {
		return err
	}
	feats := ds.Features.RowNormalized()
	fmt.Println("machine:", env)
	var results []Result
	bar := progress.New("depth: training runs", 2*len(depths)*seeds)
	defer bar.Done()
	for _, residual := range []bool{false, true} {
		for _, d := range depths {
			var acc, eps []float64
			for s := 0; s < seeds; s++ {
				h, err := trainOnce(ds, feats, d, residual, fl.Seed+uint64(s), epochs)
				if err != nil {
					return fmt.Errorf("depth %d residual %t seed %d: %w", d, residual, fl.Seed+uint64(s), err)
				}
				acc, eps = append(acc, h.TestAcc), append(eps, float64(h.Epochs))
				bar.Add(1)
			}
			m, sd := expenv.MeanStd(acc)
			e, _ := expenv.MeanStd(eps)
			results = append(results, Result{Dataset: dataset, Depth: d, Residual: residual, Seeds: seeds, TestAccMean: m, TestAccStd: sd, Epochs: e})
			fmt.Printf("  depth %2d residual+layernorm=%t: test %.4f ± %.4f\n", d, residual, m, sd)
		}
	}
	t := expenv.NewTable(os.Stdout)
	header := []any{"stack"}
	for _, d := range depths {
		header = append(header, fmt.Sprintf("depth %d", d))
	}
	t.Header(header...)
	var series []plots.Series
	for _, residual := range []bool{false, true} {
		name := "plain GCN"
		if residual {
			name = "GCN + residual + LayerNorm"
		}
		row := []any{name}
		s := plots.Series{Name: name}
		for _, r := range results {
			if r.Residual == residual {
				row = append(row, fmt.Sprintf("%.1f ± %.1f", 100*r.TestAccMean, 100*r.TestAccStd))
				s.X, s.Y = append(s.X, float64(r.Depth)), append(s.Y, r.TestAccMean)
			}
		}
		t.Append(row...)
		series = append(series, s)
	}
	t.Render()
	fmt.Printf("%s test accuracy (%%), mean ± sample std over %d seeds from %d\n", dataset, seeds, fl.Seed)
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{"results": results, "env": env}); err != nil {
		return err
	}
	png := filepath.Join(fl.Out, "depth.png")
	err = plots.Save(png, 5*vg.Inch, 3.5*vg.Inch, plots.Panel{
		Title: fmt.Sprintf("GCN depth on %s", dataset), XLabel: "layers", YLabel: "test accuracy (fraction)",
		LogX: true, XTicks: series[0].X, LegendBottom: true, LegendLeft: true, Series: series})
	if err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "results.json"), "and", png)
	return nil
}

func trainOnce(ds *datasets.Planetoid, feats *datasets.SparseMatrix, depth int, residual bool, seed uint64, epochs int) (*models.History, error) {
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return nil, err
	}
	x, err := nn.NewSparseFeatures(c, feats.Rows, feats.Cols, feats.RowPtr, feats.ColIdx, feats.Values)
	if err != nil {
		return nil, err
	}
	m, err := models.NewDeepGCN(c, feats.Cols, 64, ds.NumClasses, depth, residual, 0.5)
	if err != nil {
		return nil, err
	}
	logits, err := m.Forward(c, ds.Graph, x)
	if err != nil {
		return nil, err
	}
	params := c.Params()
	return models.Train(c, models.Task{
		Logits: logits, Params: params, Decayed: params,
		Labels: ds.Labels, Train: ds.Train, Val: ds.Val, Test: ds.Test,
	}, models.TrainConfig{Epochs: epochs, LearningRate: 0.01, WeightDecay: 5e-4, Patience: 100, ByAccuracy: true})
}
