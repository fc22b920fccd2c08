package testdb

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestThrowawayDatabases(t *testing.T) {
	ctx := context.Background()
	pg := Postgres(t, "self")
	c, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	if err := c.QueryRow(ctx, "select current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	_ = c.Close(ctx)
	if len(name) < 10 || name[:6] != "dap_t_" {
		t.Fatalf("postgres database %q is not a throwaway one", name)
	}
	my := MySQL(t, "self")
	db, err := sql.Open("mysql", my)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "select database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name[:6] != "dap_t_" {
		t.Fatalf("mysql database %q is not a throwaway one", name)
	}
}
