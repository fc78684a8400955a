package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// TestOutputReuse checks that a re-run machine writes an op's output into the tensor it
// allocated on the first run, with the same result.
func TestOutputReuse(t *testing.T) {
	a, err := graph.Random(300, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	x := randDense(rng, tensor.Float32, 300, 16)
	g := G.NewGraph()
	xn := G.NewTensor(g, tensor.Float32, 2, G.WithShape(300, 16), G.WithValue(x))
	out, err := MeanAggregate(a, xn)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	var first []float32
	var ptr uintptr
	for run := 0; run < 3; run++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		v := out.Value().(*tensor.Dense)
		if run == 0 {
			first, ptr = append([]float32(nil), v.Float32s()...), v.Uintptr()
			continue
		}
		if v.Uintptr() != ptr {
			t.Errorf("run %d allocated a new output", run)
		}
		for i, f := range v.Float32s() {
			if f != first[i] {
				t.Fatalf("run %d: element %d = %v, first run %v", run, i, f, first[i])
			}
		}
	}
}
