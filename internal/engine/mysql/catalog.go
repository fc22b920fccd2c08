package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// systemSchemas are left out of listings.
const systemSchemas = "('mysql', 'information_schema', 'performance_schema', 'sys')"

// catalog runs catalog queries in the read-only transaction (one snapshot
// for all the queries of a Describe) with the catalog timeout.
func (e *Engine) catalog(ctx context.Context, fn func(s *session) error) error {
	return e.run(ctx, txOpts{readOnly: true, timeout: catalogTimeout}, fn)
}

// schemaOrDefault resolves "" to the DSN's database (or the session's).
func (s *session) schemaOrDefault(schema string) (string, error) {
	if schema != "" {
		return schema, nil
	}
	if s.e.dbName != "" {
		return s.e.dbName, nil
	}
	var db sql.NullString
	if err := s.conn.QueryRowContext(s.ctx, "SELECT DATABASE()").Scan(&db); err != nil {
		return "", err
	}
	if !db.Valid || db.String == "" {
		return "", fmt.Errorf("target %s: the DSN names no database, so a schema must be given: %w", s.e.name, engine.ErrInvalid)
	}
	return db.String, nil
}

// Schemas lists user databases.
func (e *Engine) Schemas(ctx context.Context) ([]engine.Schema, error) {
	var out []engine.Schema
	err := e.catalog(ctx, func(s *session) error {
		comment := "''"
		if s.tc.flavour.mariaDB && s.tc.flavour.atLeast(10, 5, 0) {
			comment = "COALESCE(SCHEMA_COMMENT, '')"
		}
		rows, err := s.conn.QueryContext(s.ctx, "SELECT SCHEMA_NAME, "+comment+
			" FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN "+systemSchemas+" ORDER BY SCHEMA_NAME")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sc engine.Schema
			if err := rows.Scan(&sc.Name, &sc.Comment); err != nil {
				return err
			}
			out = append(out, sc)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	return out, nil
}

const tablesSQL = `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, COALESCE(TABLE_COMMENT, '')
FROM information_schema.TABLES WHERE TABLE_TYPE <> 'SYSTEM VIEW' AND `

// Tables lists tables and views of one schema, or of all user schemas.
// Row counts are the statistics' estimates (InnoDB's are approximate).
func (e *Engine) Tables(ctx context.Context, schema string) ([]engine.Table, error) {
	var out []engine.Table
	err := e.catalog(ctx, func(s *session) error {
		q, args := tablesSQL+"TABLE_SCHEMA NOT IN "+systemSchemas, []any(nil)
		if schema != "" {
			q, args = tablesSQL+"TABLE_SCHEMA = ?", []any{schema}
		}
		rows, err := s.conn.QueryContext(s.ctx, q+" ORDER BY TABLE_SCHEMA, TABLE_NAME", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTable(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

func scanTable(rows interface{ Scan(...any) error }) (engine.Table, error) {
	var t engine.Table
	var typ string
	var est sql.NullInt64
	if err := rows.Scan(&t.Schema, &t.Name, &typ, &est, &t.Comment); err != nil {
		return t, err
	}
	t.Kind = tableKind(typ)
	t.RowEstimate = -1
	if est.Valid && t.Kind != "view" {
		t.RowEstimate = est.Int64
	}
	if t.Kind == "view" && t.Comment == "VIEW" {
		t.Comment = "" // MySQL fills a view's comment with its type
	}
	return t, nil
}

func tableKind(typ string) string {
	switch typ {
	case "BASE TABLE", "SYSTEM VERSIONED":
		return "table"
	case "VIEW":
		return "view"
	}
	return strings.ToLower(typ)
}

// Describe returns one table or view; schema "" is the DSN's database.
func (e *Engine) Describe(ctx context.Context, schema, table string) (*engine.TableDetail, error) {
	var d *engine.TableDetail
	err := e.catalog(ctx, func(s *session) error {
		sch, err := s.schemaOrDefault(schema)
		if err != nil {
			return err
		}
		row := s.conn.QueryRowContext(s.ctx, tablesSQL+"TABLE_SCHEMA = ? AND TABLE_NAME = ?", sch, table)
		t, err := scanTable(row)
		if err == sql.ErrNoRows {
			return fmt.Errorf("target %s: table or view %s.%s does not exist (list tables to see what does): %w", e.name, sch, table, engine.ErrNotFound)
		}
		if err != nil {
			return err
		}
		d = &engine.TableDetail{Table: t}
		if err := s.describeColumns(d); err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		if err := s.describeIndexes(d); err != nil {
			return fmt.Errorf("indexes: %w", err)
		}
		if err := s.describeForeignKeys(d); err != nil {
			return fmt.Errorf("foreign keys: %w", err)
		}
		if t.Kind == "view" {
			var def sql.NullString
			err := s.conn.QueryRowContext(s.ctx, "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
				t.Schema, t.Name).Scan(&def)
			if err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("view definition: %w", err)
			}
			d.Definition = def.String
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	return d, nil
}

func (s *session) describeColumns(d *engine.TableDetail) error {
	rows, err := s.conn.QueryContext(s.ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
COALESCE(COLUMN_COMMENT, ''), ORDINAL_POSITION, COALESCE(EXTRA, '')
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, d.Schema, d.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c engine.ColumnInfo
		var nullable, extra string
		var def sql.NullString
		if err := rows.Scan(&c.Name, &c.Type, &nullable, &def, &c.Comment, &c.Position, &extra); err != nil {
			return err
		}
		c.Type = strings.ToLower(c.Type)
		c.Nullable = nullable == "YES"
		// MariaDB spells "no default" on a nullable column as the text NULL
		// (a string default would be quoted: 'NULL').
		if def.Valid && !(s.tc.flavour.mariaDB && def.String == "NULL") {
			v := def.String
			c.Default = &v
		} else if strings.Contains(strings.ToLower(extra), "auto_increment") {
			v := "auto_increment"
			c.Default = &v
		}
		d.Columns = append(d.Columns, c)
	}
	return rows.Err()
}

func (s *session) describeIndexes(d *engine.TableDetail) error {
	expr := "NULL"
	if !s.tc.flavour.mariaDB && s.tc.flavour.atLeast(8, 0, 13) {
		expr = "EXPRESSION" // functional key parts
	}
	rows, err := s.conn.QueryContext(s.ctx, `SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, `+expr+`
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`, d.Schema, d.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	var parts [][]string // quoted key parts per index, for the definition
	for rows.Next() {
		var name, typ string
		var nonUnique int
		var col, ex sql.NullString
		var sub sql.NullInt64
		if err := rows.Scan(&name, &nonUnique, &col, &sub, &typ, &ex); err != nil {
			return err
		}
		if n := len(d.Indexes); n == 0 || d.Indexes[n-1].Name != name {
			d.Indexes = append(d.Indexes, engine.Index{
				Name: name, Unique: nonUnique == 0, Primary: name == "PRIMARY", Method: strings.ToLower(typ),
			})
			parts = append(parts, nil)
		}
		ix := &d.Indexes[len(d.Indexes)-1]
		text, part := col.String, quoteIdent(col.String)
		if !col.Valid {
			text, part = ex.String, "("+ex.String+")"
		}
		if sub.Valid {
			part += fmt.Sprintf("(%d)", sub.Int64)
		}
		ix.Columns = append(ix.Columns, text)
		parts[len(parts)-1] = append(parts[len(parts)-1], part)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range d.Indexes {
		ix := &d.Indexes[i]
		keys := strings.Join(parts[i], ", ")
		if ix.Primary {
			d.PrimaryKey = ix.Columns
			ix.Definition = "PRIMARY KEY (" + keys + ")"
			continue
		}
		kind := ""
		switch {
		case ix.Method == "fulltext" || ix.Method == "spatial":
			kind = strings.ToUpper(ix.Method) + " "
		case ix.Unique:
			kind = "UNIQUE "
		}
		ix.Definition = fmt.Sprintf("CREATE %sINDEX %s ON %s.%s (%s)", kind, quoteIdent(ix.Name), quoteIdent(d.Schema), quoteIdent(d.Name), keys)
		if kind == "" || kind == "UNIQUE " {
			ix.Definition += " USING " + strings.ToUpper(ix.Method)
		}
	}
	return nil
}

func (s *session) describeForeignKeys(d *engine.TableDetail) error {
	rows, err := s.conn.QueryContext(s.ctx, `SELECT k.CONSTRAINT_NAME, k.TABLE_SCHEMA, k.TABLE_NAME, k.COLUMN_NAME,
k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.REFERENCED_TABLE_NAME IS NOT NULL
  AND ((k.TABLE_SCHEMA = ? AND k.TABLE_NAME = ?) OR (k.REFERENCED_TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME = ?))
ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, d.Schema, d.Name, d.Schema, d.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all []engine.ForeignKey
	for rows.Next() {
		var fk engine.ForeignKey
		var col, refCol string
		if err := rows.Scan(&fk.Name, &fk.Schema, &fk.Table, &col, &fk.RefSchema, &fk.RefTable, &refCol, &fk.OnUpdate, &fk.OnDelete); err != nil {
			return err
		}
		if n := len(all); n > 0 && all[n-1].Name == fk.Name && all[n-1].Schema == fk.Schema && all[n-1].Table == fk.Table {
			all[n-1].Columns = append(all[n-1].Columns, col)
			all[n-1].RefColumns = append(all[n-1].RefColumns, refCol)
			continue
		}
		fk.Columns, fk.RefColumns = []string{col}, []string{refCol}
		all = append(all, fk)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, fk := range all {
		// A self-reference is both out and in.
		if strings.EqualFold(fk.Schema, d.Schema) && strings.EqualFold(fk.Table, d.Name) {
			d.ForeignKeys = append(d.ForeignKeys, fk)
		}
		if strings.EqualFold(fk.RefSchema, d.Schema) && strings.EqualFold(fk.RefTable, d.Name) {
			d.ReferencedBy = append(d.ReferencedBy, fk)
		}
	}
	return nil
}

// Routines lists procedures and functions with their parameters. Param.Type
// is the base type (DATA_TYPE: int, decimal, varchar ...); Returns is the
// full declared type (decimal(12,2)).
func (e *Engine) Routines(ctx context.Context, schema string) ([]engine.Routine, error) {
	var out []engine.Routine
	err := e.catalog(ctx, func(s *session) error {
		where, args := "NOT IN "+systemSchemas, []any(nil)
		if schema != "" {
			where, args = "= ?", []any{schema}
		}
		rows, err := s.conn.QueryContext(s.ctx, `SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE,
COALESCE(DTD_IDENTIFIER, ''), COALESCE(ROUTINE_COMMENT, '')
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA `+where+` ORDER BY ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE`, args...)
		if err != nil {
			return err
		}
		index := map[string]int{}
		for rows.Next() {
			var r engine.Routine
			if err := rows.Scan(&r.Schema, &r.Name, &r.Kind, &r.Returns, &r.Comment); err != nil {
				rows.Close()
				return err
			}
			r.Kind = strings.ToLower(r.Kind)
			r.Returns = strings.ToLower(r.Returns)
			r.Params = []engine.Param{}
			index[r.Schema+"\x00"+r.Name+"\x00"+r.Kind] = len(out)
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		prows, err := s.conn.QueryContext(s.ctx, `SELECT SPECIFIC_SCHEMA, SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION,
COALESCE(PARAMETER_MODE, ''), COALESCE(PARAMETER_NAME, ''), COALESCE(DATA_TYPE, '')
FROM information_schema.PARAMETERS WHERE ORDINAL_POSITION > 0 AND SPECIFIC_SCHEMA `+where+`
ORDER BY SPECIFIC_SCHEMA, SPECIFIC_NAME, ORDINAL_POSITION`, args...)
		if err != nil {
			return err
		}
		defer prows.Close()
		for prows.Next() {
			var sch, name, typ string
			var p engine.Param
			if err := prows.Scan(&sch, &name, &typ, &p.Position, &p.Mode, &p.Name, &p.Type); err != nil {
				return err
			}
			i, ok := index[sch+"\x00"+name+"\x00"+strings.ToLower(typ)]
			if !ok {
				continue
			}
			p.Mode = strings.ToLower(p.Mode)
			if p.Mode == "" {
				p.Mode = "in" // function parameters have no mode
			}
			p.Type = strings.ToLower(p.Type)
			out[i].Params = append(out[i].Params, p)
		}
		return prows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list routines: %w", err)
	}
	return out, nil
}

// quoteIdent quotes an identifier with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
