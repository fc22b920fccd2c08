package engine

import (
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// maxSafeInt is the largest integer a JSON number carries exactly in
// every client (IEEE-754 double); larger ones become strings.
const maxSafeInt = 1<<53 - 1

// JSONValue converts a driver value to a JSON-safe one: exact numerics
// (decimals, big integers, integers past 2^53) as strings, bytes as
// base64, times in RFC 3339, NULL as nil, NaN and infinities as strings.
// Adapters convert engine-specific types (pgtype.Numeric, MySQL DECIMAL
// bytes) before calling it where the generic rules would be wrong.
func JSONValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string, bool:
		return x
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case int:
		return safeInt(int64(x))
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return safeInt(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint:
		return safeUint(uint64(x))
	case uint64:
		return safeUint(x)
	case float32:
		return safeFloat(float64(x))
	case float64:
		return safeFloat(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case *big.Int:
		if x == nil {
			return nil
		}
		return x.String()
	case *big.Float:
		if x == nil {
			return nil
		}
		return x.Text('f', -1)
	case json.RawMessage:
		var out any
		if json.Unmarshal(x, &out) == nil {
			return out
		}
		return string(x)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = JSONValue(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = JSONValue(e)
		}
		return s
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return fmt.Sprint(x)
		}
		if _, same := dv.(driver.Valuer); same {
			return fmt.Sprint(dv)
		}
		return JSONValue(dv)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func safeInt(i int64) any {
	if i > maxSafeInt || i < -maxSafeInt {
		return strconv.FormatInt(i, 10)
	}
	return i
}

func safeUint(u uint64) any {
	if u > maxSafeInt {
		return strconv.FormatUint(u, 10)
	}
	return int64(u)
}

func safeFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// approxSize estimates the JSON size of a converted value, cheaply.
func approxSize(v any) int64 {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		return int64(len(x)) + 2
	case bool:
		return 5
	case int64, float64:
		return 8
	case map[string]any:
		var n int64 = 2
		for k, e := range x {
			n += int64(len(k)) + 3 + approxSize(e)
		}
		return n
	case []any:
		var n int64 = 2
		for _, e := range x {
			n += approxSize(e) + 1
		}
		return n
	}
	return 16
}
