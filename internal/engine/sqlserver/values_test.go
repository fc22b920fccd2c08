package sqlserver

import (
	"encoding/base64"
	"math"
	"reflect"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dap-platform/dap/internal/engine"
)

func TestConvertValue(t *testing.T) {
	// 6F9619FF-8B86-D011-B42D-00C04FC964FF as SQL Server puts it on the
	// wire: the first three groups little-endian.
	wireGUID := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	canonicalGUID := []byte{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	plus2 := time.FixedZone("", 2*3600)
	tests := []struct {
		name     string
		in       any
		dbType   string
		guidConv bool
		want     any // after engine.JSONValue, as the collector stores it
	}{
		{"decimal bytes stay exact", []byte("12345678901234567890.1234567890"), "DECIMAL", false, "12345678901234567890.1234567890"},
		{"negative decimal", []byte("-0.0001"), "DECIMAL", false, "-0.0001"},
		{"money", []byte("922337203685477.5807"), "MONEY", false, "922337203685477.5807"},
		{"smallmoney", []byte("-214748.3648"), "SMALLMONEY", false, "-214748.3648"},
		{"uniqueidentifier wire order", wireGUID, "UNIQUEIDENTIFIER", false, "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{"uniqueidentifier with guid conversion", canonicalGUID, "UNIQUEIDENTIFIER", true, "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{"uniqueidentifier bad length is binary", []byte{1, 2, 3}, "UNIQUEIDENTIFIER", false, base64.StdEncoding.EncodeToString([]byte{1, 2, 3})},
		{"mssql.UniqueIdentifier value", mssql.UniqueIdentifier{0x6F, 0x96, 0x19, 0xFF, 0x8B, 0x86, 0xD0, 0x11, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}, "UNIQUEIDENTIFIER", false, "6f9619ff-8b86-d011-b42d-00c04fc964ff"},
		{"varbinary base64", []byte{0x00, 0xFF, 0x10}, "VARBINARY", false, "AP8Q"},
		{"binary base64", []byte("abc"), "BINARY", false, "YWJj"},
		{"image base64", []byte{1}, "IMAGE", false, "AQ=="},
		{"varchar bytes stay text", []byte("héllo"), "VARCHAR", false, "héllo"},
		{"nvarchar", "日本語", "NVARCHAR", false, "日本語"},
		{"xml", "<a>1</a>", "XML", false, "<a>1</a>"},
		{"date only", time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), "DATE", false, "2024-01-31"},
		{"time of day", time.Date(1, 1, 1, 13, 45, 30, 123456700, time.UTC), "TIME", false, "13:45:30.1234567"},
		{"datetime2", time.Date(2024, 1, 31, 13, 45, 30, 500000000, time.UTC), "DATETIME2", false, "2024-01-31T13:45:30.5Z"},
		{"datetime", time.Date(2024, 2, 29, 23, 59, 59, 997000000, time.UTC), "DATETIME", false, "2024-02-29T23:59:59.997Z"},
		{"smalldatetime", time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC), "SMALLDATETIME", false, "2024-02-29T23:59:00Z"},
		{"datetimeoffset keeps offset", time.Date(2024, 1, 31, 13, 45, 30, 0, plus2), "DATETIMEOFFSET", false, "2024-01-31T13:45:30+02:00"},
		{"bigint beyond 2^53", int64(1) << 60, "BIGINT", false, "1152921504606846976"},
		{"int", int64(42), "INT", false, int64(42)},
		{"bit", true, "BIT", false, true},
		{"real shortest form", float64(float32(0.1)), "REAL", false, 0.1},
		{"float", 0.1, "FLOAT", false, 0.1},
		{"float NaN", math.NaN(), "FLOAT", false, "NaN"},
		{"NULL", nil, "NVARCHAR", false, nil},
		{"NULL decimal", nil, "DECIMAL", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := engine.JSONValue(convertValue(tt.in, tt.dbType, tt.guidConv))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convertValue(%#v, %s) = %#v, want %#v", tt.in, tt.dbType, got, tt.want)
			}
		})
	}
}

func TestConvertValueDoesNotMutateGUIDBytes(t *testing.T) {
	b := []byte{0xFF, 0x19, 0x96, 0x6F, 0x86, 0x8B, 0x11, 0xD0, 0xB4, 0x2D, 0x00, 0xC0, 0x4F, 0xC9, 0x64, 0xFF}
	orig := append([]byte(nil), b...)
	convertValue(b, "UNIQUEIDENTIFIER", false)
	if !reflect.DeepEqual(b, orig) {
		t.Errorf("driver buffer changed: %x, want %x", b, orig)
	}
}

func TestColumnTypeAndFormatType(t *testing.T) {
	if got := columnType("DATETIMEOFFSET"); got != "datetimeoffset" {
		t.Errorf("columnType = %q", got)
	}
	tests := []struct {
		name              string
		maxLen, prec, scl int64
		udt               bool
		want              string
	}{
		{"nvarchar", 100, 0, 0, false, "nvarchar(50)"},
		{"NVARCHAR", -1, 0, 0, false, "nvarchar(max)"},
		{"varchar", 20, 0, 0, false, "varchar(20)"},
		{"varbinary", -1, 0, 0, false, "varbinary(max)"},
		{"nchar", 2, 0, 0, false, "nchar(1)"},
		{"decimal", 9, 10, 2, false, "decimal(10,2)"},
		{"numeric", 17, 38, 0, false, "numeric(38,0)"},
		{"datetime2", 8, 27, 7, false, "datetime2(7)"},
		{"time", 5, 16, 7, false, "time(7)"},
		{"int", 4, 10, 0, false, "int"},
		{"uniqueidentifier", 16, 0, 0, false, "uniqueidentifier"},
		{"PhoneNumber", 40, 0, 0, true, "phonenumber"},
	}
	for _, tt := range tests {
		if got := formatType(tt.name, tt.maxLen, tt.prec, tt.scl, tt.udt); got != tt.want {
			t.Errorf("formatType(%s, %d, %d, %d) = %q, want %q", tt.name, tt.maxLen, tt.prec, tt.scl, got, tt.want)
		}
	}
}

func TestFormatVersion(t *testing.T) {
	tests := []struct{ v, ed, want string }{
		{"16.0.4135.4", "Developer Edition (64-bit)", "SQL Server 16.0.4135.4 (Developer Edition (64-bit))"},
		{"15.0.2000.5", "", "SQL Server 15.0.2000.5"},
	}
	for _, tt := range tests {
		if got := formatVersion(tt.v, tt.ed); got != tt.want {
			t.Errorf("formatVersion(%q, %q) = %q, want %q", tt.v, tt.ed, got, tt.want)
		}
	}
}
