package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// shared holds one generated database for the package's tests.
var shared struct {
	once    sync.Once
	dir     string
	path    string
	created bool
	elapsed time.Duration
	err     error
}

func sharedDB(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "dap-demo-test")
		if shared.err != nil {
			return
		}
		start := time.Now()
		shared.path, shared.created, shared.err = ensure(context.Background(), filepath.Join(shared.dir, "demo"), testSizes)
		shared.elapsed = time.Since(start)
	})
	if shared.err != nil {
		t.Fatalf("Ensure: %v", shared.err)
	}
	return shared.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func openRO(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestEnsureCreatesOnceAndAtomically(t *testing.T) {
	path := sharedDB(t)
	if !shared.created || filepath.Base(path) != FileName {
		t.Fatalf("first Ensure: path %s created %v", path, shared.created)
	}
	t.Logf("generated %s (%+v) in %v", path, testSizes, shared.elapsed)
	p2, created, err := Ensure(context.Background(), filepath.Dir(path))
	if err != nil || created || p2 != path {
		t.Fatalf("second Ensure = %s %v %v, want the existing file", p2, created, err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != FileName {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("demo directory holds %v, want only %s (no temporary files)", names, FileName)
	}
	// A canceled run leaves nothing behind.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Ensure(ctx, dir); err == nil {
		t.Fatalf("Ensure with a canceled context succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("canceled Ensure left %d files", len(entries))
	}
}

func TestDeterministic(t *testing.T) {
	a := sharedDB(t)
	b, _, err := ensure(context.Background(), t.TempDir(), testSizes)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"customers", "products", "orders", "order_items"} {
		ha, hb := tableHash(t, a, table), tableHash(t, b, table)
		if ha != hb {
			t.Errorf("table %s differs between two runs: %s vs %s", table, ha, hb)
		}
	}
}

func tableHash(t *testing.T, path, table string) string {
	t.Helper()
	rows, err := openRO(t, path).Query("SELECT * FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	h := sha256.New()
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%#v\n", vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestContents(t *testing.T) {
	db := openRO(t, sharedDB(t))
	sz := testSizes
	counts := []struct {
		q        string
		min, max int
	}{
		{"SELECT count(*) FROM customers", sz.customers, sz.customers},
		{"SELECT count(*) FROM products", sz.products, sz.products},
		{"SELECT count(*) FROM orders", sz.orders, sz.orders},
		{"SELECT count(*) FROM order_items", sz.orders * 28 / 10, sz.orders * 32 / 10},
		{"SELECT count(DISTINCT email) FROM customers", sz.customers, sz.customers},
		{"SELECT count(DISTINCT sku) FROM products", sz.products, sz.products},
		{"SELECT count(*) FROM customer_order_totals", sz.customers, sz.customers},
		{"SELECT count(*) FROM pragma_foreign_key_check", 0, 0},
		{"SELECT count(*) FROM orders o WHERE abs(o.total - (SELECT sum(quantity * unit_price) FROM order_items i WHERE i.order_id = o.id)) > 0.005", 0, 0},
		{"SELECT count(*) FROM orders WHERE status NOT IN ('pending','paid','shipped','delivered','cancelled')", 0, 0},
		{"SELECT count(*) FROM customers WHERE notes LIKE '%@%' OR notes LIKE '%+%'", sz.customers / 40, sz.customers / 10},
		{"SELECT count(*) FROM sqlite_stat1 WHERE tbl IN ('customers','products','orders','order_items')", 4, 100},
		{"SELECT count(*) FROM products WHERE price <> round(price, 2) OR price <= 0", 0, 0},
		{"SELECT count(*) FROM customers WHERE country NOT IN ('US','GB','CA','DE','FR')", 0, 0},
		{"SELECT count(*) FROM customers WHERE (julianday('2025-01-01') - julianday(date_of_birth)) / 365.25 NOT BETWEEN 17.9 AND 91.1", 0, 0},
		{"SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.ordered_at < c.created_at", 0, 0},
	}
	for _, c := range counts {
		var n int
		if err := db.QueryRow(c.q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if n < c.min || n > c.max {
			t.Errorf("%s = %d, want %d..%d", c.q, n, c.min, c.max)
		}
	}
	var fk int
	if err := db.QueryRow("SELECT count(*) FROM pragma_index_list('orders')").Scan(&fk); err != nil || fk != 2 {
		t.Errorf("orders indexes = %d, %v", fk, err)
	}

	phoneRE := regexp.MustCompile(`^\+(1[2-9]\d{2}[2-9]\d{6}|447[4-9]\d{8}|491[5-7]\d{9}|33[67]\d{8})$`)
	emailRE := regexp.MustCompile(`^[a-z]+\.[a-z]+\d+@(example\.(com|org|net)|mail\.test|inbox\.test)$`)
	dateRE := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	rows, err := db.Query("SELECT phone, email, card_number, CAST(date_of_birth AS TEXT), CAST(created_at AS TEXT) FROM customers")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var phone, email, card, dob, created string
		if err := rows.Scan(&phone, &email, &card, &dob, &created); err != nil {
			t.Fatal(err)
		}
		if !phoneRE.MatchString(phone) {
			t.Fatalf("phone %q is not a plausible E.164 number", phone)
		}
		if !emailRE.MatchString(email) {
			t.Fatalf("email %q", email)
		}
		if len(card) != 16 || !(card[0] == '4' || (card[0] == '5' && card[1] >= '1' && card[1] <= '5')) || !luhnValid(card) {
			t.Fatalf("card %q: want 16 digits, IIN 4 or 51-55, valid Luhn", card)
		}
		if !dateRE.MatchString(dob) {
			t.Fatalf("date_of_birth %q", dob)
		}
		if _, err := time.Parse(time.DateTime, created); err != nil {
			t.Fatalf("created_at %q: %v", created, err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// luhnValid is an independent Luhn check, written from the definition.
func luhnValid(s string) bool {
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func TestLuhn(t *testing.T) {
	cases := []struct {
		n    string
		want bool
	}{
		{"4111111111111111", true},
		{"5500005555555559", true},
		{"4111111111111112", false},
		{"79927398713", true},
	}
	for _, c := range cases {
		if got := luhnValid(c.n); got != c.want {
			t.Errorf("luhnValid(%s) = %v", c.n, got)
		}
		if c.want {
			body := c.n[:len(c.n)-1]
			if d := luhnCheckDigit(body); fmt.Sprint(d) != c.n[len(c.n)-1:] {
				t.Errorf("luhnCheckDigit(%s) = %d", body, d)
			}
		}
	}
	if strings.Contains(escapePath("/a?b#c%d"), "?") {
		t.Errorf("escapePath kept a '?'")
	}
}

func BenchmarkEnsure(b *testing.B) {
	for b.Loop() {
		if _, _, err := Ensure(context.Background(), b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}
