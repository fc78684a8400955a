//go:build mpi && cgo

package dist

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gnnlab/gognn/models"
)

// The tests named MPI run inside mpirun (make test-mpi: mpirun -np 2 on the compiled test
// binary); TestLaunch starts mpirun itself. Outside mpirun the MPI tests skip.

func openWorld(t *testing.T) Comm {
	t.Helper()
	if !UnderMPI() {
		t.Skip("not started by mpirun (make test-mpi runs these tests under mpirun -np 2)")
	}
	c, err := world()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// world opens MPI once per process: MPI cannot be initialised again after MPI_Finalize.
var worldComm Comm

func world() (Comm, error) {
	if worldComm != nil {
		return worldComm, nil
	}
	c, err := Open(2 * time.Minute)
	worldComm = c
	return c, err
}

func TestMPICollectives(t *testing.T) {
	c := openWorld(t)
	if c.Size() < 2 {
		t.Fatalf("world of %d process(es); run under mpirun -np 2", c.Size())
	}
	r := float32(c.Rank())
	buf := []float32{r, 1}
	if err := c.AllReduceSum32(buf); err != nil {
		t.Fatal(err)
	}
	n := float32(c.Size())
	if buf[0] != n*(n-1)/2 || buf[1] != n {
		t.Fatalf("all-reduce gave %v", buf)
	}
	b64 := []float64{float64(c.Rank())}
	if err := c.AllReduceSum64(b64); err != nil || b64[0] != float64(n*(n-1)/2) {
		t.Fatalf("all-reduce float64 gave %v, %v", b64, err)
	}
	bc := []float32{r}
	if err := c.Broadcast32(bc, c.Size()-1); err != nil || bc[0] != n-1 {
		t.Fatalf("broadcast gave %v, %v", bc, err)
	}
	all, err := c.AllGatherInt32(make([]int32, c.Rank()+1))
	if err != nil || len(all) != int(n*(n+1)/2) {
		t.Fatalf("all-gather gave %d values, %v", len(all), err)
	}
	send := make([][]float32, c.Size())
	for d := range send {
		send[d] = []float32{float32(10*c.Rank() + d), 0}
	}
	recv, err := c.AllToAll32(send)
	if err != nil {
		t.Fatal(err)
	}
	for s := range recv {
		if len(recv[s]) != 2 || recv[s][0] != float32(10*s+c.Rank()) {
			t.Fatalf("all-to-all from rank %d gave %v", s, recv[s])
		}
	}
	if err := c.Barrier(); err != nil {
		t.Fatal(err)
	}
}

// TestMPIDataParallel trains on every rank over MPI and checks that every rank holds the same
// weights after 100 steps, and that they match one process training on the whole batches.
func TestMPIDataParallel(t *testing.T) {
	c := openWorld(t)
	g, feats, labels := classes(120, 3, 5)
	train := make([]int, 64)
	for i := range train {
		train[i] = i
	}
	task := sageTask(g, feats, labels, train)
	first, final, err := trainWorker(c, task, 25)
	if err != nil {
		t.Fatal(err)
	}
	one, oneFinal, err := trainWorker(Local(), task, 25)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		for k := range one[i] {
			if d := one[i][k] - first[i][k]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("rank %d: first-step gradient %d/%d is %v, one process %v", c.Rank(), i, k, first[i][k], one[i][k])
			}
		}
	}
	// Rank 0's weights, broadcast as float32 pairs would lose bits: compare float64 through an
	// all-reduce of the differences from rank 0's values instead.
	var flat []float64
	for _, p := range final {
		flat = append(flat, p...)
	}
	mine := append([]float64(nil), flat...)
	if c.Rank() != 0 {
		for i := range flat {
			flat[i] = 0
		}
	}
	if err := c.AllReduceSum64(flat); err != nil {
		t.Fatal(err)
	}
	k := 0
	for i := range final {
		for j := range final[i] {
			if mine[k] != flat[k] {
				t.Fatalf("rank %d: parameter %d value %d is %v, rank 0 has %v", c.Rank(), i, j, mine[k], flat[k])
			}
			if d := mine[k] - oneFinal[i][j]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("rank %d: parameter %d value %d is %v, one process %v", c.Rank(), i, j, mine[k], oneFinal[i][j])
			}
			k++
		}
	}
	_ = models.StepResult{}
}

// TestMPIDiesMidTraining is started by TestLaunchKilledRank: the rank named by GOGNN_KILL_RANK
// kills itself in the middle of training.
func TestMPIDiesMidTraining(t *testing.T) {
	victim, how := os.Getenv("GOGNN_KILL_RANK"), os.Getenv("GOGNN_KILL_HOW")
	if victim == "" {
		t.Skip("started by TestLaunchKilledRank only")
	}
	c := openWorld(t)
	buf := make([]float32, 1024)
	for step := 0; ; step++ {
		if step == 20 && victim == string(rune('0'+c.Rank())) {
			if how == "abort" {
				// A rank whose training failed: it aborts the group instead of leaving the
				// others in the next collective.
				fmt.Fprintf(os.Stderr, "rank %d: failing at step %d\n", c.Rank(), step)
				c.Abort(3)
			}
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		if err := c.AllReduceSum32(buf); err != nil {
			t.Fatalf("rank %d: %v", c.Rank(), err)
		}
	}
}

// TestLaunchKilledRank runs two ranks, kills one mid-training, and checks that the job ends,
// with an error that names the dead rank, instead of hanging; then the same with a rank that
// fails and aborts.
func TestLaunchKilledRank(t *testing.T) {
	if UnderMPI() {
		t.Skip("launches mpirun itself")
	}
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not installed (Debian package openmpi-bin)")
	}
	for _, how := range []string{"kill", "abort"} {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		cmd := exec.CommandContext(ctx, mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2", os.Args[0], "-test.run", "^TestMPIDiesMidTraining$")
		cmd.Env = append(os.Environ(), "GOGNN_KILL_RANK=1", "GOGNN_KILL_HOW="+how)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() == context.DeadlineExceeded
		cancel()
		if timedOut {
			t.Fatalf("%s: the job was still running after %v: the failed rank made the others hang\n%s", how, time.Since(start), out)
		}
		if err == nil {
			t.Fatalf("%s: the job with a failed rank exited 0\n%s", how, out)
		}
		if !strings.Contains(string(out), "rank 1") {
			t.Fatalf("%s: the job's output does not name rank 1:\n%s", how, out)
		}
		t.Logf("%s: ended after %v with %v; mpirun said:\n%s", how, time.Since(start).Round(time.Millisecond), err, lastLines(string(out), 6))
	}
}

// TestMain finalises MPI after the tests: a rank that exits without MPI_Finalize is an abnormal
// termination to mpirun.
func TestMain(m *testing.M) {
	code := m.Run()
	if worldComm != nil {
		if err := worldComm.Close(); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
