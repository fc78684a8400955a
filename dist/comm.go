package dist

import (
	"errors"
	"fmt"
	"sync"
)

// Comm is the group of processes that train one model together: the few collectives
// data-parallel training needs. Every process of the group must make the same calls in the same
// order with buffers of the same length, as in MPI. A Comm is used from one goroutine at a time.
type Comm interface {
	// Rank is this process's number in the group, 0 <= Rank < Size.
	Rank() int
	// Size is the number of processes in the group.
	Size() int
	// AllReduceSum32 replaces buf, on every process, by the element-wise sum of every
	// process's buf.
	AllReduceSum32(buf []float32) error
	// AllReduceSum64 is AllReduceSum32 for float64.
	AllReduceSum64(buf []float64) error
	// Broadcast32 replaces buf on every process by root's buf.
	Broadcast32(buf []float32, root int) error
	// AllGatherInt32 returns every process's part concatenated in rank order; parts may differ
	// in length.
	AllGatherInt32(part []int32) ([]int32, error)
	// AllToAll32 sends send[r] to process r and returns what each process sent to this one,
	// indexed by sender; the lengths are free and exchanged first. It is how a rank fetches
	// the feature rows of the remote nodes it sampled.
	AllToAll32(send [][]float32) ([][]float32, error)
	// AllToAllInt32 is AllToAll32 for int32 (node ids).
	AllToAllInt32(send [][]int32) ([][]int32, error)
	// Barrier returns once every process has called it.
	Barrier() error
	// Close ends this process's membership (MPI_Finalize for MPI) after a run that went
	// well. Calls after Close fail.
	Close() error
	// Abort ends the whole group after an error on this process (MPI_Abort for MPI, which
	// makes the launcher end every rank and name this one), so no rank waits forever in a
	// collective this one will never join. It returns only where the group has no launcher
	// (Local, NewGroup), after closing this member.
	Abort(code int)
	// Stats is what this process has handed to the collectives since it started.
	Stats() Stats
}

// Stats counts the payload bytes a process passed to the collectives: for an all-reduce, its
// buffer (what an implementation must move at least once in and out of the process, whatever
// its algorithm); for an all-to-all, the rows it sent to other processes.
type Stats struct {
	Calls     int64
	BytesSent int64
}

// ErrClosed is returned by calls on a closed Comm.
var ErrClosed = errors.New("dist: communicator is closed")

// Local is the group of one process: every collective is the identity. It is the default, so a
// training loop has one code path whether it runs alone or under mpirun.
func Local() Comm { return &local{} }

type local struct {
	closed bool
	stats  Stats
}

func (l *local) Rank() int { return 0 }
func (l *local) Size() int { return 1 }
func (l *local) check() error {
	if l.closed {
		return ErrClosed
	}
	l.stats.Calls++
	return nil
}
func (l *local) AllReduceSum32([]float32) error { return l.check() }
func (l *local) AllReduceSum64([]float64) error { return l.check() }
func (l *local) Broadcast32(_ []float32, root int) error {
	if root != 0 {
		return fmt.Errorf("dist: broadcast from rank %d in a group of 1", root)
	}
	return l.check()
}
func (l *local) AllGatherInt32(part []int32) ([]int32, error) {
	return append([]int32(nil), part...), l.check()
}
func (l *local) AllToAll32(send [][]float32) ([][]float32, error) {
	if len(send) != 1 {
		return nil, fmt.Errorf("dist: all-to-all with %d destinations in a group of 1", len(send))
	}
	return [][]float32{append([]float32(nil), send[0]...)}, l.check()
}
func (l *local) AllToAllInt32(send [][]int32) ([][]int32, error) {
	if len(send) != 1 {
		return nil, fmt.Errorf("dist: all-to-all with %d destinations in a group of 1", len(send))
	}
	return [][]int32{append([]int32(nil), send[0]...)}, l.check()
}
func (l *local) Barrier() error { return l.check() }
func (l *local) Close() error {
	l.closed = true
	return nil
}
func (l *local) Abort(int)    { l.closed = true }
func (l *local) Stats() Stats { return l.stats }

// NewGroup returns size communicators that talk to each other in memory, one per goroutine:
// the same collectives as MPI's, so data-parallel training can be tested, and its results
// compared with one process, without mpirun. Sums are taken in rank order, so they are
// deterministic.
func NewGroup(size int) ([]Comm, error) {
	if size < 1 {
		return nil, fmt.Errorf("dist: group of %d processes", size)
	}
	g := &group{size: size, parts: make([]any, size)}
	g.cond = sync.NewCond(&g.mu)
	cs := make([]Comm, size)
	for r := range cs {
		cs[r] = &member{g: g, rank: r}
	}
	return cs, nil
}

