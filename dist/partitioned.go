package dist

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// FeatureBuildFunc builds a model in c over sampled blocks (input layer first) whose input
// nodes' feature rows are x, and returns the logits of the last block's destinations.
type FeatureBuildFunc func(c *nn.Context, blocks []graph.Block, x nn.Features) (*G.Node, error)

// PartitionedConfig sets up data-parallel training where every rank holds one Part.
type PartitionedConfig struct {
	models.TrainConfig
	Fanouts   []int // neighbours kept per node and layer, the seeds' layer first; len(Fanouts) <= Part.Hops
	BatchSize int   // seed nodes per rank and mini-batch
}

// TrainPartitioned trains a model on every rank of c at once, each rank holding one partition
// (pt, with pt.Index == c.Rank()) and training on mini-batches of its own training nodes: it
// samples their neighbourhoods inside its partition's halo, fetches the feature rows of the
// halo nodes it sampled from their owners (two all-to-all exchanges per step: ids, then rows),
// and the ranks average their gradients (AverageGradients) before every optimiser step, so
// every rank holds the same weights. A Sync in cfg is called after the averaging.
//
// Every rank takes the same number of steps per epoch, set by the rank with the most training
// nodes; a rank with fewer deals its own nodes again, reshuffled, to fill its batches (a
// balanced partitioner keeps the repeats few). validate, called on rank 0 only (others may
// pass nil), scores the model after every epoch; its result is broadcast, so early stopping
// decides the same on every rank.
func TrainPartitioned(c Comm, base *nn.Context, pt *Part, build FeatureBuildFunc, validate func() (loss, score float64, err error), cfg PartitionedConfig) (*models.History, error) {
	switch {
	case c.Size() != pt.Parts || c.Rank() != pt.Index:
		return nil, fmt.Errorf("dist: rank %d of %d holds partition %d of %d; give each rank its own", c.Rank(), c.Size(), pt.Index, pt.Parts)
	case len(cfg.Fanouts) == 0 || len(cfg.Fanouts) > pt.Hops:
		return nil, fmt.Errorf("dist: %d sampling layers on a partition with a %d-hop halo", len(cfg.Fanouts), pt.Hops)
	case cfg.BatchSize <= 0:
		return nil, fmt.Errorf("dist: batch size %d", cfg.BatchSize)
	case c.Rank() == 0 && validate == nil && (cfg.Patience > 0 || cfg.Window > 0):
		return nil, errors.New("dist: early stopping needs validate on rank 0")
	}
	counts, err := c.AllGatherInt32([]int32{int32(len(pt.Train))})
	if err != nil {
		return nil, err
	}
	most := 0
	for r, n := range counts {
		if n == 0 {
			return nil, fmt.Errorf("dist: partition %d has no training nodes; use fewer partitions", r)
		}
		most = max(most, int(n))
	}
	batches := (most + cfg.BatchSize - 1) / cfg.BatchSize
	rng := rand.New(rand.NewPCG(base.Rand().Uint64(), uint64(c.Rank())))
	fetch := &fetcher{c: c, pt: pt}

	// The parameter nodes that early stopping saves and restores: any context's will do.
	var params G.Nodes
	{
		pc := base.Next()
		seeds := []int{int(pt.Train[0])}
		blocks, err := pt.Graph.Sample(seeds, cfg.Fanouts, rng)
		if err != nil {
			return nil, err
		}
		x := make([]float32, len(blocks[0].SrcIDs)*pt.Dim)
		if _, err := build(pc, blocks, nn.DenseRows(pc, x, len(blocks[0].SrcIDs), pt.Dim)); err != nil {
			return nil, err
		}
		params = pc.Params()
	}
	// The ranks' contexts may have drawn their initial weights in different orders (rank 0
	// built an evaluator first, say): start every rank from rank 0's, as DistributedDataParallel
	// does.
	if err := BroadcastParams(c, params, 0); err != nil {
		return nil, err
	}

	var order []int
	p := models.Problem{
		Params: params,
		Epoch: func(int) (int, error) {
			order = order[:0]
			for len(order) < most {
				perm := rng.Perm(len(pt.Train))
				for _, k := range perm {
					if len(order) == most {
						break
					}
					order = append(order, int(pt.Train[k]))
				}
			}
			return batches, nil
		},
		Step: models.Rebuilt(func(b int) (*nn.Context, *G.Node, float64, error) {
			// A rank that deals its nodes again may meet one twice in a batch: keep the first.
			seeds := uniq(order[b*cfg.BatchSize : min((b+1)*cfg.BatchSize, len(order))])
			blocks, err := pt.Graph.Sample(seeds, cfg.Fanouts, rng)
			if err != nil {
				return nil, nil, 0, err
			}
			rows, err := fetch.rows(blocks[0].SrcIDs)
			if err != nil {
				return nil, nil, 0, err
			}
			sc := base.Next()
			sc.SetTraining(true)
			logits, err := build(sc, blocks, nn.DenseRows(sc, rows, len(blocks[0].SrcIDs), pt.Dim))
			if err != nil {
				return nil, nil, 0, err
			}
			labels := make([]int, len(seeds))
			local := make([]int, len(seeds))
			for k, s := range seeds {
				labels[k], local[k] = int(pt.Labels[s]), k
			}
			loss, _, err := sc.CrossEntropy(logits, labels, local)
			return sc, loss, float64(len(seeds)), err
		}),
		Validate: func() (float64, float64, error) {
			v := make([]float64, 2)
			if c.Rank() == 0 && validate != nil {
				l, s, err := validate()
				if err != nil {
					return 0, 0, err
				}
				v[0], v[1] = l, s
			}
			if err := c.AllReduceSum64(v); err != nil {
				return 0, 0, err
			}
			return v[0], v[1], nil
		},
		Decay: models.DecayAll,
	}
	tc := cfg.TrainConfig
	avg, after := AverageGradients(c), cfg.Sync
	tc.Sync = func(r *models.StepResult) error {
		if err := avg(r); err != nil || after == nil {
			return err
		}
		return after(r)
	}
	return models.Fit(p, tc)
}

