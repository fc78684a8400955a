//go:build !unix

package bench

import "os"

// maxRSS reports no peak resident set: systems outside unix (js/wasm, wasip1, Windows) have no
// ru_maxrss.
func maxRSS(*os.ProcessState) (float64, bool) { return 0, false }
