// Command distributed trains GraphSAGE data-parallel over MPI (package dist), on Cora or on a
// generated graph, as one process or under mpirun, and reports accuracy, time per epoch, the
// bytes each rank hands the collectives per step, and the edge cut of METIS against the
// contiguous partitioner:
//
//	go run ./experiments/distributed -dataset cora -seeds 5
//	go build -tags mpi -o /tmp/distributed ./experiments/distributed
//	mpirun --allow-run-as-root -np 2 /tmp/distributed -dataset cora -seeds 5 -mode partitioned
//	mpirun --allow-run-as-root -np 2 /tmp/distributed -dataset synthetic -n 1000000 -epochs 2
//
// Two modes: replicated (every rank holds the whole graph and trains on its share of every
// mini-batch) and partitioned (every rank holds its partition and halo, fetching the features
// of the remote nodes it samples). Rank 0 prints the tables and writes results.json.
package main

import (
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
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/dist"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// Result is one row of results.json.
type Result struct {
	Ranks        int     `json:"ranks"`
	Dataset      string  `json:"dataset"`
	Model        string  `json:"model"`
	Mode         string  `json:"mode"`
	Partitioner  string  `json:"partitioner"`
	TestAccMean  float64 `json:"test_acc_mean"`
	TestAccStd   float64 `json:"test_acc_std"`
	Seeds        int     `json:"seeds"`
	EpochMs      float64 `json:"epoch_ms"`
	BytesPerStep float64 `json:"bytes_per_step"`
	// EdgeCut is the number of stored (directed) edges between partitions, and EdgeCutFrac its
	// share of all edges, for the partitioner of the row (0 for one rank).
	EdgeCut int `json:"edge_cut"`
	// Params is the model's parameter count: the all-reduce carries 4 bytes of each per step.
	Params      int     `json:"params"`
	EdgeCutFrac float64 `json:"edge_cut_fraction"`
	// MetisCut and ContiguousCut compare the two partitioners on the same graph and number of
	// parts.
	MetisCut      int      `json:"metis_edge_cut"`
	ContiguousCut int      `json:"contiguous_edge_cut"`
	Env           []string `json:"env"`
}

// problem is a node-classification graph with dense features.
type problem struct {
	name             string
	g                *graph.CSR
	feats            []float32
	dim, classes     int
	labels           []int
	train, val, test []int
}

func main() {
	var (
		fl          expenv.Flags
		dataset     = flag.String("dataset", "cora", "cora (Planetoid, from -data) or synthetic (generated)")
		n           = flag.Int("n", 1_000_000, "nodes of the synthetic graph")
		deg         = flag.Int("deg", 16, "average in-degree of the synthetic graph")
		mode        = flag.String("mode", "replicated", "replicated (every rank holds the graph) or partitioned (a partition and its halo)")
		partitioner = flag.String("partitioner", "metis", "partitioned mode's partitioner: metis (gpmetis) or contiguous")
		seeds       = flag.Int("seeds", 5, "runs, with seeds seed, seed+1, ...")
		epochs      = flag.Int("epochs", 0, "training epochs (default: 200 with patience 50 on cora, 2 on synthetic)")
		batch       = flag.Int("batch", 0, "global mini-batch size in seed nodes (default 32 on cora, 1024 on synthetic)")
		cpuprofile  = flag.String("cpuprofile", "", "write rank 0's CPU profile to this file")
		save        = flag.String("save", "", "rank 0 writes the first seed's trained model to this file (fp32; models.Load reads it)")
	)
	fl.Register(flag.CommandLine, filepath.Join("results", "distributed"))
	flag.Parse()
	comm, err := dist.Open(0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "distributed:", err)
		os.Exit(1)
	}
	// A rank ended by mpirun because another rank died says so before it goes.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintf(os.Stderr, "distributed: rank %d of %d terminated by the launcher (another rank has failed)\n", comm.Rank(), comm.Size())
		os.Exit(2)
	}()
	if *cpuprofile != "" && comm.Rank() == 0 {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if local, err := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE")); err == nil && local > 1 {
		// Ranks on one machine share its cores.
		runtime.GOMAXPROCS(max(1, runtime.NumCPU()/local))
	}
	if err := run(comm, fl, *dataset, *n, *deg, *mode, *partitioner, *seeds, *epochs, *batch, *save); err != nil {
		fmt.Fprintf(os.Stderr, "distributed: rank %d: %v\n", comm.Rank(), err)
		// The other ranks may be waiting in a collective this one will never join.
		comm.Abort(1)
		os.Exit(1)
	}
	if err := comm.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "distributed: rank %d: %v\n", comm.Rank(), err)
		os.Exit(1)
	}
}

