package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// fixtureSQL builds the shared test database: customers and orders with
// comments, an FK, an index, a view, an enum, a function, a procedure,
// and 100k orders made set-based with generate_series.
const fixtureSQL = `
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE customers (
	id int PRIMARY KEY,
	name text NOT NULL,
	email text UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE customers IS 'People who buy';
COMMENT ON COLUMN customers.email IS 'Contact address';
CREATE TABLE orders (
	id bigint PRIMARY KEY,
	customer_id int NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
	amount numeric(12,2) NOT NULL,
	status text NOT NULL DEFAULT 'new',
	created_at timestamp NOT NULL
);
COMMENT ON TABLE orders IS 'One row per order';
CREATE INDEX orders_customer_idx ON orders (customer_id);
INSERT INTO customers (id, name, email)
	SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO orders (id, customer_id, amount, status, created_at)
	SELECT g, 1 + g % 1000, (g % 997) + 0.25, CASE WHEN g % 10 = 0 THEN 'paid' ELSE 'new' END,
		timestamp '2024-01-01' + g * interval '1 minute'
	FROM generate_series(1, 100000) g;
CREATE VIEW big_orders AS SELECT id, customer_id, amount FROM orders WHERE amount > 900;
CREATE TABLE scratch (id serial PRIMARY KEY, note text);
CREATE FUNCTION customer_total(p_customer int, p_min numeric DEFAULT 0) RETURNS numeric
	LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(amount), 0) FROM orders WHERE customer_id = p_customer AND amount >= p_min $$;
COMMENT ON FUNCTION customer_total(int, numeric) IS 'Sum of a customer''s orders';
CREATE FUNCTION customer_orders(p_customer int) RETURNS TABLE (order_id bigint, amount numeric)
	LANGUAGE sql STABLE AS $$ SELECT id, amount FROM orders WHERE customer_id = p_customer ORDER BY id $$;
CREATE PROCEDURE add_note(p_note text, INOUT p_id int DEFAULT NULL)
	LANGUAGE plpgsql AS $$ BEGIN INSERT INTO scratch (note) VALUES (p_note) RETURNING id INTO p_id; END $$;
ANALYZE;
`

// fixture creates the package's throwaway database (dropped when tb
// ends) and returns its DSN.
func fixture(tb testing.TB) string {
	tb.Helper()
	dsn := testdb.Postgres(tb, "pgengine")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to fixture database: %v", err)
	}
	defer c.Close(ctx)
	// The fixture is constant test text, so the simple protocol (several
	// statements in one message) is fine here.
	if _, err := c.Exec(ctx, fixtureSQL); err != nil {
		tb.Fatalf("build fixture: %v", err)
	}
	return dsn
}

// open opens an adapter on dsn, closed when tb ends.
func open(tb testing.TB, dsn string, maxConns int) *Engine {
	tb.Helper()
	e, err := Open(context.Background(), engine.Options{Name: "pgtest", DSN: dsn, Access: engine.ReadWrite, MaxConns: maxConns})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}
