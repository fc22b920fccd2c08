package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/testdb"
)

// fixture is the package's one throwaway database, created in TestMain.
type fixture struct {
	dsn    string
	dbName string
	eng    *Engine
	admin  *sql.DB // plain database/sql, for setup and server-side checks
}

var (
	fx     *fixture
	fxSkip string // why the fixture is missing (no server outside CI)
)

// mainTB lets testdb's helpers run in TestMain, which has no testing.TB.
// Only the methods testdb calls are implemented.
type mainTB struct {
	testing.TB
	cleanups []func()
	skip     string
}

type setupStop struct{ msg string }

func (m *mainTB) Helper()          {}
func (m *mainTB) Cleanup(f func()) { m.cleanups = append(m.cleanups, f) }
func (m *mainTB) Fatalf(format string, args ...any) {
	panic(setupStop{msg: fmt.Sprintf(format, args...)})
}
func (m *mainTB) Skipf(format string, args ...any) {
	m.skip = fmt.Sprintf(format, args...)
	panic(setupStop{})
}

func TestMain(m *testing.M) {
	tb := &mainTB{}
	code := func() (code int) {
		defer func() {
			for i := len(tb.cleanups) - 1; i >= 0; i-- {
				tb.cleanups[i]()
			}
		}()
		if err := setup(tb); err != nil {
			fmt.Fprintln(os.Stderr, "mysql adapter tests: fixture:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func setup(tb *mainTB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			stop, ok := r.(setupStop)
			if !ok {
				panic(r)
			}
			if tb.skip != "" {
				fxSkip = tb.skip
				err = nil
				return
			}
			err = errors.New(stop.msg)
		}
	}()
	dsn := testdb.MySQL(tb, "engine_mysql")
	cfg, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return err
	}
	admin, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	tb.Cleanup(func() { _ = admin.Close() })
	ctx := context.Background()
	for _, stmt := range fixtureSQL {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", firstLine(stmt), err)
		}
	}
	eng, err := Open(ctx, engine.Options{Name: "fixture", DSN: dsn, Access: engine.Admin})
	if err != nil {
		return err
	}
	tb.Cleanup(func() { _ = eng.Close() })
	fx = &fixture{dsn: dsn, dbName: cfg.DBName, eng: eng, admin: admin}
	return nil
}

// env returns the fixture or skips (outside CI, no server) with the reason.
func env(tb testing.TB) *fixture {
	tb.Helper()
	if fx == nil {
		tb.Skip(fxSkip)
	}
	return fx
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// fixtureSQL builds customers/orders with an FK, index, comments, a view,
// routines, a typed table and a 100k-row table made set-based.
var fixtureSQL = []string{
	`CREATE TABLE customers (
  id INT PRIMARY KEY AUTO_INCREMENT COMMENT 'customer id',
  email VARCHAR(200) NOT NULL COMMENT 'login email',
  name VARCHAR(100) NULL,
  status ENUM('active','closed') NOT NULL DEFAULT 'active',
  UNIQUE KEY customers_email (email)
) COMMENT='people who buy'`,
	`CREATE TABLE orders (
  id BIGINT PRIMARY KEY AUTO_INCREMENT,
  customer_id INT NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  note TEXT,
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE,
  KEY orders_customer_amount (customer_id, amount)
) COMMENT='orders placed'`,
	`CREATE TABLE parts (
  id INT PRIMARY KEY,
  parent_id INT NULL,
  CONSTRAINT parts_parent_fk FOREIGN KEY (parent_id) REFERENCES parts (id)
)`,
	`INSERT INTO customers (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob'), ('cy@example.com', NULL)`,
	`INSERT INTO orders (customer_id, amount, note) VALUES (1, 10.50, 'first'), (1, 250.00, NULL), (2, 99.99, 'b'), (2, 1000.01, 'big')`,
	`CREATE VIEW big_orders AS SELECT id, customer_id, amount FROM orders WHERE amount > 100`,
	`CREATE TABLE digits (d INT PRIMARY KEY)`,
	`INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)`,
	`CREATE TABLE big (id INT PRIMARY KEY, v INT NOT NULL, pad VARCHAR(20) NOT NULL)`,
	`INSERT INTO big (id, v, pad)
SELECT n, n % 97, 'padding'
FROM (SELECT a.d + b.d * 10 + c.d * 100 + d.d * 1000 + e.d * 10000 + 1 AS n
      FROM digits a, digits b, digits c, digits d, digits e) t`,
	`ANALYZE TABLE customers, orders, big`,
	`CREATE TABLE typed (
  id INT PRIMARY KEY,
  dec_v DECIMAL(20,6), big_v BIGINT, ubig_v BIGINT UNSIGNED, int_v INT, bool_v BOOLEAN,
  float_v FLOAT, double_v DOUBLE,
  blob_v BLOB, varbin_v VARBINARY(8), bit_v BIT(8),
  text_v TEXT, varchar_v VARCHAR(20), enum_v ENUM('a','b'), set_v SET('x','y'),
  date_v DATE, datetime_v DATETIME(3), ts_v TIMESTAMP NULL, time_v TIME, year_v YEAR,
  json_v JSON
)`,
	`INSERT INTO typed VALUES (1,
  '12345678901234.123456', 9007199254740993, 18446744073709551615, -42, TRUE,
  1.1, 2.5,
  x'00ff10', 'ab', b'00000101',
  'héllo', 'plain', 'b', 'x,y',
  '2024-01-31', '2024-01-31 10:20:30.123', '2024-01-31 10:20:30', '12:34:56', 2024,
  '{"a": [1, 2]}')`,
	`INSERT INTO typed (id) VALUES (2)`,
	`CREATE PROCEDURE orders_for(IN cust INT, IN min_amount DECIMAL(12,2))
COMMENT 'orders of one customer'
BEGIN
  SELECT id, amount FROM orders WHERE customer_id = cust AND amount >= min_amount ORDER BY id;
  SELECT 'second result set' AS extra;
END`,
	`CREATE PROCEDURE add_tax(INOUT amount DECIMAL(12,2), IN rate DECIMAL(5,2), OUT tax DECIMAL(12,2))
BEGIN
  SET tax = amount * rate / 100;
  SET amount = amount + tax;
END`,
	`CREATE PROCEDURE rename_customer(IN cid INT, IN new_name VARCHAR(100))
MODIFIES SQL DATA
BEGIN
  UPDATE customers SET name = new_name WHERE id = cid;
END`,
	`CREATE FUNCTION order_total(cust INT) RETURNS DECIMAL(12,2)
READS SQL DATA
COMMENT 'sum of a customer''s orders'
RETURN (SELECT COALESCE(SUM(amount), 0) FROM orders WHERE customer_id = cust)`,
}

// ctxT is a short context for one test call.
func ctxT(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
