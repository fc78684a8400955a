//go:build !gognn_serve

package search

import (
	"runtime"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestLowPriorityOp: the gate passes its input through unchanged and lowers the thread of the
// goroutine that runs the tape (on Linux: nice 19 under SCHED_IDLE), not the caller's.
func TestLowPriorityOp(t *testing.T) {
	callerNice, err := threadNiceLocked()
	if err != nil {
		t.Skipf("getpriority: %v", err)
	}
	var mu sync.Mutex
	var nice, policy []int
	testHookLowPriority = func() {
		n, _ := threadNice()
		p, _ := threadPolicy()
		mu.Lock()
		nice, policy = append(nice, n), append(policy, p)
		mu.Unlock()
	}
	defer func() { testHookLowPriority = nil }()

	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))))
	y, err := lowPriority(x)
	if err != nil {
		t.Fatal(err)
	}
	s, err := G.Sum(y)
	if err != nil {
		t.Fatal(err)
	}
	var sum G.Value
	G.Read(s, &sum)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if v := sum.Data().(float32); v != 21 {
		t.Errorf("sum through the gate %v, want 21", v)
	}
	want, wantPolicy := 19, idlePolicy
	if runtime.GOOS != "linux" {
		want = 0
	}
	if len(nice) != 1 || nice[0] != want || policy[0] != wantPolicy {
		t.Errorf("tape ran at nice %v, policy %v; want one run at %d, %d", nice, policy, want, wantPolicy)
	}
	if n, _ := threadNice(); n != callerNice {
		t.Errorf("the caller's thread is at nice %d after the run, want %d", n, callerNice)
	}
	if _, err := (lowPriorityOp{}).Do(); err == nil {
		t.Error("Do accepted no input")
	}
	if _, err := (lowPriorityOp{}).SymDiff(nil, nil, nil); err == nil {
		t.Error("SymDiff differentiated the gate")
	}
	if _, err := (lowPriorityOp{}).InferShape(); err == nil {
		t.Error("InferShape accepted no input")
	}
}
