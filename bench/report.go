package bench

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Claim is a number the seed project's README states for a row, at 100,000 nodes of degree 16.
type Claim struct {
	Op     string  `json:"op"`
	Text   string  `json:"text"`
	MS     float64 `json:"ms,omitempty"`
	PeakMB float64 `json:"peak_mb,omitempty"`
}

// ClaimN is the graph size the claims are stated for.
const ClaimN = 100000

// Claims are the seed README's figures (/work/shared/seed/README.md), unverified.
var Claims = []Claim{
	{Op: "aggregate_mean", Text: "message aggregation ~5 ms", MS: 5},
	{Op: "gcn_forward", Text: "GCN forward ~15 ms; 1-layer 128->64 peak ~50 MB", MS: 15, PeakMB: 50},
	{Op: "gat_forward", Text: "GAT 8 heads ~45 ms", MS: 45},
	{Op: "sage2_forward", Text: "GraphSAGE 2 layers ~25 ms", MS: 25},
}

func claimFor(op string) (Claim, bool) {
	for _, c := range Claims {
		if c.Op == op {
			return c, true
		}
	}
	return Claim{}, false
}

// Report is everything one benchmark run publishes.
type Report struct {
	Results []Result     `json:"results"`
	Peers   []PeerResult `json:"peers"`
	// PeerRuns are the peers' metadata per size (name, threads, output checks), PeerNote why
	// there are no peer numbers when there are none.
	PeerRuns []PeerRun `json:"peer_runs,omitempty"`
	PeerNote string    `json:"peer_note,omitempty"`
	Claims   []Claim   `json:"claims"`
	Notes    []string  `json:"notes,omitempty"`
	Env      any       `json:"env"`
}

// AddPeer records a peer run's results.
func (r *Report) AddPeer(p *PeerRun) {
	r.Peers = append(r.Peers, p.Results...)
	meta := *p
	meta.Results = nil
	r.PeerRuns = append(r.PeerRuns, meta)
}

// BestPeer returns the peer's fastest way for op at n nodes.
func (r *Report) BestPeer(op string, n int) (PeerResult, bool) {
	for _, p := range r.Peers {
		if p.Op == op && p.N == n && p.Best {
			return p, true
		}
	}
	return PeerResult{}, false
}

// PeerName names the peer measured ("PyTorch 1.13.0 (2 threads)").
func (r *Report) PeerName() string {
	if len(r.PeerRuns) > 0 {
		return fmt.Sprintf("%s, %d threads", r.PeerRuns[0].Name, r.PeerRuns[0].Threads)
	}
	return "PyTorch"
}

// Header is the table's column names.
func (r *Report) Header() []string {
	return []string{"op", "N", "p50 ms", "min ms", "GFLOP/s", "peak MB", "allocs/run", "PyTorch p50 ms (fastest way)", "ours / PyTorch", "seed claim (unverified)"}
}

// Rows returns the table's rows, one per measured op and size.
func (r *Report) Rows() [][]string {
	var rows [][]string
	for _, res := range r.Results {
		peer, ratio := "-", "-"
		if p, ok := r.BestPeer(res.Op, res.N); ok {
			peer = fmt.Sprintf("%.2f (%s)", p.P50MS, p.Variant)
			ratio = fmt.Sprintf("%.2f", res.P50MS/p.P50MS)
		} else if r.PeerNote != "" {
			peer = "n/a (" + r.PeerNote + ")"
		}
		claim := "-"
		if c, ok := claimFor(res.Op); ok && res.N == ClaimN {
			claim = c.Text
		}
		peak := "-"
		if res.PeakMB > 0 {
			peak = fmt.Sprintf("%.0f", res.PeakMB)
		}
		rows = append(rows, []string{
			res.Op, fmt.Sprint(res.N), fmt.Sprintf("%.2f", res.P50MS), fmt.Sprintf("%.2f", res.MinMS),
			fmt.Sprintf("%.1f", res.GFLOPS), peak, fmt.Sprintf("%.0f", res.AllocsPerRun), peer, ratio, claim,
		})
	}
	return rows
}

// WriteTable prints the table with tablewriter.
func (r *Report) WriteTable(w io.Writer) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header(r.Header())
	for _, row := range r.Rows() {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// Markdown returns the table as GitHub Markdown, with the peers' variants and the notes.
func (r *Report) Markdown() string {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	h := r.Header()
	line(h)
	sep := make([]string, len(h))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, row := range r.Rows() {
		line(row)
	}
	b.WriteString("\np50 and min over the timed runs after warm-up; GFLOP/s from the analytic FLOP count (package bench documentation) at p50; peak MB is the peak resident set of a separate process running only that op (inputs and graph included); allocs/run counts Go heap allocations per run in steady state.\n")
	for _, n := range r.Notes {
		b.WriteString("\n" + n + "\n")
	}
	if r.PeerNote != "" {
		b.WriteString("\nPyTorch peer: " + r.PeerNote + ".\n")
	}
	if len(r.Peers) > 0 {
		b.WriteString("\nEvery PyTorch variant (" + r.PeerName() + "; up to the same number of runs, fewer (at least 3) when a variant's runs exceed its time budget):\n\n| op | N | variant | p50 ms | min ms | runs |\n|---|---|---|---|---|---|\n")
		for _, p := range r.Peers {
			if p.Error != "" {
				fmt.Fprintf(&b, "| %s | %d | %s | %s | | |\n", p.Op, p.N, p.Variant, p.Error)
				continue
			}
			best := ""
			if p.Best {
				best = " (fastest)"
			}
			fmt.Fprintf(&b, "| %s | %d | %s%s | %.2f | %.2f | %d |\n", p.Op, p.N, p.Variant, best, p.P50MS, p.MinMS, p.Runs)
		}
		for _, pr := range r.PeerRuns {
			fmt.Fprintf(&b, "\nN=%d: the peer's outputs agree with ours on the first %d rows (max |diff|: aggregate_mean %.2g, gcn_forward %.2g).\n",
				pr.N, CheckRows, pr.Checks["aggregate_mean"], pr.Checks["gcn_forward"])
		}
	}
	return b.String()
}
