package sqlserver

import (
	"context"
	"reflect"
	"testing"
)

func TestParamDefaults(t *testing.T) {
	tests := []struct {
		name, def string
		want      map[string]bool
	}{
		{"procedure", `CREATE PROCEDURE dbo.add_order
    @customer_id int,
    @total decimal(10,2) = 0,
    @note nvarchar(200) = NULL,
    @new_id int OUTPUT
AS
BEGIN
    SET NOCOUNT ON;
    INSERT INTO dbo.orders (customer_id, total, note) VALUES (@customer_id, @total, @note);
    SET @new_id = SCOPE_IDENTITY();
END`, map[string]bool{"@customer_id": false, "@total": true, "@note": true, "@new_id": false}},
		{"create or alter proc", `CREATE OR ALTER PROC [sales].[Refresh] @Since DATE = '2024-01-01' AS SELECT 1`, map[string]bool{"@since": true}},
		{"scalar function", `CREATE FUNCTION dbo.order_total(@order_id int, @with_tax bit = 1)
RETURNS decimal(12,2)
AS
BEGIN
    RETURN (SELECT SUM(total) FROM dbo.orders WHERE id = @order_id);
END`, map[string]bool{"@order_id": false, "@with_tax": true}},
		{"inline table function", `CREATE FUNCTION dbo.orders_of(@customer_id int)
RETURNS TABLE
AS RETURN (SELECT id, total FROM dbo.orders WHERE customer_id = @customer_id)`, map[string]bool{"@customer_id": false}},
		{"encrypted module has no text", "", nil},
		{"not parseable", "CREATE PROCEDURE (((", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := paramDefaults(context.Background(), tt.def); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("paramDefaults = %v, want %v", got, tt.want)
			}
		})
	}
}
