package main

import (
	"math/rand/v2"
	"path/filepath"
	"slices"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
)

// Sizes of the generated "topics" graph: about Cora's and CiteSeer's.
const (
	topicNodes    = 3000
	topicClasses  = 6
	topicVocab    = 1000
	topicWords    = 60 // words of each class's topic
	topicDocWords = 18 // words per node
	topicOnTopic  = 0.12
	topicSeed     = 1
)

// topicGraph returns a generated citation-like graph that no paper tuned for, with a public
// split of the Planetoid shape (20 training nodes per class, 500 validation, 1000 test): each
// node has a class and a bag of topicDocWords words, each from its class's topic with
// probability topicOnTopic and otherwise from the whole vocabulary, so the words alone classify
// poorly; each node cites 2 random nodes of its class and 2 of any class (about 58% of the
// edges within a class, against Cora's 81%), undirected. The same graph for every run (seed topicSeed).
func topicGraph() (*datasets.Planetoid, error) {
	rng := rand.New(rand.NewPCG(topicSeed, 0x70b1c))
	labels := make([]int, topicNodes)
	members := make([][]int, topicClasses)
	for i := range labels {
		labels[i] = rng.IntN(topicClasses)
		members[labels[i]] = append(members[labels[i]], i)
	}
	topics := make([][]int32, topicClasses)
	for c := range topics {
		for _, w := range rng.Perm(topicVocab)[:topicWords] {
			topics[c] = append(topics[c], int32(w))
		}
	}
	feats := &datasets.SparseMatrix{Rows: topicNodes, Cols: topicVocab, RowPtr: []int{0}}
	var src, dst []int
	for i, y := range labels {
		var words []int32
		for k := 0; k < topicDocWords; k++ {
			w := int32(rng.IntN(topicVocab))
			if rng.Float64() < topicOnTopic {
				w = topics[y][rng.IntN(topicWords)]
			}
			words = append(words, w)
		}
		slices.Sort(words)
		words = slices.Compact(words)
		for _, w := range words {
			feats.ColIdx, feats.Values = append(feats.ColIdx, w), append(feats.Values, 1)
		}
		feats.RowPtr = append(feats.RowPtr, len(feats.ColIdx))
		for _, j := range []int{members[y][rng.IntN(len(members[y]))], members[y][rng.IntN(len(members[y]))], rng.IntN(topicNodes), rng.IntN(topicNodes)} {
			if j != i {
				src, dst = append(src, j), append(dst, i)
			}
		}
	}
	directed, err := graph.FromEdges(topicNodes, src, dst)
	if err != nil {
		return nil, err
	}
	a, err := directed.Symmetrize()
	if err != nil {
		return nil, err
	}
	ds := &datasets.Planetoid{Name: "topics", Features: feats, Labels: labels, NumClasses: topicClasses, Graph: a}
	perClass := make([]int, topicClasses)
	for _, i := range rng.Perm(topicNodes) {
		switch {
		case perClass[labels[i]] < 20:
			perClass[labels[i]]++
			ds.Train = append(ds.Train, i)
		case len(ds.Val) < 500:
			ds.Val = append(ds.Val, i)
		case len(ds.Test) < 1000:
			ds.Test = append(ds.Test, i)
		}
	}
	slices.Sort(ds.Train)
	slices.Sort(ds.Val)
	slices.Sort(ds.Test)
	return ds, nil
}

// exported is a data set as -export writes it, for a reference implementation in another
// framework (gcnii_reference.py): the raw features in CSR form (not row-normalised), the graph
// as its stored directed edges (src[e] -> dst[e], both directions of an undirected edge), the
// labels and the split.
type exported struct {
	Name        string    `json:"name"`
	Nodes       int       `json:"nodes"`
	Classes     int       `json:"classes"`
	FeatureCols int       `json:"feature_cols"`
	FeatRowPtr  []int     `json:"feat_rowptr"`
	FeatCols    []int32   `json:"feat_cols"`
	FeatValues  []float32 `json:"feat_values"`
	Src         []int32   `json:"src"`
	Dst         []int32   `json:"dst"`
	Labels      []int     `json:"labels"`
	Train       []int     `json:"train"`
	Val         []int     `json:"val"`
	Test        []int     `json:"test"`
}

// exportDataset writes ds to dir/<name>.json (see exported).
func exportDataset(dir string, ds *datasets.Planetoid) (string, error) {
	g := ds.Graph
	e := exported{Name: ds.Name, Nodes: g.NumDst, Classes: ds.NumClasses, FeatureCols: ds.Features.Cols,
		FeatRowPtr: ds.Features.RowPtr, FeatCols: ds.Features.ColIdx, FeatValues: ds.Features.Values,
		Src: g.ColIdx, Dst: g.Dst(), Labels: ds.Labels, Train: ds.Train, Val: ds.Val, Test: ds.Test}
	name := ds.Name + ".json"
	return filepath.Join(dir, name), expenv.WriteJSON(dir, name, e)
}
