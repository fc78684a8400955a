package models_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/gnnlab/gognn/models"
)

// Ten graphs of two classes dealt into 5 stratified folds; fold 0 tests, and a stratified half
// of the rest is held out for choosing the epoch.
func ExampleStratifiedHoldout() {
	labels := []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}
	folds, _ := models.StratifiedFolds(labels, 5, rand.New(rand.NewPCG(1, 1)))
	train := models.FoldTrain(folds, 0)
	kept, held, _ := models.StratifiedHoldout(train, labels, 2, rand.New(rand.NewPCG(1, 2)))
	count := func(ids []int) (n [2]int) {
		for _, id := range ids {
			n[labels[id]]++
		}
		return n
	}
	fmt.Println("test", count(folds[0]), "train", count(kept), "validation", count(held))
	// Output: test [1 1] train [2 2] validation [2 2]
}

// Five folds of ten graphs: fold 2 tests, the previous fold (1) validates and the other three
// train, as PyTorch Geometric's kernel benchmark splits them.
func ExampleFoldTrainVal() {
	folds := [][]int{{0, 5}, {1, 6}, {2, 7}, {3, 8}, {4, 9}}
	train, val, _ := models.FoldTrainVal(folds, 2)
	fmt.Println("test", folds[2], "validation", val, "train", train)
	// Output: test [2 7] validation [1 6] train [0 5 3 8 4 9]
}
