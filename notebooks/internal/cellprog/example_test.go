package cellprog_test

import (
	"fmt"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// Cells become one program: what each binds is seen by the cells after it.
func Example() {
	p, err := cellprog.New([]string{
		"import \"fmt\"\nfunc double(n int) int { return 2 * n }\nx := double(21)",
		"y := x + 1\nfmt.Println(y)",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Len(), "cells binding", p.Names(), "importing", p.Imports()["fmt"])
	// Output:
	// 2 cells binding [double x y] importing fmt
}
