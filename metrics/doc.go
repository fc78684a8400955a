// Package metrics scores predictions the way the reference tools do, so that figures compare
// with published ones: ROC AUC and average precision as scikit-learn computes them
// (roc_auc_score, average_precision_score; tied scores handled as sklearn handles them), Hits@K
// and MRR as the Open Graph Benchmark's link-prediction evaluator, and classification accuracy.
//
// Scores are float64; labels are booleans (true = positive). Functions return an error for
// inputs they cannot score (lengths that differ, no positive or no negative, NaN scores), never
// a silent NaN.
package metrics