// fetcher assembles the feature rows of local nodes, asking the owners of halo nodes for
// theirs.
type fetcher struct {
	c  Comm
	pt *Part
}

// rows returns the feature rows of the given local nodes, in order.
func (f *fetcher) rows(local []int32) ([]float32, error) {
	pt, dim := f.pt, f.pt.Dim
	out := make([]float32, len(local)*dim)
	ask := make([][]int32, pt.Parts)
	where := make([][]int, pt.Parts) // positions in local of each owner's requested rows
	for i, k := range local {
		if int(k) < pt.Owned {
			copy(out[i*dim:], pt.Features[int(k)*dim:(int(k)+1)*dim])
			continue
		}
		o := pt.Owner[k]
		ask[o] = append(ask[o], pt.Nodes[k])
		where[o] = append(where[o], i)
	}
	asked, err := f.c.AllToAllInt32(ask)
	if err != nil {
		return nil, err
	}
	reply := make([][]float32, pt.Parts)
	own := pt.Nodes[:pt.Owned]
	for r, ids := range asked {
		reply[r] = make([]float32, 0, len(ids)*dim)
		for _, id := range ids {
			k := sort.Search(len(own), func(j int) bool { return own[j] >= id })
			if k == len(own) || own[k] != id {
				return nil, fmt.Errorf("dist: rank %d asked partition %d for node %d, which it does not own", r, pt.Index, id)
			}
			reply[r] = append(reply[r], pt.Features[k*dim:(k+1)*dim]...)
		}
	}
	got, err := f.c.AllToAll32(reply)
	if err != nil {
		return nil, err
	}
	for o, pos := range where {
		if len(got[o]) != len(pos)*dim {
			return nil, fmt.Errorf("dist: partition %d sent %d values for %d rows of %d", o, len(got[o]), len(pos), dim)
		}
		for j, i := range pos {
			copy(out[i*dim:(i+1)*dim], got[o][j*dim:(j+1)*dim])
		}
	}
	return out, nil
}

// uniq returns s without repeated values, in order of first occurrence.
func uniq(s []int) []int {
	seen := make(map[int]bool, len(s))
	out := make([]int, 0, len(s))
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
