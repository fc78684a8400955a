package plots

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bars is a grouped bar chart: in each category, one bar per group, coloured and named in the
// legend by group; set it as a Panel's Bars. The y axis starts at 0.
type Bars struct {
	Categories []string   // x axis labels
	Groups     []BarGroup // each with one value per category
	// Format is the printf format of a label above each bar; empty for none.
	Format string
}

// BarGroup is one named set of bars, one value per category.
type BarGroup struct {
	Name   string
	Values []float64
}

func (b *Bars) add(pl *plot.Plot) error {
	if len(b.Categories) == 0 || len(b.Groups) == 0 {
		return errors.New("plots: bar chart without categories or groups")
	}
	top := 0.0
	for _, g := range b.Groups {
		if len(g.Values) != len(b.Categories) {
			return fmt.Errorf("plots: bar group %q has %d values for %d categories", g.Name, len(g.Values), len(b.Categories))
		}
		for _, v := range g.Values {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("plots: bar group %q has value %v: bars need finite values >= 0", g.Name, v)
			}
			top = math.Max(top, v)
		}
	}
	ticks := make([]plot.Tick, len(b.Categories))
	for i, c := range b.Categories {
		ticks[i] = plot.Tick{Value: float64(i), Label: c}
	}
	pl.X.Tick.Marker = plot.ConstantTicks(ticks)
	pl.X.Min, pl.X.Max = -0.5, float64(len(b.Categories))-0.5
	pl.Y.Min = 0
	legend := len(b.Groups) > 1 || b.Groups[0].Name != ""
	if b.Format != "" {
		top *= 1.12 // room for the labels
	}
	if legend {
		top *= 1 + 0.08*float64(len(b.Groups)) // room for the legend in the top corner
	}
	pl.Y.Max = math.Max(top, 1e-9)
	for k, g := range b.Groups {
		bp := barPlotter{b: b, k: k}
		pl.Add(bp)
		if legend {
			pl.Legend.Add(g.Name, bp)
		}
	}
	return nil
}

// barPlotter draws group k of a Bars.
type barPlotter struct {
	b *Bars
	k int
}

// span returns the x range of group k's bar in category i.
func (p barPlotter) span(i int) (lo, hi float64) {
	w := 0.8 / float64(len(p.b.Groups))
	lo = float64(i) - 0.4 + float64(p.k)*w
	return lo, lo + w*0.92
}

func (p barPlotter) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = 0
	for _, v := range p.b.Groups[p.k].Values {
		ymax = math.Max(ymax, v)
	}
	return -0.5, float64(len(p.b.Categories)) - 0.5, 0, ymax
}

func (p barPlotter) Plot(c draw.Canvas, pl *plot.Plot) {
	trX, trY := pl.Transforms(&c)
	col := palette[p.k%len(palette)]
	style := pl.X.Tick.Label
	style.XAlign, style.YAlign = draw.XCenter, draw.YBottom
	for i, v := range p.b.Groups[p.k].Values {
		lo, hi := p.span(i)
		x0, x1, y0, y1 := trX(lo), trX(hi), trY(0), trY(v)
		c.FillPolygon(col, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		if p.b.Format != "" {
			c.FillText(style, vg.Point{X: (x0 + x1) / 2, Y: y1 + vg.Points(2)}, fmt.Sprintf(p.b.Format, v))
		}
	}
}

// Thumbnail draws the legend's swatch.
func (p barPlotter) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(palette[p.k%len(palette)], c.ClipPolygonY(pts))
}