func run(comm dist.Comm, fl expenv.Flags, dataset string, n, deg int, mode, partitioner string, seeds, epochs, batch int, save string) error {
	if seeds < 1 || epochs < 0 || batch < 0 {
		return errors.New("-seeds must be at least 1, -epochs and -batch not negative")
	}
	if mode != "replicated" && mode != "partitioned" {
		return fmt.Errorf("unknown -mode %q (replicated or partitioned)", mode)
	}
	if partitioner != "metis" && partitioner != "contiguous" {
		return fmt.Errorf("unknown -partitioner %q (metis or contiguous)", partitioner)
	}
	root := comm.Rank() == 0
	var p *problem
	var err error
	switch dataset {
	case "cora":
		p, err = loadCora(fl.Data)
		if epochs == 0 {
			epochs = 200
		}
		if batch == 0 {
			batch = 32
		}
	case "synthetic":
		p = synthetic(n, deg, fl.Seed)
		if epochs == 0 {
			epochs = 2
		}
		if batch == 0 {
			batch = 1024
		}
	default:
		err = fmt.Errorf("unknown -dataset %q (cora or synthetic)", dataset)
	}
	if err != nil {
		return err
	}
	env := expenv.Current(fl.Seed)
	if root {
		fmt.Printf("%s: %d nodes, %d edges, %d features, %d classes; train/val/test %d/%d/%d\n",
			p.name, p.g.NumDst, p.g.NumEdges(), p.dim, p.classes, len(p.train), len(p.val), len(p.test))
		fmt.Printf("machine: %s; %d rank(s), GOMAXPROCS %d each\n", env, comm.Size(), runtime.GOMAXPROCS(0))
	}

	// The partitioners' edge cuts, on every run, for the table.
	row := Result{Ranks: comm.Size(), Dataset: p.name, Model: "sage-mean", Mode: mode, Partitioner: "none", Seeds: seeds, Env: []string{env.String()}}
	parts := max(2, comm.Size())
	var books = map[string]*dist.Book{}
	if root {
		t0 := time.Now()
		cont, err := dist.Contiguous(p.g, parts)
		if err != nil {
			return err
		}
		books["contiguous"] = cont
		row.ContiguousCut, _, _ = cont.EdgeCut(p.g)
		m, err := dist.Metis(context.Background(), p.g, parts, int(fl.Seed))
		switch {
		case errors.Is(err, dist.ErrNoMetis):
			fmt.Println("METIS:", err)
			row.MetisCut = -1
		case err != nil:
			return err
		default:
			books["metis"] = m
			row.MetisCut, _, _ = m.EdgeCut(p.g)
		}
		fmt.Printf("edge cut into %d parts: METIS %d, contiguous %d of %d edges (%.1f s)\n", parts, row.MetisCut, row.ContiguousCut, p.g.NumEdges(), time.Since(t0).Seconds())
	}

	// Partitioned, the partitions are written and loaded once; every seed trains on them.
	var pt *dist.Part
	if mode == "partitioned" {
		var err error
		if pt, row.EdgeCut, row.EdgeCutFrac, err = partition(comm, p, books[partitioner], partitioner, fl.Out); err != nil {
			return err
		}
		row.Partitioner = partitioner
	}
	var accs, epochMs, bytesPerStep []float64
	for s := 0; s < seeds; s++ {
		seed := fl.Seed + uint64(s)
		path := ""
		if s == 0 {
			path = save // the first seed's model
		}
		var r seedResult
		var err error
		if mode == "replicated" {
			r, err = trainReplicated(comm, p, seed, epochs, batch, path)
		} else {
			r, err = trainPartitioned(comm, p, pt, seed, epochs, batch, path)
		}
		if err != nil {
			return err
		}
		accs, epochMs, bytesPerStep = append(accs, r.acc), append(epochMs, r.msPerEpoch), append(bytesPerStep, r.bytesPerStep)
		row.Params = r.params
		if root {
			fmt.Printf("seed %d: test accuracy %.4f, %.1f ms/epoch, %.0f bytes per step per rank\n", seed, r.acc, r.msPerEpoch, r.bytesPerStep)
		}
	}
	row.TestAccMean, row.TestAccStd = expenv.MeanStd(accs)
	row.EpochMs, _ = expenv.MeanStd(epochMs)
	row.BytesPerStep, _ = expenv.MeanStd(bytesPerStep)
	if !root {
		return nil
	}
	t := expenv.NewTable(os.Stdout)
	t.Header("ranks", "dataset", "mode", "partitioner", "test accuracy", "ms/epoch", "bytes/step/rank", "parameters", "edge cut (METIS / contiguous)")
	t.Append(strconv.Itoa(row.Ranks), row.Dataset, row.Mode, row.Partitioner, fmt.Sprintf("%.1f ± %.1f", 100*row.TestAccMean, 100*row.TestAccStd),
		fmt.Sprintf("%.1f", row.EpochMs), fmt.Sprintf("%.0f", row.BytesPerStep), strconv.Itoa(row.Params), fmt.Sprintf("%d / %d", row.MetisCut, row.ContiguousCut))
	t.Render()
	name := fmt.Sprintf("results-%s-%s-%d.json", p.name, mode, comm.Size())
	if err := expenv.WriteJSON(fl.Out, name, []Result{row}); err != nil {
		return err
	}
	return expenv.WriteJSON(fl.Out, "results.json", []Result{row})
}

