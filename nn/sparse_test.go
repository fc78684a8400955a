package nn_test

import (
	"slices"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/nn"
)

// TestSparseTableGather takes rows of a datasets.SparseMatrix, used as a table without a copy.
func TestSparseTableGather(t *testing.T) {
	// [[1 0 2], [0 0 0], [0 3 0]]
	m := &datasets.SparseMatrix{Rows: 3, Cols: 3, RowPtr: []int{0, 2, 2, 3}, ColIdx: []int32{0, 2, 1}, Values: []float32{1, 2, 3}}
	c, err := nn.NewContext(tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, err := (*nn.SparseTable)(m).Gather(c, []int32{2, 0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 3, 3, 4}; !slices.Equal(x.Pattern.RowPtr, want) {
		t.Errorf("RowPtr = %v, want %v", x.Pattern.RowPtr, want)
	}
	if want := []int32{1, 0, 2, 1}; !slices.Equal(x.Pattern.ColIdx, want) {
		t.Errorf("ColIdx = %v, want %v", x.Pattern.ColIdx, want)
	}
	if got, want := x.Values.Value().Data().([]float32), []float32{3, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Values = %v, want %v", got, want)
	}
	if _, err := (*nn.SparseTable)(m).Gather(c, []int32{3}); err == nil {
		t.Error("Gather of row 3 of a 3-row table: no error")
	}
}
