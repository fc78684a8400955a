package ops

import "testing"

var _ = register(aggregateContract("MaxAggregate", "max", MaxAggregate))

func TestMaxAggregate(t *testing.T) { runContract(t, "MaxAggregate") }
