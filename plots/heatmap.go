package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Heatmap is a matrix drawn as coloured cells, from white (Min) to dark blue (Max), or with
// Diverging from red (negative) through white (0) to blue (positive), each cell labelled with its
// value; set it as a Panel's Heatmap. Row 0 is at the top.
type Heatmap struct {
	Values     [][]float64 // Values[r][c]; every row has len(Cols) values
	Rows, Cols []string    // labels of the rows (y axis, top to bottom) and of the columns (x axis)
	// Min and Max span the colour scale; when both are 0 it spans the values.
	Min, Max float64
	// Format is the printf format of each cell's label: "%.2f" when empty, "-" for none.
	Format string
	// Diverging colours signed values: red below 0, blue above, white at 0, on a scale
	// symmetric about 0 (to the largest |value|, or to max(|Min|, |Max|) when they are set).
	Diverging bool
}

var (
	heatNeg  = color.RGBA{0xb2, 0x18, 0x2b, 0xff}
	heatLow  = color.RGBA{0xff, 0xff, 0xff, 0xff}
	heatHigh = color.RGBA{0x08, 0x30, 0x6b, 0xff}
)

func (h *Heatmap) check() error {
	if len(h.Values) == 0 || len(h.Values[0]) == 0 {
		return errors.New("plots: heat map without values")
	}
	if len(h.Rows) != len(h.Values) {
		return fmt.Errorf("plots: heat map with %d rows of values and %d row labels", len(h.Values), len(h.Rows))
	}
	for r, row := range h.Values {
		if len(row) != len(h.Cols) {
			return fmt.Errorf("plots: heat map row %d (%q) has %d values for %d column labels", r, h.Rows[r], len(row), len(h.Cols))
		}
	}
	return nil
}

// scale returns the colour range.
func (h *Heatmap) scale() (lo, hi float64) {
	if h.Min != 0 || h.Max != 0 {
		if h.Diverging {
			m := math.Max(math.Abs(h.Min), math.Abs(h.Max))
			return -m, m
		}
		return h.Min, h.Max
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range h.Values {
		for _, v := range row {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if h.Diverging {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		return -m, m
	}
	return lo, hi
}

// add puts the cells on pl and labels its axes with the row and column names.
func (h *Heatmap) add(pl *plot.Plot) error {
	if err := h.check(); err != nil {
		return err
	}
	nr, nc := len(h.Values), len(h.Cols)
	pl.Add(heatCells{h})
	xt := make([]plot.Tick, nc)
	for c, l := range h.Cols {
		xt[c] = plot.Tick{Value: float64(c), Label: l}
	}
	yt := make([]plot.Tick, nr)
	for r, l := range h.Rows {
		yt[r] = plot.Tick{Value: float64(nr - 1 - r), Label: l}
	}
	pl.X.Tick.Marker, pl.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	pl.X.Padding, pl.Y.Padding = 0, 0
	pl.X.Min, pl.X.Max = -0.5, float64(nc)-0.5
	pl.Y.Min, pl.Y.Max = -0.5, float64(nr)-0.5
	return nil
}

// heatCells is the gonum/plot Plotter of a Heatmap.
type heatCells struct{ h *Heatmap }

func (p heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, float64(len(p.h.Cols)) - 0.5, -0.5, float64(len(p.h.Values)) - 0.5
}

func (p heatCells) Plot(c draw.Canvas, pl *plot.Plot) {
	trX, trY := pl.Transforms(&c)
	lo, hi := p.h.scale()
	format := p.h.Format
	if format == "" {
		format = "%.2f"
	}
	style := pl.X.Tick.Label
	style.XAlign, style.YAlign = draw.XCenter, draw.YCenter
	nr := len(p.h.Values)
	for r, row := range p.h.Values {
		y := float64(nr - 1 - r)
		for col, v := range row {
			x := float64(col)
			t := 0.0
			if hi > lo {
				t = math.Max(0, math.Min(1, (v-lo)/(hi-lo)))
			}
			x0, x1, y0, y1 := trX(x-0.5), trX(x+0.5), trY(y-0.5), trY(y+0.5)
			fill := mix(heatLow, heatHigh, t)
			dark := t > 0.55
			if p.h.Diverging { // t = 0.5 is zero
				if t < 0.5 {
					fill = mix(heatLow, heatNeg, 1-2*t)
				} else {
					fill = mix(heatLow, heatHigh, 2*t-1)
				}
				dark = math.Abs(2*t-1) > 0.55
			}
			if math.IsNaN(v) {
				fill = color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
			}
			c.FillPolygon(fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			if format == "-" || math.IsNaN(v) {
				continue
			}
			style.Color = color.Black
			if dark {
				style.Color = color.White
			}
			c.FillText(style, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, fmt.Sprintf(format, v))
		}
	}
}

// mix interpolates linearly between a (t = 0) and b (t = 1).
func mix(a, b color.RGBA, t float64) color.RGBA {
	f := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 0xff}
}
