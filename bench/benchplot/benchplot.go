// Package benchplot draws a bench.Report. It is apart from package bench so that the process
// measuring an op's peak memory does not load the plotting library.
package benchplot

import (
	"slices"

	"gonum.org/v1/plot/vg"

	"github.com/gnnlab/gognn/bench"
	"github.com/gnnlab/gognn/plots"
)

// Scaling draws time against N per op on log-log axes, ours and (when measured) the peer's
// fastest way, into path (.png or .svg).
func Scaling(r *bench.Report, path string) error {
	ours := plots.Panel{Title: "gognn: time per run against graph size", XLabel: "nodes N (degree 16)", YLabel: "p50 time (ms)", LogX: true, LogY: true, LegendBottom: true}
	peer := plots.Panel{Title: r.PeerName() + ", fastest way per op", XLabel: "nodes N (degree 16)", YLabel: "p50 time (ms)", LogX: true, LogY: true, LegendBottom: true}
	var ops []string
	for _, res := range r.Results {
		if !slices.Contains(ops, res.Op) {
			ops = append(ops, res.Op)
		}
	}
	for _, op := range ops {
		var s, p plots.Series
		s.Name, p.Name = op, op
		for _, res := range r.Results {
			if res.Op != op {
				continue
			}
			s.X = append(s.X, float64(res.N))
			s.Y = append(s.Y, res.P50MS)
			if b, ok := r.BestPeer(op, res.N); ok {
				p.X = append(p.X, float64(res.N))
				p.Y = append(p.Y, b.P50MS)
			}
		}
		ours.Series = append(ours.Series, s)
		if len(p.X) > 0 {
			peer.Series = append(peer.Series, p)
		}
	}
	panels := []plots.Panel{ours}
	if len(peer.Series) > 0 {
		panels = append(panels, peer)
	}
	return plots.Save(path, 14*vg.Centimeter, 11*vg.Centimeter, panels...)
}
