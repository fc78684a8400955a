// Command demo is the framework's main job, on generated data with nothing to download:
//
//  1. search that gets better with use: an HNSW index over a generated corpus of noisy topic
//     vectors, whose results a GraphSAGE encoder re-ranks after learning from simulated user
//     feedback; precision@10 of held-out queries before and after, as a table and a curve;
//
//  2. GCN, GAT and GraphSAGE trained on a generated graph of communities whose features alone
//     do not tell the communities apart;
//
//  3. where the Cora data set is found (-data or GNN_DATA, never downloaded here), the same
//     three models on Cora with the papers' settings.
//
//     go run ./experiments/demo [-n 20000] [-feedback 2000] [-seed 1] [-data DIR] [-out results/demo]
//
// It writes <out>/results.json (with the machine, Go version, commit and seed) and
// <out>/search.png.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/ops/asm"
)

// Results is results.json.
type Results struct {
	Search    SearchResult  `json:"search"`
	Synthetic []ModelResult `json:"synthetic_graph"`
	Cora      []ModelResult `json:"cora,omitempty"`
	Env       expenv.Env    `json:"env"`
}

func main() {
	var (
		fl       expenv.Flags
		n        = flag.Int("n", 20000, "vectors in the generated search corpus")
		feedback = flag.Int("feedback", 2000, "simulated feedback queries")
	)
	fl.Register(flag.CommandLine, "results/demo")
	flag.Parse()
	if err := run(fl, *n, *feedback); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, n, feedback int) error {
	begin := time.Now()
	env := expenv.Current(fl.Seed)
	fmt.Println("machine:", env)
	fmt.Println("kernels:", asm.Backend())
	var res Results
	res.Env = env

	fmt.Printf("\n== 1. Search that gets better with use\n\n")
	sr, err := searchDemo(fl, n, feedback)
	if err != nil {
		return err
	}
	res.Search = sr

	fmt.Printf("\n== 2. GCN, GAT and GraphSAGE on a generated graph of communities\n\n")
	if res.Synthetic, err = syntheticModels(fl.Seed); err != nil {
		return err
	}

	fmt.Printf("\n== 3. The same models on Cora\n\n")
	if res.Cora, err = coraModels(fl); err != nil {
		return err
	}

	if err := expenv.WriteJSON(fl.Out, "results.json", res); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s and %s in %.0f s\n", filepath.Join(fl.Out, "results.json"), filepath.Join(fl.Out, "search.png"), time.Since(begin).Seconds())
	return nil
}
