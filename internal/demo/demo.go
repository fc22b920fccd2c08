package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the demo database's file name inside the demo directory.
const FileName = "shop.db"

// Sizes of the generated tables (order items average three per order).
const (
	NumCustomers = 10_000
	NumProducts  = 500
	NumOrders    = 50_000
)

// sizes are the row counts of one generation; tests under the race
// detector use smaller ones.
type sizes struct{ customers, products, orders int }

var fullSizes = sizes{NumCustomers, NumProducts, NumOrders}

const schema = `
CREATE TABLE customers (
	id INTEGER PRIMARY KEY,
	first_name TEXT NOT NULL,
	last_name TEXT NOT NULL,
	email TEXT NOT NULL,
	phone TEXT NOT NULL,
	street TEXT NOT NULL,
	city TEXT NOT NULL,
	postal_code TEXT NOT NULL,
	country TEXT NOT NULL,
	date_of_birth DATE NOT NULL,
	card_number TEXT NOT NULL,
	notes TEXT,
	created_at DATETIME NOT NULL
);
CREATE TABLE products (
	id INTEGER PRIMARY KEY,
	sku TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	category TEXT NOT NULL,
	price REAL NOT NULL,
	stock INTEGER NOT NULL
);
CREATE TABLE orders (
	id INTEGER PRIMARY KEY,
	customer_id INTEGER NOT NULL REFERENCES customers(id),
	status TEXT NOT NULL CHECK (status IN ('pending','paid','shipped','delivered','cancelled')),
	ordered_at DATETIME NOT NULL,
	total REAL NOT NULL,
	shipping_city TEXT NOT NULL
);
CREATE TABLE order_items (
	id INTEGER PRIMARY KEY,
	order_id INTEGER NOT NULL REFERENCES orders(id),
	product_id INTEGER NOT NULL REFERENCES products(id),
	quantity INTEGER NOT NULL,
	unit_price REAL NOT NULL
);
`

const indexesAndViews = `
CREATE UNIQUE INDEX customers_email_idx ON customers(email);
CREATE INDEX customers_last_name_idx ON customers(last_name);
CREATE INDEX orders_customer_id_idx ON orders(customer_id);
CREATE INDEX orders_ordered_at_idx ON orders(ordered_at);
CREATE INDEX order_items_order_id_idx ON order_items(order_id);
CREATE INDEX order_items_product_id_idx ON order_items(product_id);
CREATE VIEW customer_order_totals AS
SELECT c.id AS customer_id, c.first_name, c.last_name, c.country,
       count(o.id) AS order_count, round(coalesce(sum(o.total), 0), 2) AS total_spent
FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled'
GROUP BY c.id, c.first_name, c.last_name, c.country;
ANALYZE;
`

// Ensure returns the path of dir/shop.db, creating dir and the database
// first if absent (created reports that). The database is generated into
// a temporary file in dir and renamed into place, so an interrupted run
// never leaves a half-built database behind.
func Ensure(ctx context.Context, dir string) (path string, created bool, err error) {
	return ensure(ctx, dir, fullSizes)
}

func ensure(ctx context.Context, dir string, sz sizes) (path string, created bool, err error) {
	path = filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("demo database %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("create demo directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".shop-*.db.tmp")
	if err != nil {
		return "", false, fmt.Errorf("create demo database in %s: %w", dir, err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + "-journal")
		}
	}()
	if err := build(ctx, tmp, sz); err != nil {
		return "", false, fmt.Errorf("generate demo database %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", false, fmt.Errorf("move demo database into place at %s: %w", path, err)
	}
	return path, true, nil
}

// build writes the whole database in one transaction. The journal is kept
// in memory and fsync is off: the file is not in place until the rename,
// so a crash loses nothing but the temporary file. Foreign keys are not
// enforced while loading: items are batched ahead of their orders, and a
// deferred check would scan the still unindexed items for every order. The
// data is consistent by construction; the tests run foreign_key_check.
func build(ctx context.Context, path string, sz sizes) error {
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_pragma=journal_mode(MEMORY)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := newGenerator(sz).write(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, indexesAndViews); err != nil {
		return fmt.Errorf("indexes and view: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA journal_mode=DELETE"); err != nil {
		return err
	}
	return nil
}

// escapePath percent-encodes what would end a file: URI's path.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}
