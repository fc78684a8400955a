package dist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// run calls f on every member of a new in-memory group, each in its own goroutine.
func run(t *testing.T, size int, f func(c Comm) error) {
	t.Helper()
	cs, err := NewGroup(size)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, size)
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

func TestGroupCollectives(t *testing.T) {
	run(t, 3, func(c Comm) error {
		r := float32(c.Rank())
		buf := []float32{r, 2 * r, 1}
		if err := c.AllReduceSum32(buf); err != nil {
			return err
		}
		if buf[0] != 3 || buf[1] != 6 || buf[2] != 3 {
			return errors.New("wrong all-reduce")
		}
		b := []float32{r, r}
		if err := c.Broadcast32(b, 2); err != nil {
			return err
		}
		if b[0] != 2 || b[1] != 2 {
			return errors.New("wrong broadcast")
		}
		all, err := c.AllGatherInt32(make([]int32, c.Rank()+1))
		if err != nil {
			return err
		}
		if len(all) != 6 {
			return errors.New("wrong all-gather")
		}
		send := make([][]float32, 3)
		for d := range send {
			send[d] = []float32{float32(10*c.Rank() + d)}
		}
		recv, err := c.AllToAll32(send)
		if err != nil {
			return err
		}
		for s := range recv {
			if len(recv[s]) != 1 || recv[s][0] != float32(10*s+c.Rank()) {
				return errors.New("wrong all-to-all")
			}
		}
		return c.Barrier()
	})
}

func TestGroupMemberGoneIsAnError(t *testing.T) {
	cs, _ := NewGroup(2)
	done := make(chan error)
	go func() { done <- cs[0].AllReduceSum32([]float32{1}) }()
	cs[1].Close()
	if err := <-done; err == nil {
		t.Fatal("a collective whose peer closed returned no error")
	}
	if err := cs[1].Barrier(); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed member: %v, want ErrClosed", err)
	}
}

func TestLocal(t *testing.T) {
	c := Local()
	buf := []float32{1, 2}
	if err := c.AllReduceSum32(buf); err != nil || buf[0] != 1 || c.Size() != 1 || c.Rank() != 0 {
		t.Fatal("local all-reduce is not the identity")
	}
	if err := c.Broadcast32(buf, 1); err == nil {
		t.Fatal("broadcast from rank 1 of 1 accepted")
	}
}

// classes returns a graph of n nodes in k classes whose edges mostly join nodes of one class,
// with noisy class-indicator features.
func classes(n, k int, seed uint64) (*graph.CSR, [][]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	labels := make([]int, n)
	feats := make([][]float32, n)
	for i := range labels {
		labels[i] = i % k
		feats[i] = make([]float32, 2*k)
		for j := range feats[i] {
			feats[i][j] = float32(rng.NormFloat64())
		}
		feats[i][labels[i]] += 0.8
	}
	var src, dst []int
	for i := 0; i < n; i++ {
		for d := 0; d < 4; d++ {
			j := rng.IntN(n)
			if rng.Float64() < 0.8 {
				j = (j/k)*k + labels[i]
				if j >= n {
					j -= k
				}
			}
			if j != i {
				src, dst = append(src, i, j), append(dst, j, i)
			}
		}
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		panic(err)
	}
	return g.Coalesce(), feats, labels
}

func sageTask(g *graph.CSR, feats [][]float32, labels []int, train []int) models.SampledTask {
	build := func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
		m, err := models.NewSAGE(c, len(feats[0]), 8, 3, nn.MeanAggr, 0)
		if err != nil {
			return nil, err
		}
		ids := blocks[0].SrcIDs
		flat := make([]float64, 0, len(ids)*len(feats[0]))
		for _, id := range ids {
			for _, v := range feats[id] {
				flat = append(flat, float64(v))
			}
		}
		x := c.Constant("x", tensor.New(tensor.WithShape(len(ids), len(feats[0])), tensor.WithBacking(flat)))
		return m.Forward(c, blocks, nn.Dense{X: x})
	}
	return models.SampledTask{Graph: g, Build: build, Labels: labels, Train: train, Val: train[:8], Test: train[:8]}
}

