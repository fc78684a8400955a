package hnsw

import (
	"strings"
	"testing"
)

func TestAddAllReportsProgress(t *testing.T) {
	ix, err := New(Config{Dim: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var calls [][2]int
	ids, err := ix.AddAll([][]float32{{0, 0}, {1, 0}, {0, 1}}, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 3 || ids[0] != 0 || ids[2] != 2 || ix.Len() != 3 {
		t.Errorf("ids %v, Len %d", ids, ix.Len())
	}
	if len(calls) != 3 || calls[0] != [2]int{1, 3} || calls[2] != [2]int{3, 3} {
		t.Errorf("progress calls %v; want (1,3) (2,3) (3,3)", calls)
	}
	ids, err = ix.AddAll([][]float32{{1, 1}, {1}}, nil)
	if err == nil || !strings.Contains(err.Error(), "vector 1 of 2") || len(ids) != 1 {
		t.Errorf("a wrong-sized vector: ids %v, err %v", ids, err)
	}
}
