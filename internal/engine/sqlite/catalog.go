package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// Catalog queries run on the read-only pool, under the same authorizer as
// user statements, with pragma table-valued functions.

// quoteIdent quotes an SQLite identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Schemas lists main and attached databases (temp is left out).
func (e *Engine) Schemas(ctx context.Context) ([]engine.Schema, error) {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	names, err := e.schemaNames(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Schema, len(names))
	for i, n := range names {
		out[i] = engine.Schema{Name: n}
	}
	return out, nil
}

func (e *Engine) schemaNames(ctx context.Context, c *sql.Conn) ([]string, error) {
	rows, err := c.QueryContext(ctx, "SELECT name FROM pragma_database_list WHERE name <> 'temp' ORDER BY seq")
	if err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, e.mapErr(ctx, c, err, 0)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	return names, nil
}

// resolveSchema returns the schema's canonical name, "main" for "", or
// ErrNotFound.
func (e *Engine) resolveSchema(ctx context.Context, c *sql.Conn, schema string) (string, error) {
	if schema == "" {
		return "main", nil
	}
	names, err := e.schemaNames(ctx, c)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if strings.EqualFold(n, schema) {
			return n, nil
		}
	}
	return "", fmt.Errorf("target %s: schema %q not found (SQLite schemas are main and attached databases): %w", e.name, schema, engine.ErrNotFound)
}

