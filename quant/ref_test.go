package quant

import "github.com/gnnlab/gognn/internal/kernels"

// The reference loops, the oracle of these tests, live with the kernels.
var (
	toFloat16Ref   = kernels.ToFloat16Ref
	fromFloat16Ref = kernels.FromFloat16Ref
	matMulInt8Ref  = kernels.MatMulInt8Ref
)
