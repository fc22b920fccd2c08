package postgres

import (
	"context"
	"encoding/hex"
	"math/big"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dap-platform/dap/internal/engine"
)

// textOnlyCodec makes pgx ask the server for a type in text format and
// hand it over as the server's own text (interval "1 day 02:00:00", inet
// "10.0.0.1", ranges "[1,5)"): that text is what a person expects, where
// pgx's Go forms (pgtype.Interval, netip.Prefix, pgtype.Range) would each
// need a formatter of their own.
type textOnlyCodec struct{ pgtype.TextCodec }

func (textOnlyCodec) FormatSupported(f int16) bool { return f == pgtype.TextFormatCode }
func (textOnlyCodec) PreferredFormat() int16       { return pgtype.TextFormatCode }

// textTypes are the types served as text, with their array types.
var textTypes = []struct {
	name     string
	oid, arr uint32
}{
	{"interval", pgtype.IntervalOID, pgtype.IntervalArrayOID},
	{"time", pgtype.TimeOID, pgtype.TimeArrayOID},
	{"timetz", pgtype.TimetzOID, pgtype.TimetzArrayOID},
	{"inet", pgtype.InetOID, pgtype.InetArrayOID},
	{"cidr", pgtype.CIDROID, pgtype.CIDRArrayOID},
	{"macaddr", pgtype.MacaddrOID, pgtype.MacaddrArrayOID},
	{"macaddr8", pgtype.Macaddr8OID, 775},
	{"money", 790, 791},
	{"bit", pgtype.BitOID, pgtype.BitArrayOID},
	{"varbit", pgtype.VarbitOID, pgtype.VarbitArrayOID},
	{"xml", pgtype.XMLOID, pgtype.XMLArrayOID},
	{"char", pgtype.QCharOID, pgtype.QCharArrayOID},
	{"tid", pgtype.TIDOID, pgtype.TIDArrayOID},
	{"point", pgtype.PointOID, pgtype.PointArrayOID},
	{"lseg", pgtype.LsegOID, pgtype.LsegArrayOID},
	{"path", pgtype.PathOID, pgtype.PathArrayOID},
	{"box", pgtype.BoxOID, pgtype.BoxArrayOID},
	{"polygon", pgtype.PolygonOID, pgtype.PolygonArrayOID},
	{"line", pgtype.LineOID, pgtype.LineArrayOID},
	{"circle", pgtype.CircleOID, pgtype.CircleArrayOID},
	{"tsvector", pgtype.TSVectorOID, pgtype.TSVectorArrayOID},
	{"tsquery", 3615, 3645},
	{"jsonpath", pgtype.JSONPathOID, pgtype.JSONPathArrayOID},
	{"pg_lsn", 3220, 3221},
	{"int4range", pgtype.Int4rangeOID, pgtype.Int4rangeArrayOID},
	{"int8range", pgtype.Int8rangeOID, pgtype.Int8rangeArrayOID},
	{"numrange", pgtype.NumrangeOID, pgtype.NumrangeArrayOID},
	{"tsrange", pgtype.TsrangeOID, pgtype.TsrangeArrayOID},
	{"tstzrange", pgtype.TstzrangeOID, pgtype.TstzrangeArrayOID},
	{"daterange", pgtype.DaterangeOID, pgtype.DaterangeArrayOID},
	{"int4multirange", pgtype.Int4multirangeOID, pgtype.Int4multirangeArrayOID},
	{"int8multirange", pgtype.Int8multirangeOID, pgtype.Int8multirangeArrayOID},
	{"nummultirange", pgtype.NummultirangeOID, pgtype.NummultirangeArrayOID},
	{"tsmultirange", pgtype.TsmultirangeOID, pgtype.TsmultirangeArrayOID},
	{"tstzmultirange", pgtype.TstzmultirangeOID, pgtype.TstzmultirangeArrayOID},
	{"datemultirange", pgtype.DatemultirangeOID, pgtype.DatemultirangeArrayOID},
}

// registerTextTypes installs the text-only codecs on one connection's
// type map (each connection has its own).
func registerTextTypes(m *pgtype.Map) {
	for _, t := range textTypes {
		et := &pgtype.Type{Name: t.name, OID: t.oid, Codec: textOnlyCodec{}}
		m.RegisterType(et)
		m.RegisterType(&pgtype.Type{Name: "_" + t.name, OID: t.arr, Codec: &pgtype.ArrayCodec{ElementType: et}})
	}
}

// converter turns one decoded value into the form engine.JSONValue gets
// right; values it already handles pass through.
type converter func(any) any

func identity(v any) any { return v }