func loadCora(data string) (*problem, error) {
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir(data)))
	if err != nil {
		return nil, err
	}
	f := ds.Features.RowNormalized()
	return &problem{name: ds.Name, g: ds.Graph, feats: f.Dense(), dim: f.Cols, classes: ds.NumClasses, labels: ds.Labels,
		train: ds.Train, val: ds.Val, test: ds.Test}, nil
}

// synthetic returns a graph of n nodes in 16 classes, each node with deg/2 out-edges made
// symmetric, 80% of them inside its class, and 64 noisy class-indicator features: large enough
// to time, learnable enough that accuracy means something. 10% of the nodes train.
func synthetic(n, deg int, seed uint64) *problem {
	const classes, dim = 16, 64
	rng := rand.New(rand.NewPCG(seed, 0xd157))
	labels := make([]int, n)
	feats := make([]float32, n*dim)
	for i := range labels {
		labels[i] = rng.IntN(classes)
		for j := 0; j < dim; j++ {
			feats[i*dim+j] = float32(rng.NormFloat64())
		}
		feats[i*dim+labels[i]] += 0.5
	}
	byClass := make([][]int, classes)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	src := make([]int, 0, n*deg)
	dst := make([]int, 0, n*deg)
	for i := 0; i < n; i++ {
		for d := 0; d < deg/2; d++ {
			j := rng.IntN(n)
			if rng.Float64() < 0.8 {
				c := byClass[labels[i]]
				j = c[rng.IntN(len(c))]
			}
			if j != i {
				src, dst = append(src, i, j), append(dst, j, i)
			}
		}
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		panic(err) // ids are in range by construction
	}
	perm := rng.Perm(n)
	return &problem{name: fmt.Sprintf("synthetic-%d", n), g: g, feats: feats, dim: dim, classes: classes, labels: labels,
		train: perm[:n/10], val: perm[n/10 : n/10+1000], test: perm[n/10+1000 : n/10+11000]}
}

func build(p *problem) dist.FeatureBuildFunc {
	return func(c *nn.Context, blocks []graph.Block, x nn.Features) (*G.Node, error) {
		m, err := models.NewSAGE(c, p.dim, 64, p.classes, nn.MeanAggr, 0.5)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, x)
	}
}

