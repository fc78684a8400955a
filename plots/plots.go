// Package plots draws the figures experiments and notebooks publish, over gonum/plot: line
// charts of named series (training curves, accuracy against depth, precision against feedback,
// latency against size on log-log axes, recall against throughput), heat maps (attention of one
// node over its neighbours and heads) and grouped bar charts, laid out in panels side by side.
// Save writes them as PNG or SVG by file extension; PNG returns PNG bytes of an exact pixel
// size, for a notebook's display.PNG.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/gnnlab/gognn/internal/atomicfile"
)

// Series is one named line.
type Series struct {
	Name string
	X, Y []float64
	// Colour, when > 0, draws the line in the palette's colour Colour-1 instead of the one of
	// the series' position, so that one run keeps its colour across panels.
	Colour int
	Dashed bool
}

// Panel is one chart: a title, axis labels (with units) and its lines.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX, LogY            bool
	// XTicks, when set, labels exactly these x values (for example the depths of a sweep).
	XTicks []float64
	// LegendBottom and LegendLeft move the legend away from the default top-right corner, where
	// rising curves end.
	LegendBottom, LegendLeft bool
	// Heatmap, when set, draws a matrix of coloured cells instead of Series (see Attention).
	Heatmap *Heatmap
	// Bars, when set, draws a grouped bar chart instead of Series.
	Bars *Bars
}

// palette is distinguishable in colour and in grey.
var palette = []color.Color{
	color.RGBA{0x1f, 0x77, 0xb4, 0xff},
	color.RGBA{0xd6, 0x27, 0x28, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff},
	color.RGBA{0x8c, 0x56, 0x4b, 0xff},
}

func (p Panel) build() (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = p.XLabel
	pl.Y.Label.Text = p.YLabel
	pl.Legend.Top = !p.LegendBottom
	pl.Legend.Left = p.LegendLeft
	if p.Heatmap != nil {
		return pl, p.Heatmap.add(pl)
	}
	if p.Bars != nil {
		return pl, p.Bars.add(pl)
	}
	pl.Add(plotter.NewGrid())
	if p.LogX {
		pl.X.Scale = plot.LogScale{}
		pl.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if p.LogY {
		pl.Y.Scale = plot.LogScale{}
		pl.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if len(p.XTicks) > 0 {
		ticks := make([]plot.Tick, len(p.XTicks))
		for i, x := range p.XTicks {
			ticks[i] = plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)}
		}
		pl.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	for k, s := range p.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for i := range s.X {
			pts[i].X, pts[i].Y = s.X[i], s.Y[i]
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		c := palette[k%len(palette)]
		if s.Colour > 0 {
			c = palette[(s.Colour-1)%len(palette)]
		}
		line.Color, points.Color = c, c
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		line.Width = vg.Points(1.5)
		points.Radius = vg.Points(1.5)
		if len(pts) > 60 {
			pl.Add(line)
			pl.Legend.Add(s.Name, line)
		} else {
			pl.Add(line, points)
			pl.Legend.Add(s.Name, line, points)
		}
	}
	return pl, nil
}

// Save draws the panels side by side into path (.png or .svg), each width x height.
func Save(path string, width, height vg.Length, panels ...Panel) error {
	if len(panels) == 0 {
		return errors.New("plots: nothing to draw")
	}
	total := vg.Length(len(panels)) * width
	var canvas interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(total, height), vgimg.UseDPI(DPI))}
	case ".svg":
		canvas = vgsvg.New(total, height)
	default:
		return fmt.Errorf("plots: %s: want a .png or .svg file", path)
	}
	if err := draw1(canvas, panels); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := canvas.WriteTo(w)
		return err
	})
}

// DPI is the resolution of PNG output: 110 dots per inch, so that 800 x 500 pixels (7.3 x 4.5
// inches) keeps gonum/plot's default 10-12 pt text readable at README size.
const DPI = 110

// draw1 lays the panels out in one row over the whole canvas and draws them.
func draw1(canvas vg.CanvasSizer, panels []Panel) error {
	plots := make([][]*plot.Plot, 1)
	for _, p := range panels {
		pl, err := p.build()
		if err != nil {
			return err
		}
		plots[0] = append(plots[0], pl)
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	cs := plot.Align(plots, tiles, dc)
	for j, pl := range plots[0] {
		pl.Draw(cs[0][j])
	}
	return nil
}

// Epochs returns 1..n as float64, the x values of a per-epoch curve.
func Epochs(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i + 1)
	}
	return x
}