// stepGrads trains one worker for the given epochs and returns its gradients after the first
// step's synchronisation and its final parameters.
func trainWorker(c Comm, task models.SampledTask, epochs int) (first [][]float64, final [][]float64, err error) {
	base, err := nn.NewContext(tensor.Float64, 7)
	if err != nil {
		return nil, nil, err
	}
	sync := AverageGradients(c)
	steps := 0
	cfg := models.SampledConfig{
		TrainConfig: models.TrainConfig{Epochs: epochs, LearningRate: 0.01, Sync: func(r *models.StepResult) error {
			if err := sync(r); err != nil {
				return err
			}
			if steps == 0 {
				for _, p := range r.Grads {
					gv, _ := p.Grad()
					first = append(first, append([]float64(nil), gv.Data().([]float64)...))
				}
			}
			steps++
			return nil
		}},
		Fanouts: []int{-1, -1}, BatchSize: 16, Rank: c.Rank(), Ranks: c.Size(),
	}
	h, err := models.TrainSampled(base, task, cfg)
	if err != nil {
		return nil, nil, err
	}
	_ = h
	if steps != epochs*4 {
		return nil, nil, errors.New("unexpected number of steps")
	}
	// The trained parameters: a fresh context over the same store.
	ec := base.Next()
	if _, err := task.Build(ec, task.Graph.FullBlocks(2)); err != nil {
		return nil, nil, err
	}
	for _, p := range ec.Params() {
		final = append(final, append([]float64(nil), p.Value().Data().([]float64)...))
	}
	return first, final, nil
}

func TestDataParallelMatchesOneProcess(t *testing.T) {
	g, feats, labels := classes(120, 3, 5)
	train := make([]int, 64)
	for i := range train {
		train[i] = i
	}
	task := sageTask(g, feats, labels, train)
	const epochs = 25 // 4 batches of 16 each: 100 steps
	one, oneFinal, err := trainWorker(Local(), task, epochs)
	if err != nil {
		t.Fatal(err)
	}
	firsts := make([][][]float64, 2)
	finals := make([][][]float64, 2)
	run(t, 2, func(c Comm) error {
		var err error
		firsts[c.Rank()], finals[c.Rank()], err = trainWorker(c, task, epochs)
		return err
	})
	if t.Failed() {
		return
	}
	// The first step's averaged gradient is the whole batch's, up to the order of sums.
	for r := range firsts {
		for i := range one {
			for k := range one[i] {
				if d := math.Abs(one[i][k] - firsts[r][i][k]); d > 1e-12*(1+math.Abs(one[i][k])) {
					t.Fatalf("rank %d parameter %d value %d: gradient %v, one process %v", r, i, k, firsts[r][i][k], one[i][k])
				}
			}
		}
	}
	// After 100 steps both workers hold the same weights, bit for bit, and the one process's
	// within rounding.
	for i := range finals[0] {
		for k := range finals[0][i] {
			if finals[0][i][k] != finals[1][i][k] {
				t.Fatalf("parameter %d value %d differs between ranks after 100 steps: %v vs %v", i, k, finals[0][i][k], finals[1][i][k])
			}
			if d := math.Abs(finals[0][i][k] - oneFinal[i][k]); d > 1e-6 {
				t.Fatalf("parameter %d value %d: two workers %v, one process %v", i, k, finals[0][i][k], oneFinal[i][k])
			}
		}
	}
}

func TestDataParallelRejectsDifferentModels(t *testing.T) {
	run(t, 2, func(c Comm) error {
		sync := AverageGradients(c)
		ctx, _ := nn.NewContext(tensor.Float64, 1)
		n := 2 + c.Rank()
		p, err := ctx.Param("w", tensor.Shape{n}, nn.Zeros)
		if err != nil {
			return err
		}
		G.WithGrad(tensor.New(tensor.WithShape(n), tensor.Of(tensor.Float64)))(p)
		err = sync(&models.StepResult{Loss: 1, Weight: 1, Grads: G.Nodes{p}})
		if err == nil || !strings.Contains(err.Error(), "same model") {
			return fmt.Errorf("workers with different parameter counts: error %v, want one naming the model", err)
		}
		return nil
	})
}

func TestPartitioners(t *testing.T) {
	g, _, _ := classes(300, 3, 9)
	cont, err := Contiguous(g, 2)
	if err != nil {
		t.Fatal(err)
	}
	contCut, _, err := cont.EdgeCut(g)
	if err != nil {
		t.Fatal(err)
	}
	if s := cont.Sizes(); s[0] == 0 || s[1] == 0 {
		t.Fatalf("contiguous sizes %v", s)
	}
	if _, err := exec.LookPath("gpmetis"); err != nil {
		t.Skip("gpmetis not installed (Debian package metis): METIS partitioning untested")
	}
	m, err := Metis(context.Background(), g, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	metisCut, _, err := m.EdgeCut(g)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Sizes()
	if s[0] < 100 || s[1] < 100 {
		t.Fatalf("METIS partition sizes %v are unbalanced", s)
	}
	// The graph has three planted classes joined by most edges: a min-cut partition cuts far
	// fewer edges than contiguous ranges, which interleave the classes.
	if metisCut >= contCut {
		t.Fatalf("METIS cut %d edges, contiguous %d", metisCut, contCut)
	}
}
