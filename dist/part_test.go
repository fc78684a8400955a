package dist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/internal/persist"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

func flatFeatures(feats [][]float32) ([]float32, int) {
	var flat []float32
	for _, r := range feats {
		flat = append(flat, r...)
	}
	return flat, len(feats[0])
}

func splitClasses(t *testing.T, parts int) (*graph.CSR, [][]float32, []int, []*Part) {
	t.Helper()
	g, feats, labels := classes(150, 3, 3)
	flat, dim := flatFeatures(feats)
	book, err := Contiguous(g, parts)
	if err != nil {
		t.Fatal(err)
	}
	train := make([]int, 0, 90)
	for i := 0; i < 150; i += 5 {
		train = append(train, i, i+1, i+2)
	}
	ps, err := Split(g, book, flat, dim, labels, train, 2)
	if err != nil {
		t.Fatal(err)
	}
	return g, feats, labels, ps
}

func TestSplitKeepsOwnNeighbourhoods(t *testing.T) {
	g, feats, labels, ps := splitClasses(t, 3)
	owned := 0
	for _, pt := range ps {
		owned += pt.Owned
		local := map[int32]int{}
		for k, v := range pt.Nodes {
			local[v] = k
		}
		for k := 0; k < pt.Owned; k++ {
			v := int(pt.Nodes[k])
			if !slices.Equal(pt.Features[k*pt.Dim:(k+1)*pt.Dim], feats[v]) || int(pt.Labels[k]) != labels[v] {
				t.Fatalf("partition %d: own node %d's features or label differ from node %d's", pt.Index, k, v)
			}
			// Two hops of in-edges of an own node are local, with the same edges.
			src, _ := g.Row(v)
			lsrc, _ := pt.Graph.Row(k)
			if len(src) != len(lsrc) {
				t.Fatalf("partition %d: own node %d has %d in-edges, %d in the graph", pt.Index, v, len(lsrc), len(src))
			}
			for _, u := range src {
				ku, ok := local[u]
				if !ok {
					t.Fatalf("partition %d: neighbour %d of own node %d is not in the halo", pt.Index, u, v)
				}
				s2, _ := g.Row(int(u))
				l2, _ := pt.Graph.Row(ku)
				if len(s2) != len(l2) {
					t.Fatalf("partition %d: halo node %d has %d in-edges, %d in the graph", pt.Index, u, len(l2), len(s2))
				}
			}
		}
	}
	if owned != g.NumDst {
		t.Fatalf("partitions own %d nodes of %d", owned, g.NumDst)
	}
}

func TestPartSaveLoad(t *testing.T) {
	_, _, _, ps := splitClasses(t, 2)
	path := filepath.Join(t.TempDir(), "part1.bin")
	if err := ps[1].Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadPart(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Owned != ps[1].Owned || !slices.Equal(got.Nodes, ps[1].Nodes) || !slices.Equal(got.Features, ps[1].Features) ||
		!slices.Equal(got.Graph.ColIdx, ps[1].Graph.ColIdx) || !slices.Equal(got.Train, ps[1].Train) {
		t.Fatal("partition differs after a save and load")
	}
	data, _ := os.ReadFile(path)
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 1
	os.WriteFile(path, flipped, 0o644)
	if _, err := LoadPart(path); !errors.Is(err, persist.ErrChecksum) {
		t.Fatalf("flipped byte: %v, want a checksum error", err)
	}
	os.WriteFile(path, data[:len(data)-9], 0o644)
	if _, err := LoadPart(path); !errors.Is(err, persist.ErrCorrupt) {
		t.Fatalf("truncated file: %v, want a corrupt-file error", err)
	}
}

func FuzzLoadPart(f *testing.F) {
	g, feats, labels := classes(30, 3, 1)
	flat, dim := flatFeatures(feats)
	book, _ := Contiguous(g, 2)
	ps, _ := Split(g, book, flat, dim, labels, []int{0, 1, 2, 20}, 1)
	path := filepath.Join(f.TempDir(), "p")
	ps[0].Save(path)
	data, _ := os.ReadFile(path)
	f.Add(data)
	f.Add(data[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := decodePart(b)
		if err == nil && (pt.Graph == nil || len(pt.Features) != pt.Owned*pt.Dim) {
			t.Fatal("decoded an inconsistent partition without an error")
		}
	})
}

func TestFetcherReturnsOwnersRows(t *testing.T) {
	_, feats, _, ps := splitClasses(t, 2)
	run(t, 2, func(c Comm) error {
		pt := ps[c.Rank()]
		local := make([]int32, len(pt.Nodes))
		for k := range local {
			local[k] = int32(len(local) - 1 - k) // halo and own nodes, mixed
		}
		rows, err := (&fetcher{c: c, pt: pt}).rows(local)
		if err != nil {
			return err
		}
		for i, k := range local {
			if !slices.Equal(rows[i*pt.Dim:(i+1)*pt.Dim], feats[pt.Nodes[k]]) {
				return fmt.Errorf("row of local node %d (node %d) is not its features", k, pt.Nodes[k])
			}
		}
		return nil
	})
}

func TestTrainPartitioned(t *testing.T) {
	g, feats, labels, ps := splitClasses(t, 2)
	build := func(c *nn.Context, blocks []graph.Block, x nn.Features) (*G.Node, error) {
		m, err := models.NewSAGE(c, len(feats[0]), 8, 3, nn.MeanAggr, 0)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, x)
	}
	// Rank 0 validates on the whole graph, as an experiment's rank 0 does.
	all := make([]int, g.NumDst)
	for i := range all {
		all[i] = i
	}
	finals := make([][]float64, 2)
	var acc float64
	run(t, 2, func(c Comm) error {
		base, _ := nn.NewContext(tensor.Float64, 11)
		var validate func() (float64, float64, error)
		var ec *nn.Context
		var logits *G.Node
		if c.Rank() == 0 {
			ec = base.Next()
			ec.SetTraining(false)
			flat, dim := flatFeatures(feats)
			var err error
			if logits, err = build(ec, g.FullBlocks(2), nn.DenseRows(ec, flat, g.NumDst, dim)); err != nil {
				return err
			}
			e := models.NewEvaluator(ec, logits)
			validate = func() (float64, float64, error) {
				a, err := e.Accuracy(labels, all)
				acc = a
				return 1 - a, a, err
			}
		}
		_, err := TrainPartitioned(c, base, ps[c.Rank()], build, validate, PartitionedConfig{
			TrainConfig: models.TrainConfig{Epochs: 15, LearningRate: 0.02}, Fanouts: []int{5, 5}, BatchSize: 8})
		if err != nil {
			return err
		}
		// The weights, through a fresh build on any blocks.
		fc := base.Next()
		blocks := g.FullBlocks(2)
		flat, dim := flatFeatures(feats)
		if _, err := build(fc, blocks, nn.DenseRows(fc, flat, g.NumDst, dim)); err != nil {
			return err
		}
		for _, p := range fc.Params() {
			finals[c.Rank()] = append(finals[c.Rank()], p.Value().Data().([]float64)...)
		}
		return nil
	})
	if t.Failed() {
		return
	}
	if !slices.Equal(finals[0], finals[1]) {
		t.Fatal("the ranks' weights differ after partitioned training")
	}
	if acc < 0.6 {
		t.Fatalf("accuracy %.3f after partitioned training, want >= 0.6 (chance 0.33)", acc)
	}
}
