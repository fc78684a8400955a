package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
)

// RunChild is the body of the process PeakRSS measures: it generates the inputs of cfg, returns
// the garbage of that to the OS and resets the kernel's high-water mark of the resident set
// (writing 5 to /proc/self/clear_refs), then builds op and runs it Warmup+1 times (at least
// twice). The peak it reports is that of building and running the op with its inputs resident,
// not that of generating the inputs (a random graph's construction has its own temporaries).
func RunChild(cfg Config, op string) error {
	cfg = cfg.withDefaults()
	in, err := NewInputs(cfg)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(op, "_train_step") {
		in.Labels = nil // only the training steps read them
	}
	debug.FreeOSMemory()
	// Linux 4.0+; where it fails the peak includes the generation of the inputs, an overestimate.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	w, err := Build(in, op)
	if err != nil {
		return err
	}
	defer w.Close()
	for i := 0; i < max(cfg.Warmup+1, 2); i++ {
		if err := w.Run(); err != nil {
			return err
		}
	}
	if err := w.CheckFinite(); err != nil {
		return err
	}
	// The kernel's high-water mark of this process's own address space: unlike ru_maxrss it
	// does not inherit the parent's resident set from before the exec.
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Println(line)
			}
		}
	}
	return nil
}

// PeakRSS runs exe with args (a process that calls RunChild) and returns its peak resident set
// in MB (10^6 bytes): the VmHWM line RunChild prints from /proc/self/status, else the kernel's
// accounting of the finished child (getrusage ru_maxrss), which on Linux is at least the
// parent's resident set when the child was started.
func PeakRSS(exe string, args ...string) (float64, error) {
	cmd := exec.Command(exe, args...)
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("bench: peak-memory child %s %s: %v: %s", exe, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%g kB", &kb); err == nil {
				return kb * 1024 / 1e6, nil
			}
		}
	}
	mb, ok := maxRSS(cmd.ProcessState)
	if !ok {
		return 0, fmt.Errorf("bench: no resource usage for the child on this system")
	}
	return mb, nil
}

// Footprint returns the bytes a forward op cannot avoid holding: its input features, its
// output, the graph (row pointers and column indices as stored) and its weights; for
// gcn_forward, sage2_forward, gat_forward, gatv2_forward and gin_forward at width Hidden. It is the yardstick of the
// peak-memory target.
func Footprint(cfg Config, op string) float64 {
	cfg = cfg.withDefaults()
	n, f, h := float64(cfg.N), float64(cfg.F), float64(cfg.Hidden)
	graphBytes := (n+1)*8 + n*float64(cfg.Deg)*4
	in := n * f * 4
	switch op {
	case "aggregate_mean":
		return in + n*f*4 + graphBytes
	case "gcn_forward":
		return in + n*h*4 + graphBytes + (f*h+h)*4
	case "gat_forward":
		return in + n*h*4 + graphBytes + (f*h+3*h)*4
	case "sage2_forward":
		return in + n*h*4 + graphBytes + (2*f*h+2*h*h+2*h)*4
	case "gatv2_forward":
		return in + n*h*4 + graphBytes + (2*f*h+2*h)*4
	case "gin_forward":
		return in + n*h*4 + graphBytes + (f*h+h*h+2*h+1)*4
	}
	return 0
}
