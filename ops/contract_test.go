package ops

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// An opContract describes one exported op (or a family sharing one op type) for checkContract,
// the one suite every op of the package runs, as gonum's graph/testgraph is for graph types:
//
//   - the output matches a float64 reference, in float64 and in float32;
//   - gradients match central finite differences (float64);
//   - outputs and gradients are bit-identical for 1, 2, 3 and 8 workers, with the parallel paths
//     forced on the small test inputs;
//   - a second run and a run after Reset give the same bits, into the same output buffer;
//   - each bad input is an error (at build or at run time), never a panic.
type opContract struct {
	// ops names the exported functions the contract covers.
	ops []string
	// inputs returns the op's float inputs of type dt; index returns its tensor.Int inputs.
	inputs func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense
	index  [][]int
	// build applies the op to float input nodes x and index nodes idx.
	build func(x, idx []*G.Node) (*G.Node, error)
	// ref computes the output in float64 from the float inputs.
	ref func(x [][]float64) []float64
	// wrt lists the float inputs that are differentiated (nil: all).
	wrt []int
	// refTol32 overrides the float32 relative tolerance of the reference check (1e-5).
	refTol32 float64
	// bad lists inputs that must be rejected.
	bad []badInput
}

// A badInput builds the op on bad input; the error, at build time or from running the graph,
// must contain want.
type badInput struct {
	name  string
	build func(g *G.ExprGraph) (*G.Node, error)
	want  string
}

var contracts = map[string]*opContract{}

// register adds a contract under the names of the functions it covers; test files call it from
// package-level variable declarations, so TestEveryOpHasAContract sees every registration.
func register(c *opContract) bool {
	for _, name := range c.ops {
		if contracts[name] != nil {
			panic("two contracts for " + name)
		}
		contracts[name] = c
	}
	return true
}

// runContract runs the contract registered for op.
func runContract(t *testing.T, op string) {
	t.Helper()
	c := contracts[op]
	if c == nil {
		t.Fatalf("no contract registered for %s", op)
	}
	checkContract(t, c)
}

// TestEveryOpHasAContract parses the package and fails for an exported function returning
// (*gorgonia.Node, error) that no contract covers, or a contract whose test does not run it.
func TestEveryOpHasAContract(t *testing.T) {
	// The package's files for this build (build tags honoured), parsed one by one.
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var ops []string
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil {
				continue
			}
			res := fn.Type.Results.List
			if len(res) == 2 && exprString(res[0].Type) == "*G.Node" && exprString(res[1].Type) == "error" {
				ops = append(ops, fn.Name.Name)
			}
		}
	}
	sort.Strings(ops)
	if len(ops) < 20 {
		t.Fatalf("found only %d ops (%v): is the parser looking at the right package?", len(ops), ops)
	}
	for _, op := range ops {
		if contracts[op] == nil {
			t.Errorf("ops.%s has no op contract: register one (see contract_test.go) and call runContract from its test", op)
		}
	}
	for name := range contracts {
		if !slices.Contains(ops, name) {
			t.Errorf("a contract covers %s, which is not an exported op", name)
		}
	}
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return fmt.Sprintf("%T", e)
}

// contractRun is one compiled graph of a contract: the op applied to its inputs, the loss
// sum(out * R) and its gradients.
type contractRun struct {
	g     *G.ExprGraph
	x     []*G.Node
	out   *G.Node
	rv    *tensor.Dense
	m     G.VM
	grads bool
}

func (c *opContract) compile(t *testing.T, in []*tensor.Dense, grads bool) *contractRun {
	t.Helper()
	r := &contractRun{g: G.NewGraph(), grads: grads}
	for k, v := range in {
		r.x = append(r.x, G.NewTensor(r.g, v.Dtype(), v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(fmt.Sprintf("x%d", k))))
	}
	var idx []*G.Node
	for k, v := range c.index {
		n := NewIndex(r.g, fmt.Sprintf("idx%d", k), len(v))
		if err := SetIndex(n, v); err != nil {
			t.Fatal(err)
		}
		idx = append(idx, n)
	}
	out, err := c.build(r.x, idx)
	if err != nil {
		t.Fatal(err)
	}
	r.out = out
	if grads {
		rng := rand.New(rand.NewPCG(7, 11))
		r.rv = randDense(rng, in[0].Dtype(), out.Shape()...)
		rn := G.NewTensor(r.g, r.rv.Dtype(), out.Dims(), G.WithShape(out.Shape()...), G.WithValue(r.rv), G.WithName("r"))
		loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, rn))))
		if _, err := G.Grad(loss, c.wrtNodes(r.x)...); err != nil {
			t.Fatal(err)
		}
	}
	r.m = G.NewTapeMachine(r.g)
	return r
}

