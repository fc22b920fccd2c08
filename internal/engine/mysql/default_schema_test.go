package mysql

import (
	"context"
	"testing"
)

func TestDefaultSchema(t *testing.T) {
	fx := env(t)
	got, err := fx.eng.DefaultSchema(context.Background())
	if err != nil || got != fx.dbName {
		t.Fatalf("DefaultSchema = %q, %v; want %q", got, err, fx.dbName)
	}
}
