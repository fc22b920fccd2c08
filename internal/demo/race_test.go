//go:build race

package demo

// testSizes keeps generation quick under the race detector, which slows
// the transpiled SQLite many times over.
var testSizes = sizes{customers: 1000, products: 100, orders: 2000}
