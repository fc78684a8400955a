package dist

import (
	"errors"
	"os"
	"time"
)

// DefaultTimeout bounds each collective of a communicator from Open: long enough for the
// slowest step of a large graph, short enough that a rank whose peer died does not wait forever
// when the launcher has not already ended it.
const DefaultTimeout = 10 * time.Minute

// UnderMPI reports whether this process was started by an MPI launcher (mpirun or mpiexec of
// Open MPI, MPICH or Intel MPI), from the environment the launchers set.
func UnderMPI() bool {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"} {
		if _, ok := os.LookupEnv(k); ok {
			return true
		}
	}
	return false
}

// ErrNoMPI is returned by Open in a process started by mpirun when the binary was built without
// the MPI transport.
var ErrNoMPI = errors.New("dist: started by an MPI launcher but built without MPI; build with -tags mpi (needs cgo and libopenmpi-dev)")

// Open returns the communicator of this process: MPI's world when the binary is built with
// -tags mpi and started by mpirun, and Local otherwise. timeout bounds each collective (0:
// DefaultTimeout; negative: no bound).
func Open(timeout time.Duration) (Comm, error) {
	if !UnderMPI() {
		return Local(), nil
	}
	if !mpiBuilt {
		return nil, ErrNoMPI
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 {
		timeout = 0
	}
	return openMPI(timeout)
}