// rows returns the feature rows of ids as a constant of c.
func rows(c *nn.Context, p *problem, ids []int32) nn.Dense {
	x, err := (&nn.DenseTable{Rows: p.g.NumDst, Cols: p.dim, Values: p.feats}).Gather(c, ids)
	if err != nil {
		panic(err) // ids come from the problem's own graph, so they are in range
	}
	return x
}

// seedResult is what one seed's training measured.
type seedResult struct {
	acc, msPerEpoch, bytesPerStep float64
	params                        int // the model's parameter count
}

// saveModel writes the trained weights in base's store to path on rank 0 (nothing when path is
// empty).
func saveModel(comm dist.Comm, base *nn.Context, p *problem, path string) error {
	if path == "" || comm.Rank() != 0 {
		return nil
	}
	c := base.Next()
	m, err := models.NewSAGE(c, p.dim, 64, p.classes, nn.MeanAggr, 0.5)
	if err != nil {
		return err
	}
	arch := models.Architecture{Model: "sage", In: p.dim, Hidden: 64, Classes: p.classes, Aggr: "mean", Dropout: 0.5}
	if err := models.Save(path, arch, m.Learnables(), modelfile.FP32); err != nil {
		return err
	}
	fmt.Printf("rank 0 wrote the trained model to %s\n", path)
	return nil
}

func trainConfig(p *problem, epochs int) models.TrainConfig {
	tc := models.TrainConfig{Epochs: epochs, LearningRate: 0.01, WeightDecay: 5e-4}
	if p.name == "cora" {
		tc.Patience = 50
	}
	return tc
}

// counter counts optimiser steps and the model's parameters through TrainConfig.Sync.
type counter struct{ steps, params int }

func (k *counter) sync(r *models.StepResult) error {
	if k.steps == 0 {
		for _, p := range r.Grads {
			k.params += p.Shape().TotalSize()
		}
	}
	k.steps++
	return nil
}

func trainReplicated(comm dist.Comm, p *problem, seed uint64, epochs, batch int, save string) (seedResult, error) {
	base, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return seedResult{}, err
	}
	fb := build(p)
	task := models.SampledTask{Graph: p.g, Labels: p.labels, Train: p.train, Val: p.val, Test: p.test,
		Build: func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
			return fb(c, blocks, rows(c, p, blocks[0].SrcIDs))
		}}
	k := &counter{}
	avg := dist.AverageGradients(comm)
	cfg := models.SampledConfig{TrainConfig: trainConfig(p, epochs), Fanouts: []int{25, 10}, BatchSize: batch, Rank: comm.Rank(), Ranks: comm.Size()}
	cfg.Sync = func(r *models.StepResult) error {
		if err := avg(r); err != nil {
			return err
		}
		return k.sync(r)
	}
	before := comm.Stats().BytesSent
	h, err := models.TrainSampled(base, task, cfg)
	if err != nil {
		return seedResult{}, err
	}
	if err := saveModel(comm, base, p, save); err != nil {
		return seedResult{}, err
	}
	return seedResult{acc: h.TestAcc, msPerEpoch: h.MsPerEpoch, bytesPerStep: float64(comm.Stats().BytesSent-before) / float64(max(1, k.steps)), params: k.params}, nil
}

// partition writes the partitions of book on rank 0 (in dir/parts), and every rank loads its
// own, as a launcher on many machines would read them from shared storage.
func partition(comm dist.Comm, p *problem, book *dist.Book, name, dir string) (*dist.Part, int, float64, error) {
	var cut int
	var frac float64
	if comm.Rank() == 0 {
		if book == nil || book.Parts != comm.Size() {
			var err error
			if name == "metis" {
				book, err = dist.Metis(context.Background(), p.g, comm.Size(), 1)
			} else {
				book, err = dist.Contiguous(p.g, comm.Size())
			}
			if err != nil {
				return nil, 0, 0, err
			}
		}
		cut, frac, _ = book.EdgeCut(p.g)
		parts, err := dist.Split(p.g, book, p.feats, p.dim, p.labels, p.train, 2)
		if err != nil {
			return nil, 0, 0, err
		}
		if err := os.MkdirAll(filepath.Join(dir, "parts"), 0o755); err != nil {
			return nil, 0, 0, err
		}
		for _, pt := range parts {
			if err := pt.Save(partPath(dir, p.name, name, pt.Index, pt.Parts)); err != nil {
				return nil, 0, 0, err
			}
		}
	}
	if err := comm.Barrier(); err != nil {
		return nil, 0, 0, err
	}
	pt, err := dist.LoadPart(partPath(dir, p.name, name, comm.Rank(), comm.Size()))
	return pt, cut, frac, err
}