// group is a reusable rendezvous: every member deposits its part, the last one to arrive
// combines them, and all leave with the result before the next collective starts.
type group struct {
	mu      sync.Mutex
	cond    *sync.Cond
	size    int
	arrived int
	gen     int
	parts   []any
	result  any
	err     error
	closed  int
}

type member struct {
	g      *group
	rank   int
	closed bool
	stats  Stats
}

// exchange deposits part and returns combine(parts) once every member has arrived.
func (m *member) exchange(part any, combine func(parts []any) (any, error)) (any, error) {
	if m.closed {
		return nil, ErrClosed
	}
	g := m.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed > 0 {
		return nil, fmt.Errorf("dist: rank %d: %d member(s) of the group have closed; the collective cannot complete", m.rank, g.closed)
	}
	gen := g.gen
	g.parts[m.rank] = part
	g.arrived++
	if g.arrived == g.size {
		g.result, g.err = combine(g.parts)
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for gen == g.gen && g.closed == 0 {
			g.cond.Wait()
		}
		if gen == g.gen {
			return nil, fmt.Errorf("dist: rank %d: a member of the group closed during a collective", m.rank)
		}
	}
	m.stats.Calls++
	return g.result, g.err
}

func (m *member) Rank() int { return m.rank }
func (m *member) Size() int { return m.g.size }

func (m *member) AllReduceSum32(buf []float32) error { return allReduce(m, buf, 4) }

func (m *member) AllReduceSum64(buf []float64) error { return allReduce(m, buf, 8) }

// allReduce sums every member's buf in rank order and gives each the sum.
func allReduce[T float32 | float64](m *member, buf []T, size int64) error {
	res, err := m.exchange(buf, func(parts []any) (any, error) {
		sum := make([]T, len(parts[0].([]T)))
		for r, p := range parts {
			b := p.([]T)
			if len(b) != len(sum) {
				return nil, fmt.Errorf("dist: all-reduce of %d values on rank %d, %d on rank 0", len(b), r, len(sum))
			}
			for i, v := range b {
				sum[i] += v
			}
		}
		return sum, nil
	})
	if err != nil {
		return err
	}
	copy(buf, res.([]T))
	m.stats.BytesSent += size * int64(len(buf))
	return nil
}

func (m *member) Broadcast32(buf []float32, root int) error {
	if root < 0 || root >= m.g.size {
		return fmt.Errorf("dist: broadcast from rank %d in a group of %d", root, m.g.size)
	}
	res, err := m.exchange(buf, func(parts []any) (any, error) {
		return append([]float32(nil), parts[root].([]float32)...), nil
	})
	if err != nil {
		return err
	}
	if r := res.([]float32); len(r) != len(buf) {
		return fmt.Errorf("dist: broadcast of %d values from rank %d into %d on rank %d", len(r), root, len(buf), m.rank)
	}
	copy(buf, res.([]float32))
	if m.rank == root {
		m.stats.BytesSent += 4 * int64(len(buf))
	}
	return nil
}

func (m *member) AllGatherInt32(part []int32) ([]int32, error) {
	res, err := m.exchange(append([]int32(nil), part...), func(parts []any) (any, error) {
		var all []int32
		for _, p := range parts {
			all = append(all, p.([]int32)...)
		}
		return all, nil
	})
	if err != nil {
		return nil, err
	}
	m.stats.BytesSent += 4 * int64(len(part))
	return append([]int32(nil), res.([]int32)...), nil
}

func (m *member) AllToAll32(send [][]float32) ([][]float32, error) { return allToAll(m, send) }

func (m *member) AllToAllInt32(send [][]int32) ([][]int32, error) { return allToAll(m, send) }

func allToAll[T float32 | int32](m *member, send [][]T) ([][]T, error) {
	if len(send) != m.g.size {
		return nil, fmt.Errorf("dist: all-to-all with %d destinations in a group of %d", len(send), m.g.size)
	}
	cp := make([][]T, len(send))
	for r, s := range send {
		cp[r] = append([]T(nil), s...)
	}
	res, err := m.exchange(cp, func(parts []any) (any, error) { return append([]any(nil), parts...), nil })
	if err != nil {
		return nil, err
	}
	parts := res.([]any)
	recv := make([][]T, m.g.size)
	for r, p := range parts {
		recv[r] = append([]T(nil), p.([][]T)[m.rank]...)
		if r != m.rank {
			m.stats.BytesSent += 4 * int64(len(send[r]))
		}
	}
	return recv, nil
}

func (m *member) Barrier() error {
	_, err := m.exchange(nil, func([]any) (any, error) { return nil, nil })
	return err
}

func (m *member) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	m.g.mu.Lock()
	m.g.closed++
	m.g.cond.Broadcast()
	m.g.mu.Unlock()
	return nil
}

func (m *member) Abort(int) { m.Close() }

func (m *member) Stats() Stats { return m.stats }