func (c *opContract) wrtNodes(x []*G.Node) []*G.Node {
	if c.wrt == nil {
		return x
	}
	var out []*G.Node
	for _, k := range c.wrt {
		out = append(out, x[k])
	}
	return out
}

// run resets and runs the machine and returns the output and the gradients, as float64, and the
// address of the output's buffer.
func (r *contractRun) run(t *testing.T, c *opContract) (out []float64, grads [][]float64, buf uintptr) {
	t.Helper()
	r.m.Reset()
	if err := r.m.RunAll(); err != nil {
		t.Fatal(err)
	}
	ov := r.out.Value().(*tensor.Dense)
	out = asFloat64(ov)
	if r.grads {
		for _, n := range c.wrtNodes(r.x) {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			grads = append(grads, asFloat64(gv.(*tensor.Dense)))
		}
	}
	return out, grads, ov.Uintptr()
}

func checkContract(t *testing.T, c *opContract) {
	t.Helper()
	t.Run("reference", func(t *testing.T) { c.checkReference(t) })
	t.Run("gradient", func(t *testing.T) { c.checkGradient(t) })
	t.Run("workers", func(t *testing.T) { c.checkWorkers(t) })
	t.Run("rerun", func(t *testing.T) { c.checkRerun(t) })
	t.Run("bad", func(t *testing.T) { c.checkBad(t) })
}

func (c *opContract) checkReference(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		in := c.inputs(rand.New(rand.NewPCG(1, 2)), dt)
		r := c.compile(t, in, false)
		got, _, _ := r.run(t, c)
		r.m.Close()
		x := make([][]float64, len(in))
		for k, v := range in {
			x[k] = asFloat64(v)
		}
		want := c.ref(x)
		if len(got) != len(want) {
			t.Fatalf("%v: %d output elements, reference has %d", dt, len(got), len(want))
		}
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 1e-5
			if c.refTol32 > 0 {
				tol = c.refTol32
			}
		}
		for i := range want {
			if d := math.Abs(got[i] - want[i]); !(d <= tol*(1+math.Abs(want[i]))) {
				t.Fatalf("%v: element %d = %v, reference %v", dt, i, got[i], want[i])
			}
		}
	}
}

func (c *opContract) checkGradient(t *testing.T) {
	c.checkGradientOn(t, c.inputs(rand.New(rand.NewPCG(3, 4)), tensor.Float64))
}

// checkGradientOn compares the gradients gorgonia.Grad computes through the op with central
// finite differences of loss = sum(op(inputs) * R) for a fixed random R, at up to 40 sampled
// elements of every differentiated input. The loss is summed in float64 from the op's output,
// so a float32 op is checked to its own precision (step 1e-2, tolerance 1e-3), not to that of a
// float32 reduction.
func (c *opContract) checkGradientOn(t *testing.T, in []*tensor.Dense) {
	t.Helper()
	r := c.compile(t, in, true)
	defer r.m.Close()
	_, analytic, _ := r.run(t, c)
	loss := func() float64 {
		out, _, _ := r.run(t, c)
		s := 0.0
		for i, v := range out {
			s += v * at(r.rv, i)
		}
		return s
	}
	rng := rand.New(rand.NewPCG(5, 6))
	h, tol := 1e-6, 1e-6
	if in[0].Dtype() == tensor.Float32 {
		h, tol = 1e-2, 1e-3
	}
	wrt := c.wrt
	if wrt == nil {
		for k := range in {
			wrt = append(wrt, k)
		}
	}
	for j, k := range wrt {
		v := in[k]
		for s := 0; s < 40 && s < v.Len(); s++ {
			i := s
			if v.Len() > 40 {
				i = rng.IntN(v.Len())
			}
			old := at(v, i)
			set(v, i, old+h)
			G.Let(r.x[k], v)
			up := loss()
			set(v, i, old-h)
			G.Let(r.x[k], v)
			down := loss()
			set(v, i, old)
			G.Let(r.x[k], v)
			num := (up - down) / (2 * h)
			if d := math.Abs(num - analytic[j][i]); !(d <= tol*(1+math.Abs(num))) {
				t.Errorf("%v input %d element %d: analytic gradient %.10g, numeric %.10g", v.Dtype(), k, i, analytic[j][i], num)
			}
		}
	}
}

