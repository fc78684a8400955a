//go:build mpi && cgo

package dist

/*
#cgo pkg-config: ompi-c
#include <stdlib.h>
#include <mpi.h>

// The MPI handles are macros over OpenMPI's globals, which cgo cannot name; these wrappers do.
static int gognn_init(int *rank, int *size) {
	int provided, rc;
	int inited = 0;
	MPI_Initialized(&inited);
	if (!inited) {
		rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
		if (rc != MPI_SUCCESS) return rc;
	}
	// Errors come back as codes, not as an abort of the whole job.
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int gognn_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int gognn_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int gognn_bcast_f32(float *buf, int n, int root) {
	return MPI_Bcast(buf, n, MPI_FLOAT, root, MPI_COMM_WORLD);
}
static int gognn_allgather_int(int *send, int *recv) {
	return MPI_Allgather(send, 1, MPI_INT, recv, 1, MPI_INT, MPI_COMM_WORLD);
}
static int gognn_allgatherv_i32(int *send, int n, int *recv, int *counts, int *displs) {
	return MPI_Allgatherv(send, n, MPI_INT, recv, counts, displs, MPI_INT, MPI_COMM_WORLD);
}
static int gognn_alltoall_int(int *send, int *recv) {
	return MPI_Alltoall(send, 1, MPI_INT, recv, 1, MPI_INT, MPI_COMM_WORLD);
}
static int gognn_alltoallv_f32(float *send, int *scounts, int *sdispls, float *recv, int *rcounts, int *rdispls) {
	return MPI_Alltoallv(send, scounts, sdispls, MPI_FLOAT, recv, rcounts, rdispls, MPI_FLOAT, MPI_COMM_WORLD);
}
static int gognn_alltoallv_i32(int *send, int *scounts, int *sdispls, int *recv, int *rcounts, int *rdispls) {
	return MPI_Alltoallv(send, scounts, sdispls, MPI_INT, recv, rcounts, rdispls, MPI_INT, MPI_COMM_WORLD);
}
static int gognn_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void gognn_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int gognn_finalize(void) { return MPI_Finalize(); }
static void gognn_error_string(int code, char *buf, int *len) { MPI_Error_string(code, buf, len); }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"time"
	"unsafe"
)

// mpiBuilt reports that this binary has the MPI transport.
const mpiBuilt = true

// mpiComm runs every MPI call on one goroutine locked to one OS thread, the thread that called
// MPI_Init_thread (MPI_THREAD_FUNNELED), so callers may be any goroutine.
type mpiComm struct {
	rank, size int
	calls      chan func()
	timeout    time.Duration
	broken     error
	closed     bool
	stats      Stats
}

// openMPI initialises MPI. timeout bounds every collective: a collective that has not returned
// by then (a rank died, or stopped calling) returns an error, after which the communicator is
// unusable.
func openMPI(timeout time.Duration) (Comm, error) {
	m := &mpiComm{calls: make(chan func()), timeout: timeout}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var rank, size C.int
		if rc := C.gognn_init(&rank, &size); rc != C.MPI_SUCCESS {
			errc <- mpiError("MPI_Init_thread", rc)
			return
		}
		m.rank, m.size = int(rank), int(size)
		errc <- nil
		for f := range m.calls {
			f()
		}
	}()
	if err := <-errc; err != nil {
		return nil, err
	}
	return m, nil
}

func mpiError(what string, rc C.int) error {
	buf := make([]byte, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.gognn_error_string(rc, (*C.char)(unsafe.Pointer(&buf[0])), &n)
	return fmt.Errorf("dist: %s failed: %s (MPI error %d)", what, string(buf[:n]), int(rc))
}

// do runs f on the MPI thread and waits for it at most m.timeout.
func (m *mpiComm) do(what string, f func() C.int) error {
	if m.closed {
		return ErrClosed
	}
	if m.broken != nil {
		return m.broken
	}
	done := make(chan C.int, 1)
	m.calls <- func() { done <- f() }
	var timer <-chan time.Time
	if m.timeout > 0 {
		t := time.NewTimer(m.timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case rc := <-done:
		if rc != C.MPI_SUCCESS {
			m.broken = mpiError(what, rc)
			return m.broken
		}
		m.stats.Calls++
		return nil
	case <-timer:
		m.broken = fmt.Errorf("dist: rank %d of %d (pid %d): %s did not complete within %v; another rank has likely died or stopped calling collectives", m.rank, m.size, os.Getpid(), what, m.timeout)
		return m.broken
	}
}

func (m *mpiComm) Rank() int    { return m.rank }
func (m *mpiComm) Size() int    { return m.size }
func (m *mpiComm) Stats() Stats { return m.stats }

func (m *mpiComm) AllReduceSum32(buf []float32) error {
	if len(buf) == 0 {
		return m.Barrier()
	}
	err := m.do("MPI_Allreduce", func() C.int { return C.gognn_allreduce_f32((*C.float)(&buf[0]), C.int(len(buf))) })
	if err == nil {
		m.stats.BytesSent += 4 * int64(len(buf))
	}
	return err
}

func (m *mpiComm) AllReduceSum64(buf []float64) error {
	if len(buf) == 0 {
		return m.Barrier()
	}
	err := m.do("MPI_Allreduce", func() C.int { return C.gognn_allreduce_f64((*C.double)(&buf[0]), C.int(len(buf))) })
	if err == nil {
		m.stats.BytesSent += 8 * int64(len(buf))
	}
	return err
}

func (m *mpiComm) Broadcast32(buf []float32, root int) error {
	if root < 0 || root >= m.size {
		return fmt.Errorf("dist: broadcast from rank %d in a group of %d", root, m.size)
	}
	if len(buf) == 0 {
		return m.Barrier()
	}
	err := m.do("MPI_Bcast", func() C.int { return C.gognn_bcast_f32((*C.float)(&buf[0]), C.int(len(buf)), C.int(root)) })
	if err == nil && m.rank == root {
		m.stats.BytesSent += 4 * int64(len(buf))
	}
	return err
}

// cInts returns n C ints (at least one, so &s[0] is valid); MPI reads and writes them only
// during the call they are passed to, as cgo requires of Go memory.
func cInts(n int) []C.int {
	if n == 0 {
		n = 1
	}
	return make([]C.int, n)
}

func (m *mpiComm) AllGatherInt32(part []int32) ([]int32, error) {
	counts, displs := cInts(m.size), cInts(m.size)
	mine := C.int(len(part))
	if err := m.do("MPI_Allgather", func() C.int { return C.gognn_allgather_int(&mine, &counts[0]) }); err != nil {
		return nil, err
	}
	total := 0
	for r := 0; r < m.size; r++ {
		displs[r] = C.int(total)
		total += int(counts[r])
	}
	send := cInts(len(part))
	for i, v := range part {
		send[i] = C.int(v)
	}
	recv := cInts(total)
	if err := m.do("MPI_Allgatherv", func() C.int {
		return C.gognn_allgatherv_i32(&send[0], mine, &recv[0], &counts[0], &displs[0])
	}); err != nil {
		return nil, err
	}
	m.stats.BytesSent += 4 * int64(len(part))
	out := make([]int32, total)
	for i := range out {
		out[i] = int32(recv[i])
	}
	return out, nil
}

func (m *mpiComm) AllToAll32(send [][]float32) ([][]float32, error) {
	return mpiAllToAll(m, send, func(s *float32, sc, sd *C.int, r *float32, rc, rd *C.int) C.int {
		return C.gognn_alltoallv_f32((*C.float)(s), sc, sd, (*C.float)(r), rc, rd)
	})
}

func (m *mpiComm) AllToAllInt32(send [][]int32) ([][]int32, error) {
	return mpiAllToAll(m, send, func(s *int32, sc, sd *C.int, r *int32, rc, rd *C.int) C.int {
		return C.gognn_alltoallv_i32((*C.int)(unsafe.Pointer(s)), sc, sd, (*C.int)(unsafe.Pointer(r)), rc, rd)
	})
}

// mpiAllToAll exchanges the counts (MPI_Alltoall), then the values (MPI_Alltoallv) of 4-byte
// elements.
func mpiAllToAll[T float32 | int32](m *mpiComm, send [][]T, call func(s *T, sc, sd *C.int, r *T, rc, rd *C.int) C.int) ([][]T, error) {
	if len(send) != m.size {
		return nil, fmt.Errorf("dist: all-to-all with %d destinations in a group of %d", len(send), m.size)
	}
	scounts, sdispls, rcounts, rdispls := cInts(m.size), cInts(m.size), cInts(m.size), cInts(m.size)
	total := 0
	for r, s := range send {
		scounts[r], sdispls[r] = C.int(len(s)), C.int(total)
		total += len(s)
	}
	if err := m.do("MPI_Alltoall", func() C.int { return C.gognn_alltoall_int(&scounts[0], &rcounts[0]) }); err != nil {
		return nil, err
	}
	flat := make([]T, total+1)
	for r, s := range send {
		copy(flat[sdispls[r]:], s)
	}
	rtotal := 0
	for r := 0; r < m.size; r++ {
		rdispls[r] = C.int(rtotal)
		rtotal += int(rcounts[r])
	}
	recv := make([]T, rtotal+1)
	if err := m.do("MPI_Alltoallv", func() C.int {
		return call(&flat[0], &scounts[0], &sdispls[0], &recv[0], &rcounts[0], &rdispls[0])
	}); err != nil {
		return nil, err
	}
	out := make([][]T, m.size)
	for r := range out {
		lo, hi := int(rdispls[r]), int(rdispls[r])+int(rcounts[r])
		out[r] = recv[lo:hi:hi]
		if r != m.rank {
			m.stats.BytesSent += 4 * int64(len(send[r]))
		}
	}
	return out, nil
}

// Abort calls MPI_Abort from the calling thread: the MPI thread may be blocked in a collective
// that will never complete, and MPI_Abort may be called from any thread.
func (m *mpiComm) Abort(code int) {
	C.gognn_abort(C.int(code))
	os.Exit(code)
}

func (m *mpiComm) Barrier() error {
	return m.do("MPI_Barrier", func() C.int { return C.gognn_barrier() })
}

// Close finalises MPI. A communicator whose collective timed out cannot finalise (its MPI
// thread is still inside the call) and returns the earlier error instead.
func (m *mpiComm) Close() error {
	if m.closed {
		return nil
	}
	if m.broken != nil {
		m.closed = true
		return m.broken
	}
	err := m.do("MPI_Finalize", func() C.int { return C.gognn_finalize() })
	m.closed = true
	close(m.calls)
	return err
}
