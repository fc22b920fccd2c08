package sqlserver

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// convertValue turns a go-mssqldb value into one engine.JSONValue renders
// right. dbType is the driver's upper-case type name (DECIMAL, MONEY,
// UNIQUEIDENTIFIER, DATE ...). guidConv says the DSN asked the driver to
// deliver GUID bytes already in canonical (big-endian) order.
func convertValue(v any, dbType string, guidConv bool) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		switch dbType {
		case "DECIMAL", "NUMERIC", "MONEY", "SMALLMONEY":
			// The driver renders exact numerics as decimal text bytes.
			return string(x)
		case "UNIQUEIDENTIFIER":
			if s, ok := guidString(x, guidConv); ok {
				return s
			}
		case "VARCHAR", "CHAR", "TEXT", "NVARCHAR", "NCHAR", "NTEXT", "XML":
			return string(x)
		}
		// varbinary, binary, image, rowversion, CLR types: base64 downstream.
		return x
	case time.Time:
		switch dbType {
		case "DATE":
			return x.Format(time.DateOnly)
		case "TIME":
			return x.Format("15:04:05.9999999")
		case "DATETIMEOFFSET":
			return x.Format(time.RFC3339Nano)
		}
		// datetime, datetime2, smalldatetime carry no zone; the driver
		// decodes them in UTC (or the DSN's timezone), rendered as such.
		return x.Format(time.RFC3339Nano)
	case float64:
		if dbType == "REAL" {
			// real is 32-bit: print its shortest float32 form (0.1, not
			// 0.10000000149011612).
			f, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', -1, 32), 64)
			if err == nil {
				return f
			}
		}
		return x
	case mssql.UniqueIdentifier:
		return strings.ToLower(x.String())
	}
	return v
}

// guidString formats 16 uniqueidentifier bytes canonically (lower case,
// as PostgreSQL prints uuid). On the wire SQL Server sends the first three
// groups little-endian; mssql.UniqueIdentifier.Scan reorders them.
func guidString(b []byte, canonical bool) (string, bool) {
	if len(b) != 16 {
		return "", false
	}
	if canonical {
		h := hex.EncodeToString(b)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
	}
	var u mssql.UniqueIdentifier
	if err := u.Scan(b); err != nil {
		return "", false
	}
	return strings.ToLower(u.String()), true
}

// columnType is the result column type name in lower case.
func columnType(driverName string) string { return strings.ToLower(driverName) }