// forceParallel makes every parallel loop split its work, whatever its size, and lets up to 8
// goroutines run; the returned function restores the settings.
func forceParallel() func() {
	procs := runtime.GOMAXPROCS(8)
	sw := serialWork
	serialWork = 0
	return func() {
		serialWork = sw
		runtime.GOMAXPROCS(procs)
		SetMaxWorkers(0)
	}
}

func (c *opContract) checkWorkers(t *testing.T) {
	defer forceParallel()()
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		in := c.inputs(rand.New(rand.NewPCG(8, 9)), dt)
		var refOut []float64
		var refGrads [][]float64
		for _, w := range []int{1, 2, 3, 8} {
			SetMaxWorkers(w)
			r := c.compile(t, in, true)
			out, grads, _ := r.run(t, c)
			r.m.Close()
			if w == 1 {
				refOut, refGrads = out, grads
				continue
			}
			if k := firstDiff(refOut, out); k >= 0 {
				t.Fatalf("%v: %d workers: output element %d = %v, 1 worker %v", dt, w, k, out[k], refOut[k])
			}
			for j := range grads {
				if k := firstDiff(refGrads[j], grads[j]); k >= 0 {
					t.Fatalf("%v: %d workers: gradient %d element %d = %v, 1 worker %v", dt, w, j, k, grads[j][k], refGrads[j][k])
				}
			}
		}
	}
}

// firstDiff returns the first index where a and b differ in bits, or -1.
func firstDiff(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

func (c *opContract) checkRerun(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		in := c.inputs(rand.New(rand.NewPCG(10, 11)), dt)
		r := c.compile(t, in, true)
		out1, grads1, _ := r.run(t, c)
		out2, grads2, buf2 := r.run(t, c)
		// Reset the input values as a training loop does, then run again.
		for k, v := range in {
			if err := G.Let(r.x[k], v); err != nil {
				t.Fatal(err)
			}
		}
		out3, grads3, buf3 := r.run(t, c)
		r.m.Close()
		if buf2 != buf3 {
			t.Errorf("%v: the third run allocated a new output instead of reusing the second's", dt)
		}
		for run, o := range [][]float64{out2, out3} {
			if k := firstDiff(out1, o); k >= 0 {
				t.Fatalf("%v: run %d: output element %d differs from the first run", dt, run+2, k)
			}
		}
		for run, gs := range [][][]float64{grads2, grads3} {
			for j := range gs {
				if k := firstDiff(grads1[j], gs[j]); k >= 0 {
					t.Fatalf("%v: run %d: gradient %d element %d differs from the first run", dt, run+2, j, k)
				}
			}
		}
	}
}

func (c *opContract) checkBad(t *testing.T) {
	if len(c.bad) == 0 {
		t.Fatal("no bad inputs listed: every op must reject something")
	}
	for _, b := range c.bad {
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
				}
			}()
			g := G.NewGraph()
			n, err := b.build(g)
			if err != nil {
				return err
			}
			if n == nil {
				return nil
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			return m.RunAll()
		}()
		if err == nil || strings.HasPrefix(err.Error(), "panic") || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: error %v, want one containing %q", b.name, err, b.want)
		}
	}
}

// Helpers for building bad inputs.

func matNode(g *G.ExprGraph, dt tensor.Dtype, rows, cols int, name string) *G.Node {
	return G.NewMatrix(g, dt, G.WithShape(rows, cols), G.WithName(name), G.WithInit(G.Zeroes()))
}

func vecNode(g *G.ExprGraph, dt tensor.Dtype, n int, name string) *G.Node {
	return G.NewVector(g, dt, G.WithShape(n), G.WithName(name), G.WithInit(G.Zeroes()))
}

func indexNode(g *G.ExprGraph, name string, v []int) *G.Node {
	n := NewIndex(g, name, len(v))
	if err := SetIndex(n, v); err != nil {
		panic(err)
	}
	return n
}
