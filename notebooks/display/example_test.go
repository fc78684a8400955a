package display_test

import (
	"fmt"

	"github.com/gnnlab/gognn/notebooks/display"
)

// A constructor returns a bundle: the content in its format and a plain-text fallback. In a
// notebook, the runner and the gognn kernel show it; outside them it is only built.
func Example() {
	d := display.HTML("<b>81.5%</b>")
	fmt.Println(d.Data[display.MIMETypeHTML])
	fmt.Println(display.DetectType([]byte("\x89PNG\r\n\x1a\n...")))
	// Output:
	// <b>81.5%</b>
	// image/png
}
