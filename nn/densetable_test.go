package nn

import (
	"fmt"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

func TestDenseTableGather(t *testing.T) {
	tab := &DenseTable{Rows: 3, Cols: 2, Values: []float32{0, 1, 10, 11, 20, 21}}
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		c, _ := NewContext(dt, 1)
		x, err := tab.Gather(c, []int32{2, 0})
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := Rows(x.X.Value())
		if !slices.Equal(rows[0], []float64{20, 21}) || !slices.Equal(rows[1], []float64{0, 1}) {
			t.Fatalf("%v: gathered %v", dt, rows)
		}
		if _, err := tab.Gather(c, []int32{3}); err == nil {
			t.Fatalf("%v: row 3 of 3 gathered without an error", dt)
		}
	}
}

func ExampleDenseTable_Gather() {
	// Four nodes with two features each; a mini-batch needs the rows of nodes 3 and 1.
	tab := &DenseTable{Rows: 4, Cols: 2, Values: []float32{0, 0, 1, 1, 2, 2, 3, 3}}
	c, _ := NewContext(tensor.Float32, 1)
	x, err := tab.Gather(c, []int32{3, 1})
	if err != nil {
		panic(err)
	}
	rows, _ := Rows(x.X.Value())
	fmt.Println(rows)
	// Output: [[3 3] [1 1]]
}
