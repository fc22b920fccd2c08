package mysql

import (
	"encoding/json"
	"strconv"
	"time"
)

// kind is how a column's driver values are converted before the collector
// sees them.
type kind uint8

const (
	kindOther    kind = iota // ints, floats, DATETIME, TIMESTAMP: engine.JSONValue is right
	kindText                 // DECIMAL, character types, ENUM, SET, TIME: bytes are text
	kindJSON                 // MySQL JSON: parsed
	kindDate                 // DATE: YYYY-MM-DD
	kindDateTime             // DATETIME, TIMESTAMP: RFC 3339; zero dates kept as MySQL writes them
	kindFloat32              // FLOAT: shortest decimal form, not float32 noise
	kindBinary               // BLOB, BINARY, VARBINARY, BIT, GEOMETRY: base64 (JSONValue of []byte)
	kindInteger              // integer types: the binary protocol sends unsigned values past int64 as text
)

// kindOf maps the driver's DatabaseTypeName. MariaDB reports JSON columns
// as LONGTEXT (JSON is an alias with a CHECK there, and the driver does not
// ask for MariaDB's extended metadata), so they come back as JSON text
// strings; MySQL's native JSON type is parsed.
func kindOf(dbType string) kind {
	switch dbType {
	case "DECIMAL", "CHAR", "VARCHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT",
		"ENUM", "SET", "TIME":
		return kindText
	case "JSON":
		return kindJSON
	case "DATE":
		return kindDate
	case "DATETIME", "TIMESTAMP":
		return kindDateTime
	case "FLOAT":
		return kindFloat32
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "UNSIGNED TINYINT", "UNSIGNED SMALLINT",
		"UNSIGNED MEDIUMINT", "UNSIGNED INT", "UNSIGNED BIGINT", "YEAR":
		return kindInteger
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "BIT", "GEOMETRY":
		return kindBinary
	}
	return kindOther
}

// convert turns one scanned value into what engine.JSONValue renders right:
// exact numerics and text as strings, dates as YYYY-MM-DD, parsed JSON;
// binary bytes stay []byte (base64), big integers are left to JSONValue.
func convert(k kind, v any) any {
	if v == nil {
		return nil
	}
	switch k {
	case kindText:
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case kindJSON:
		b, ok := v.([]byte)
		if !ok {
			break
		}
		var out any
		if json.Unmarshal(b, &out) == nil {
			return out
		}
		return string(b)
	case kindDate:
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				return "0000-00-00"
			}
			return t.Format(time.DateOnly)
		case []byte:
			return string(t)
		}
	case kindDateTime:
		switch t := v.(type) {
		case time.Time:
			if t.IsZero() {
				return "0000-00-00 00:00:00"
			}
			return t.Format(time.RFC3339Nano)
		case []byte:
			return string(t)
		}
	case kindInteger:
		if b, ok := v.([]byte); ok {
			if u, err := strconv.ParseUint(string(b), 10, 64); err == nil {
				return u // JSONValue writes it as a string past 2^53
			}
			return string(b)
		}
	case kindFloat32:
		if f, ok := v.(float32); ok {
			// 1.1 as float32 widened is 1.100000023841858; go through its
			// shortest decimal form instead.
			d, err := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
			if err == nil {
				return d
			}
		}
	}
	return v
}