func partPath(dir, dataset, partitioner string, k, parts int) string {
	return filepath.Join(dir, "parts", fmt.Sprintf("%s-%s-%d-of-%d.part", dataset, partitioner, k, parts))
}

func trainPartitioned(comm dist.Comm, p *problem, pt *dist.Part, seed uint64, epochs, batch int, save string) (seedResult, error) {
	base, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		return seedResult{}, err
	}
	fb := build(p)
	// Rank 0 evaluates on the whole graph, which it holds to partition it. On the generated
	// graph a full-graph evaluator would hold a dozen (N, 64) activations: it trains for a
	// fixed number of epochs and scores the test nodes on sampled neighbourhoods instead.
	var validate func() (float64, float64, error)
	var eval *models.Evaluator
	sampledTest := p.name != "cora"
	if comm.Rank() == 0 && !sampledTest {
		ec := base.Next()
		ec.SetTraining(false)
		all := make([]int32, p.g.NumDst)
		for i := range all {
			all[i] = int32(i)
		}
		logits, err := fb(ec, p.g.FullBlocks(2), rows(ec, p, all))
		if err != nil {
			return seedResult{}, err
		}
		eval = models.NewEvaluator(ec, logits)
		defer eval.Close()
		validate = func() (float64, float64, error) {
			a, err := eval.Accuracy(p.labels, p.val)
			return 1 - a, a, err
		}
	}
	k := &counter{}
	tc := trainConfig(p, epochs)
	tc.Sync = k.sync
	before := comm.Stats().BytesSent
	h, err := dist.TrainPartitioned(comm, base, pt, fb, validate, dist.PartitionedConfig{TrainConfig: tc, Fanouts: []int{25, 10}, BatchSize: max(1, batch/comm.Size())})
	if err != nil {
		return seedResult{}, err
	}
	bps := float64(comm.Stats().BytesSent-before) / float64(max(1, k.steps))
	if err := saveModel(comm, base, p, save); err != nil {
		return seedResult{}, err
	}
	v := []float64{0}
	if comm.Rank() == 0 && !sampledTest {
		if v[0], err = eval.Accuracy(p.labels, p.test); err != nil {
			return seedResult{}, err
		}
	}
	if comm.Rank() == 0 && sampledTest {
		if v[0], err = sampledAccuracy(base, p, fb, seed); err != nil {
			return seedResult{}, err
		}
	}
	if err := comm.AllReduceSum64(v); err != nil {
		return seedResult{}, err
	}
	if math.IsNaN(v[0]) {
		return seedResult{}, errors.New("test accuracy is NaN")
	}
	return seedResult{acc: v[0], msPerEpoch: h.MsPerEpoch, bytesPerStep: bps, params: k.params}, nil
}

// sampledAccuracy scores the test nodes on neighbourhoods sampled with the training fan-outs.
func sampledAccuracy(base *nn.Context, p *problem, fb dist.FeatureBuildFunc, seed uint64) (float64, error) {
	blocks, err := p.g.Sample(p.test, []int{25, 10}, rand.New(rand.NewPCG(seed, 0x7e57)))
	if err != nil {
		return 0, err
	}
	ec := base.Next()
	ec.SetTraining(false)
	logits, err := fb(ec, blocks, rows(ec, p, blocks[0].SrcIDs))
	if err != nil {
		return 0, err
	}
	e := models.NewEvaluator(ec, logits)
	defer e.Close()
	local := make([]int, len(p.test))
	labels := make([]int, len(p.test))
	for k, v := range p.test {
		local[k], labels[k] = k, p.labels[v]
	}
	return e.Accuracy(labels, local)
}
