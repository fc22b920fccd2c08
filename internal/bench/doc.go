// Package bench holds DAP's end-to-end benchmarks, which measure DAP
// against a raw-driver baseline in the same run (these machines are noisy,
// so only ratios measured together mean something). The benchmarks live
// in bench_test.go; docs/benchmarks.md has the commands and figures.
package bench