// Tables lists tables and views (internal sqlite_% tables left out) with
// row estimates; SQLite has no comments.
func (e *Engine) Tables(ctx context.Context, schema string) ([]engine.Table, error) {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var schemas []string
	if schema == "" {
		if schemas, err = e.schemaNames(ctx, c); err != nil {
			return nil, err
		}
	} else {
		s, err := e.resolveSchema(ctx, c, schema)
		if err != nil {
			return nil, err
		}
		schemas = []string{s}
	}
	out := []engine.Table{}
	for _, s := range schemas {
		est, err := e.rowEstimates(ctx, c, s)
		if err != nil {
			return nil, e.mapErr(ctx, c, err, 0)
		}
		rows, err := c.QueryContext(ctx, "SELECT name, type FROM "+quoteIdent(s)+
			`.sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
		if err != nil {
			return nil, e.mapErr(ctx, c, err, 0)
		}
		for rows.Next() {
			t := engine.Table{Schema: s, RowEstimate: -1}
			if err := rows.Scan(&t.Name, &t.Kind); err != nil {
				rows.Close()
				return nil, e.mapErr(ctx, c, err, 0)
			}
			if n, ok := est[strings.ToLower(t.Name)]; ok {
				t.RowEstimate = n
			}
			out = append(out, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, e.mapErr(ctx, c, err, 0)
		}
	}
	return out, nil
}

// rowEstimates maps lower-cased table names of one schema to a row
// estimate: the row count ANALYZE stored in sqlite_stat1 where there is
// one, else max(rowid) of rowid tables (an index seek, never a scan; it
// overstates after deletes). WITHOUT ROWID and virtual tables without
// statistics are left out (unknown).
func (e *Engine) rowEstimates(ctx context.Context, c *sql.Conn, schema string) (map[string]int64, error) {
	qs := quoteIdent(schema)
	out := map[string]int64{}
	var hasStat int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM "+qs+".sqlite_schema WHERE type='table' AND name='sqlite_stat1'").Scan(&hasStat); err != nil {
		return nil, err
	}
	if hasStat > 0 {
		rows, err := c.QueryContext(ctx, "SELECT tbl, stat FROM "+qs+".sqlite_stat1")
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var tbl string
			var stat sql.NullString
			if err := rows.Scan(&tbl, &stat); err != nil {
				rows.Close()
				return nil, err
			}
			first, _, _ := strings.Cut(stat.String, " ")
			if n, err := strconv.ParseInt(first, 10, 64); err == nil {
				k := strings.ToLower(tbl)
				out[k] = max(out[k], n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	rows, err := c.QueryContext(ctx, "SELECT name FROM pragma_table_list WHERE schema = ? AND type = 'table' AND wr = 0 AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", schema)
	if err != nil {
		return nil, err
	}
	var missing []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		if _, ok := out[strings.ToLower(n)]; !ok {
			missing = append(missing, n)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range missing {
		var m sql.NullInt64
		if err := c.QueryRowContext(ctx, "SELECT max(rowid) FROM "+qs+"."+quoteIdent(n)).Scan(&m); err != nil {
			return nil, err
		}
		out[strings.ToLower(n)] = m.Int64
	}
	return out, nil
}

// Describe returns one table or view; schema "" means main.
func (e *Engine) Describe(ctx context.Context, schema, table string) (*engine.TableDetail, error) {
	c, err := e.acquire(ctx, e.ro)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	s, err := e.resolveSchema(ctx, c, schema)
	if err != nil {
		return nil, err
	}
	qs := quoteIdent(s)
	d := &engine.TableDetail{Table: engine.Table{Schema: s, RowEstimate: -1}}
	var def sql.NullString
	err = c.QueryRowContext(ctx, "SELECT name, type, sql FROM "+qs+
		".sqlite_schema WHERE type IN ('table','view') AND name = ? COLLATE NOCASE", table).Scan(&d.Name, &d.Kind, &def)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("target %s: table %s.%s not found: %w", e.name, s, table, engine.ErrNotFound)
	}
	if err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	if d.Kind == "view" {
		d.Definition = def.String
	}
	est, err := e.rowEstimates(ctx, c, s)
	if err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	if n, ok := est[strings.ToLower(d.Name)]; ok && d.Kind == "table" {
		d.RowEstimate = n
	}
	if err := e.describeColumns(ctx, c, s, d); err != nil {
		return nil, err
	}
	if d.Kind == "table" {
		if err := e.describeIndexes(ctx, c, s, d); err != nil {
			return nil, err
		}
		if d.ForeignKeys, err = e.foreignKeys(ctx, c, s, d.Name); err != nil {
			return nil, err
		}
		if d.ReferencedBy, err = e.referencedBy(ctx, c, s, d.Name); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (e *Engine) describeColumns(ctx context.Context, c *sql.Conn, schema string, d *engine.TableDetail) error {
	rows, err := c.QueryContext(ctx, `SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid`, d.Name, schema)
	if err != nil {
		return e.mapErr(ctx, c, err, 0)
	}
	defer rows.Close()
	pk := map[int64]string{}
	pos := 0
	for rows.Next() {
		var cid, notNull, pkSeq, hidden int64
		var name, typ string
		var dflt sql.NullString
		if err := rows.Scan(&cid, &name, &typ, &notNull, &dflt, &pkSeq, &hidden); err != nil {
			return e.mapErr(ctx, c, err, 0)
		}
		if hidden == 1 { // hidden column of a virtual table
			continue
		}
		pos++
		col := engine.ColumnInfo{Name: name, Type: strings.ToLower(typ), Nullable: notNull == 0, Position: pos}
		// An INTEGER PRIMARY KEY is the rowid: never NULL, though SQLite
		// reports notnull=0 for it.
		if pkSeq > 0 && strings.EqualFold(typ, "integer") {
			col.Nullable = false
		}
		if dflt.Valid {
			v := dflt.String
			col.Default = &v
		}
		if pkSeq > 0 {
			pk[pkSeq] = name
		}
		d.Columns = append(d.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return e.mapErr(ctx, c, err, 0)
	}
	for i := int64(1); i <= int64(len(pk)); i++ {
		d.PrimaryKey = append(d.PrimaryKey, pk[i])
	}
	return nil
}

func (e *Engine) describeIndexes(ctx context.Context, c *sql.Conn, schema string, d *engine.TableDetail) error {
	rows, err := c.QueryContext(ctx, `SELECT l.name, l."unique", l.origin, m.sql FROM pragma_index_list(?, ?) l
		LEFT JOIN `+quoteIdent(schema)+`.sqlite_schema m ON m.type = 'index' AND m.name = l.name ORDER BY l.name`, d.Name, schema)
	if err != nil {
		return e.mapErr(ctx, c, err, 0)
	}
	var idx []engine.Index
	for rows.Next() {
		var ix engine.Index
		var unique int64
		var origin string
		var def sql.NullString
		if err := rows.Scan(&ix.Name, &unique, &origin, &def); err != nil {
			rows.Close()
			return e.mapErr(ctx, c, err, 0)
		}
		ix.Unique, ix.Primary, ix.Method, ix.Definition = unique == 1, origin == "pk", "btree", def.String
		idx = append(idx, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return e.mapErr(ctx, c, err, 0)
	}
	for i := range idx {
		cr, err := c.QueryContext(ctx, "SELECT cid, name FROM pragma_index_info(?, ?) ORDER BY seqno", idx[i].Name, schema)
		if err != nil {
			return e.mapErr(ctx, c, err, 0)
		}
		for cr.Next() {
			var cid int64
			var name sql.NullString
			if err := cr.Scan(&cid, &name); err != nil {
				cr.Close()
				return e.mapErr(ctx, c, err, 0)
			}
			switch {
			case name.Valid:
				idx[i].Columns = append(idx[i].Columns, name.String)
			case cid == -1:
				idx[i].Columns = append(idx[i].Columns, "rowid")
			default:
				idx[i].Columns = append(idx[i].Columns, "<expression>")
			}
		}
		cr.Close()
		if err := cr.Err(); err != nil {
			return e.mapErr(ctx, c, err, 0)
		}
	}
	d.Indexes = idx
	return nil
}

// fkRow is one row of pragma_foreign_key_list.
type fkRow struct {
	table, id, refTable, from string
	to                        sql.NullString
	onUpdate, onDelete        string
}

// foldFKs groups pragma rows (ordered by table, id, seq) into keys. A
// missing "to" column means the parent's primary key.
func (e *Engine) foldFKs(ctx context.Context, c *sql.Conn, schema string, fks []fkRow) ([]engine.ForeignKey, error) {
	var out []engine.ForeignKey
	for i, r := range fks {
		if i == 0 || r.table != fks[i-1].table || r.id != fks[i-1].id {
			out = append(out, engine.ForeignKey{
				Name: "fk_" + r.table + "_" + r.id, Schema: schema, Table: r.table,
				RefSchema: schema, RefTable: r.refTable, OnUpdate: r.onUpdate, OnDelete: r.onDelete,
			})
		}
		k := &out[len(out)-1]
		k.Columns = append(k.Columns, r.from)
		if r.to.Valid {
			k.RefColumns = append(k.RefColumns, r.to.String)
		}
	}
	for i := range out {
		if len(out[i].RefColumns) == 0 {
			var pk []string
			rows, err := c.QueryContext(ctx, "SELECT name FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk", out[i].RefTable, schema)
			if err != nil {
				return nil, e.mapErr(ctx, c, err, 0)
			}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					rows.Close()
					return nil, e.mapErr(ctx, c, err, 0)
				}
				pk = append(pk, n)
			}
			rows.Close()
			out[i].RefColumns = pk
		}
	}
	return out, nil
}

func (e *Engine) scanFKs(ctx context.Context, c *sql.Conn, q string, args ...any) ([]fkRow, error) {
	rows, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	defer rows.Close()
	var out []fkRow
	for rows.Next() {
		var r fkRow
		if err := rows.Scan(&r.table, &r.id, &r.refTable, &r.from, &r.to, &r.onUpdate, &r.onDelete); err != nil {
			return nil, e.mapErr(ctx, c, err, 0)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, e.mapErr(ctx, c, err, 0)
	}
	return out, nil
}

func (e *Engine) foreignKeys(ctx context.Context, c *sql.Conn, schema, table string) ([]engine.ForeignKey, error) {
	rows, err := e.scanFKs(ctx, c, `SELECT ?, id, "table", "from", "to", on_update, on_delete
		FROM pragma_foreign_key_list(?, ?) ORDER BY id, seq`, table, table, schema)
	if err != nil {
		return nil, err
	}
	return e.foldFKs(ctx, c, schema, rows)
}

// referencedBy scans every table's foreign keys for ones pointing at table.
func (e *Engine) referencedBy(ctx context.Context, c *sql.Conn, schema, table string) ([]engine.ForeignKey, error) {
	rows, err := e.scanFKs(ctx, c, `SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
		FROM `+quoteIdent(schema)+`.sqlite_schema m JOIN pragma_foreign_key_list(m.name, ?) f
		WHERE m.type = 'table' AND f."table" = ? COLLATE NOCASE ORDER BY m.name, f.id, f.seq`, schema, table)
	if err != nil {
		return nil, err
	}
	return e.foldFKs(ctx, c, schema, rows)
}

// Routines returns an empty list: SQLite has no stored routines.
func (e *Engine) Routines(ctx context.Context, schema string) ([]engine.Routine, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("target %s: routines: %w", e.name, err)
	}
	return []engine.Routine{}, nil
}
