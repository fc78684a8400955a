package bench

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PeerResult is one variant of one op timed by a peer (PyTorch).
type PeerResult struct {
	Op      string  `json:"op"`
	N       int     `json:"n"`
	Deg     int     `json:"deg"`
	Variant string  `json:"variant"`
	P50MS   float64 `json:"p50_ms,omitempty"`
	MinMS   float64 `json:"min_ms,omitempty"`
	Runs    int     `json:"runs,omitempty"`
	Best    bool    `json:"best"` // the fastest variant of this op and size
	Error   string  `json:"error,omitempty"`
}

// PeerRun is what a peer process reported for one input size.
type PeerRun struct {
	Name    string `json:"name"` // e.g. "PyTorch 1.13.0"
	N       int    `json:"n"`
	Threads int    `json:"threads"`
	// Checks holds, per op, the largest absolute difference between the peer's output and ours
	// on the rows the peer was given.
	Checks  map[string]float64 `json:"checks"`
	Results []PeerResult       `json:"results"`
}

// CheckRows is how many leading output rows of aggregate_mean and gcn_forward the peer compares.
const CheckRows = 256

// WritePeerData writes the inputs and reference outputs to dir for a peer to read:
//
//	header.json   {"n", "deg", "f", "hidden", "classes", "edges", "check_rows", "seed"}
//	rowptr.i32    N+1 little-endian int32 row pointers (edges sorted by destination)
//	col.i32       E int32 source ids
//	x.f32         N x F float32 features, row-major
//	labels.i32    N int32 labels
//	gcn_w.f32     F x Hidden, gcn_b.f32 Hidden: the weights of our gcn_forward
//	check_aggregate_mean.f32, check_gcn_forward.f32: our outputs' first check_rows rows
func WritePeerData(dir string, in *Inputs) error {
	cfg := in.Cfg
	a := in.Graph
	k := min(CheckRows, cfg.N)
	rowptr := make([]int32, len(a.RowPtr))
	for i, v := range a.RowPtr {
		rowptr[i] = int32(v)
	}
	labels := make([]int32, len(in.Labels))
	for i, v := range in.Labels {
		labels[i] = int32(v)
	}
	files := map[string]any{
		"rowptr.i32": rowptr, "col.i32": a.ColIdx, "x.f32": in.X.Float32s(), "labels.i32": labels,
	}
	for _, op := range []string{"aggregate_mean", "gcn_forward"} {
		w, err := Build(in, op)
		if err != nil {
			return err
		}
		if err := w.Run(); err != nil {
			w.Close()
			return err
		}
		out, shape, err := w.Output()
		if err != nil {
			w.Close()
			return err
		}
		files["check_"+op+".f32"] = out[:k*shape[1]]
		if op == "gcn_forward" {
			files["gcn_w.f32"] = w.Params[0].Value().Data()
			files["gcn_b.f32"] = w.Params[1].Value().Data()
		}
		w.Close()
	}
	for name, data := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = binary.Write(f, binary.LittleEndian, data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("bench: writing %s: %w", name, err)
		}
	}
	hdr, _ := json.Marshal(map[string]any{
		"n": cfg.N, "deg": cfg.Deg, "f": cfg.F, "hidden": cfg.Hidden, "classes": cfg.Classes,
		"edges": a.NumEdges(), "check_rows": k, "seed": cfg.Seed,
	})
	return os.WriteFile(filepath.Join(dir, "header.json"), hdr, 0o644)
}

// PeerOptions sets up a peer run.
type PeerOptions struct {
	Python  string // interpreter, e.g. /usr/bin/python3
	Script  string // experiments/bench/peers/peer_torch.py
	Threads int
	Repeat  int
	Warmup  int
	Ops     []string
	// Variants limits the ways the peer runs each op to some of "csr", "coo", "index_add", or
	// "fast" (CSR, and the PyG-style scatter for GAT: the fastest ways on this hardware)
	// (empty: csr, coo and index_add).
	Variants []string
	// Budget caps the seconds of timed runs per variant (at least 3 runs); 0: 15.
	Budget float64
}

// RunPeer writes the inputs to a temporary directory, runs the peer script on them and returns
// what it measured. It fails, naming the reason, when the interpreter cannot import torch.
func RunPeer(in *Inputs, o PeerOptions) (*PeerRun, error) {
	if o.Python == "" {
		return nil, fmt.Errorf("no Python interpreter given")
	}
	if out, err := exec.Command(o.Python, "-c", "import torch").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s cannot import torch: %s", o.Python, lastLine(string(out)))
	}
	if _, err := os.Stat(o.Script); err != nil {
		return nil, fmt.Errorf("peer script: %w (run from the repository root)", err)
	}
	dir, err := os.MkdirTemp("", "gognn-bench-peer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := WritePeerData(dir, in); err != nil {
		return nil, err
	}
	ops := o.Ops
	if len(ops) == 0 {
		ops = in.Cfg.Ops
	}
	cmd := exec.Command(o.Python, o.Script, "-dir", dir, "-threads", fmt.Sprint(o.Threads),
		"-repeat", fmt.Sprint(o.Repeat), "-warmup", fmt.Sprint(o.Warmup), "-ops", strings.Join(ops, ","))
	if o.Budget > 0 {
		cmd.Args = append(cmd.Args, "-budget", fmt.Sprint(o.Budget))
	}
	if len(o.Variants) > 0 {
		cmd.Args = append(cmd.Args, "-variants", strings.Join(o.Variants, ","))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", o.Python, o.Script, err, lastLine(stderr.String()))
	}
	var run PeerRun
	if err := json.Unmarshal(out, &run); err != nil {
		return nil, fmt.Errorf("peer output %q: %v", lastLine(string(out)), err)
	}
	run.N = in.Cfg.N
	best := map[string]int{}
	for i := range run.Results {
		r := &run.Results[i]
		r.N, r.Deg = in.Cfg.N, in.Cfg.Deg
		if r.Error != "" {
			continue
		}
		if j, ok := best[r.Op]; !ok || r.P50MS < run.Results[j].P50MS {
			best[r.Op] = i
		}
	}
	for _, i := range best {
		run.Results[i].Best = true
	}
	return &run, nil
}

// BestPeer returns the fastest variant the peer ran for op, if any.
func (p *PeerRun) BestPeer(op string) (PeerResult, bool) {
	if p == nil {
		return PeerResult{}, false
	}
	for _, r := range p.Results {
		if r.Op == op && r.Best {
			return r, true
		}
	}
	return PeerResult{}, false
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
