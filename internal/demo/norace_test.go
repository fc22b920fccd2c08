//go:build !race

package demo

// testSizes is the real demo database without the race detector.
var testSizes = fullSizes
