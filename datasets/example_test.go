package datasets_test

import (
	"fmt"
	"log"

	"github.com/gnnlab/gognn/datasets"
)

// Load Cora from the directory named by -data or $GNN_DATA, downloading what is missing, with
// the row-normalised features GCN is trained on.
func ExampleLoadPlanetoid() {
	var dataFlag string // an experiment's -data flag
	cora, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir(dataFlag)), datasets.RowNormalize())
	if err != nil {
		log.Fatal(err)
	}
	x := cora.Features.Dense() // NumNodes x NumFeatures, row-major
	fmt.Println(cora.NumNodes(), cora.NumFeatures(), cora.NumClasses, len(x))
	fmt.Println(cora.Graph.NumEdges(), len(cora.Train), len(cora.Val), len(cora.Test))
}
