//go:build !(mpi && cgo)

package dist

import "time"

const mpiBuilt = false

func openMPI(time.Duration) (Comm, error) { return nil, ErrNoMPI }
