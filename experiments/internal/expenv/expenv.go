// Package expenv records where an experiment ran (CPU, Go version, commit, threads, the SIMD
// kernels chosen, seed) and writes its results, so every number the project publishes carries
// its provenance. Every experiment that publishes numbers links it (experiments/web, a demo page,
// does not), and through it opts into the project's SGEMM (blas.Use) before main runs, so every
// published figure is measured with the BLAS the README states.
package expenv

import (
	"bufio"
	"encoding/json"
	"flag"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/gnnlab/gognn/blas"
	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/ops/asm"
)

// The experiments are programs, not libraries: installing the BLAS for the whole process is
// theirs to decide, and they all decide the same.
func init() { blas.Use() }

// Env describes the machine and build an experiment ran on.
type Env struct {
	CPU        string `json:"cpu"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	Go         string `json:"go"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Commit     string `json:"commit"`
	Kernels    string `json:"kernels"`
	Seed       uint64 `json:"seed"`
}

// Current returns the environment of this process; seed is the experiment's base seed.
func Current(seed uint64) Env {
	return Env{
		CPU:        cpuModel(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		Go:         runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Commit:     commit(),
		Kernels:    asm.Backend(),
		Seed:       seed,
	}
}

// String is a one-line summary for the head of a printed table.
func (e Env) String() string {
	return e.CPU + ", " + e.GOOS + "/" + e.GOARCH + ", " + e.Go + ", GOMAXPROCS=" +
		itoa(e.GOMAXPROCS) + ", kernels " + e.Kernels + ", commit " + e.Commit
}

func itoa(v int) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	// go run does not stamp VCS information; ask git when it is there.
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		rev += "-dirty"
	}
	return rev
}

// WriteJSON writes v as indented JSON to dir/name atomically, creating dir.
func WriteJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, name), append(data, '\n'), 0o644)
}

// Flags holds the flags every experiment shares.
type Flags struct {
	Seed uint64
	Out  string
	Data string
}

// Register adds -seed, -out and -data to fs with the experiment's default output directory.
func (f *Flags) Register(fs *flag.FlagSet, defaultOut string) {
	fs.Uint64Var(&f.Seed, "seed", 1, "base random seed")
	fs.StringVar(&f.Out, "out", defaultOut, "directory for results.json and plots")
	fs.StringVar(&f.Data, "data", "", "data directory (default $GNN_DATA, else the user cache dir)")
}

// NewTable returns the table every experiment prints: headers as written, not upper-cased.
func NewTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
}

// MeanStd returns the mean and the sample standard deviation (n-1) of v; the deviation of a
// single value is 0.
func MeanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)-1))
}
