package arch_test

import (
	"fmt"

	"github.com/gnnlab/gognn/internal/arch"
)

func Example() {
	fmt.Println(arch.Check("gat", "", 1433, 8, 8, 7, 1, 0.6))
	fmt.Println(arch.Check("sage", "median", 1433, 64, 0, 7, 0, 0.5))
	// Output:
	// <nil>
	// architecture sage with aggregator "median": want mean, max, sum or lstm
}
