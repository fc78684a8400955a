package main

import (
	"encoding/json"
	"os"
	"testing"
)

// TestExportDataset checks that -export writes the topics graph whole: the raw features, every
// stored edge, the labels and the split, as gcnii_reference.py reads them.
func TestExportDataset(t *testing.T) {
	ds, err := topicGraph()
	if err != nil {
		t.Fatal(err)
	}
	path, err := exportDataset(t.TempDir(), ds)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e exported
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Nodes != topicNodes || e.Classes != topicClasses || e.FeatureCols != topicVocab {
		t.Fatalf("exported %d nodes, %d classes, %d feature columns; want %d, %d, %d", e.Nodes, e.Classes, e.FeatureCols, topicNodes, topicClasses, topicVocab)
	}
	if len(e.Src) != ds.Graph.NumEdges() || len(e.Dst) != len(e.Src) {
		t.Fatalf("exported %d sources and %d destinations for %d edges", len(e.Src), len(e.Dst), ds.Graph.NumEdges())
	}
	// Every edge is stored in both directions: the exported list must be symmetric.
	edges := map[[2]int32]bool{}
	for i := range e.Src {
		edges[[2]int32{e.Src[i], e.Dst[i]}] = true
	}
	for i := range e.Src {
		if !edges[[2]int32{e.Dst[i], e.Src[i]}] {
			t.Fatalf("edge %d -> %d exported without its reverse", e.Src[i], e.Dst[i])
		}
	}
	if len(e.FeatRowPtr) != topicNodes+1 || e.FeatRowPtr[topicNodes] != len(e.FeatCols) || len(e.FeatValues) != len(e.FeatCols) {
		t.Fatalf("feature CSR of %d row pointers, %d columns, %d values for %d nodes", len(e.FeatRowPtr), len(e.FeatCols), len(e.FeatValues), topicNodes)
	}
	for i, v := range e.FeatValues {
		if v != ds.Features.Values[i] || e.FeatCols[i] != ds.Features.ColIdx[i] {
			t.Fatalf("feature entry %d: exported (%d, %v), want the raw (%d, %v)", i, e.FeatCols[i], v, ds.Features.ColIdx[i], ds.Features.Values[i])
		}
	}
	if len(e.Train) != 20*topicClasses || len(e.Val) != 500 || len(e.Test) != 1000 || len(e.Labels) != topicNodes {
		t.Fatalf("split %d/%d/%d and %d labels", len(e.Train), len(e.Val), len(e.Test), len(e.Labels))
	}
}
