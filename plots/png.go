package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"

	"gonum.org/v1/plot/vg/vgimg"
)

// PNG draws the panels side by side on a white canvas of width x height pixels (at DPI) and
// returns the PNG bytes: what a notebook shows with Display(display.PNG(b)). 800 x 500 suits
// one or two panels at README size.
func PNG(width, height int, panels ...Panel) ([]byte, error) {
	if len(panels) == 0 {
		return nil, errors.New("plots: nothing to draw")
	}
	if width < 50 || height < 50 {
		return nil, fmt.Errorf("plots: a %d x %d pixel figure is too small to draw; want at least 50 x 50", width, height)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	stddraw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, stddraw.Src)
	c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(DPI))
	if err := draw1(c, panels); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
