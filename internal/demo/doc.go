// Package demo builds the deterministic sample database behind `dap demo`:
// an SQLite shop (customers, products, orders, order items) with realistic
// looking but fake personal data, for trying DAP without a real database.
//
// Files: demo.go (Ensure: create the file atomically, schema, indexes,
// view, ANALYZE), gen.go (the seeded generator and its word lists).
package demo
