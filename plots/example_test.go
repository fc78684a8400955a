package plots_test

import (
	"bytes"
	"fmt"

	"github.com/gnnlab/gognn/plots"
)

// A chart is a list of panels; PNG returns the encoded image, for a file or a notebook's
// display.PNG.
func Example() {
	loss := plots.Series{Name: "train loss", X: plots.Epochs(4), Y: []float64{1.9, 1.2, 0.8, 0.6}}
	b, err := plots.PNG(400, 300, plots.Panel{Title: "Training", XLabel: "epoch", YLabel: "loss (nats)", Series: []plots.Series{loss}})
	if err != nil {
		panic(err)
	}
	fmt.Println("PNG:", bytes.HasPrefix(b, []byte("\x89PNG")))
	// Output:
	// PNG: true
}