// columns names the result columns (pg_type names, lower case, e.g. int4,
// numeric, timestamptz, _text for text[]) and picks a converter per
// column. unknown lists the indexes of columns whose type pgx does not
// know and the engine has not cached yet.
func (e *Engine) columns(tm *pgtype.Map, fds []pgconn.FieldDescription) (cols []engine.Column, convs []converter, unknown []unknownCol) {
	cols = make([]engine.Column, len(fds))
	convs = make([]converter, len(fds))
	for i, fd := range fds {
		cols[i].Name = fd.Name
		convs[i] = converterFor(tm, fd.DataTypeOID)
		if t, ok := tm.TypeForOID(fd.DataTypeOID); ok {
			cols[i].Type = strings.ToLower(t.Name)
		} else if n, ok := e.typeNames.Load(fd.DataTypeOID); ok {
			cols[i].Type = n.(string)
		} else {
			cols[i].Type = "unknown"
			unknown = append(unknown, unknownCol{idx: i, oid: fd.DataTypeOID})
		}
	}
	return cols, convs, unknown
}

// unknownCol is a result column whose type name is not known yet.
type unknownCol struct {
	idx int
	oid uint32
}

// resolveTypeNames looks up the names of types pgx does not know (enums,
// domains over them, composites, extension types) and caches them. It is
// best effort: on failure the columns stay "unknown". It runs after the
// statement's transaction ended, on the same connection.
func (e *Engine) resolveTypeNames(ctx context.Context, conn *pgxpool.Conn, cols []engine.Column, unknown []unknownCol) {
	oids := make([]uint32, len(unknown))
	for i, u := range unknown {
		oids[i] = u.oid
	}
	rows, err := conn.Query(ctx, "SELECT oid, typname FROM pg_catalog.pg_type WHERE oid = ANY($1)", oids)
	if err != nil {
		return
	}
	for rows.Next() {
		var oid uint32
		var name string
		if rows.Scan(&oid, &name) == nil {
			e.typeNames.Store(oid, name)
		}
	}
	rows.Close()
	for _, u := range unknown {
		if n, ok := e.typeNames.Load(u.oid); ok {
			cols[u.idx].Type = n.(string)
		}
	}
}

// converterFor picks the conversion for a column type.
func converterFor(tm *pgtype.Map, oid uint32) converter {
	switch oid {
	case pgtype.NumericOID:
		return convNumeric
	case pgtype.UUIDOID:
		return convUUID
	case pgtype.DateOID:
		return convDate
	case pgtype.TimestampOID:
		return convTimestamp
	case pgtype.TimestamptzOID:
		return convTimestamptz
	}
	if t, ok := tm.TypeForOID(oid); ok {
		if ac, ok := t.Codec.(*pgtype.ArrayCodec); ok && ac.ElementType != nil {
			elem := converterFor(tm, ac.ElementType.OID)
			return func(v any) any { return convArray(v, elem) }
		}
	}
	return identity
}

func convArray(v any, elem converter) any {
	s, ok := v.([]any)
	if !ok {
		return v
	}
	out := make([]any, len(s))
	for i, x := range s {
		if inner, ok := x.([]any); ok {
			out[i] = convArray(inner, elem)
			continue
		}
		if x != nil {
			x = elem(x)
		}
		out[i] = x
	}
	return out
}

// convNumeric renders a numeric exactly as a decimal string (never via
// float64), keeping its scale: numeric(10,2) 1.5 is "1.50".
func convNumeric(v any) any {
	n, ok := v.(pgtype.Numeric)
	if !ok {
		return v
	}
	return numericString(n)
}

func numericString(n pgtype.Numeric) any {
	switch {
	case !n.Valid:
		return nil
	case n.NaN:
		return "NaN"
	case n.InfinityModifier == pgtype.Infinity:
		return "Infinity"
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return "-Infinity"
	case n.Int == nil:
		return "0"
	}
	digits := new(big.Int).Abs(n.Int).String()
	neg := n.Int.Sign() < 0
	var s string
	switch {
	case n.Exp >= 0:
		s = digits + strings.Repeat("0", int(n.Exp))
	default:
		scale := int(-n.Exp)
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		s = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// convUUID renders a uuid in its canonical 8-4-4-4-12 form.
func convUUID(v any) any {
	b, ok := v.([16]byte)
	if !ok {
		return v
	}
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:])
	return string(buf[:])
}

// convDate renders a date as YYYY-MM-DD (infinity stays "infinity").
func convDate(v any) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	return t.Format(time.DateOnly)
}

// convTimestamp renders a timestamp without time zone in RFC 3339 form
// WITHOUT an offset or Z ("2024-01-31T12:34:56.5"): the value has no
// zone, and inventing UTC would claim more than the database knows.
func convTimestamp(v any) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	return t.Format("2006-01-02T15:04:05.999999")
}

// convTimestamptz renders a timestamp with time zone as RFC 3339 in UTC.
func convTimestamptz(v any) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	return t.UTC().Format(time.RFC3339Nano)
}
