package sqlserver

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/dap-platform/dap/internal/engine"
)

// systemSchemas are left out of every listing: the system schemas and the
// schemas SQL Server creates for the fixed database roles. A plain list,
// not LIKE 'db[_]%', so a user schema called db_sales still shows.
const systemSchemas = `(N'sys', N'INFORMATION_SCHEMA', N'guest', N'db_owner', N'db_accessadmin',
    N'db_securityadmin', N'db_ddladmin', N'db_backupoperator', N'db_datareader',
    N'db_datawriter', N'db_denydatareader', N'db_denydatawriter')`

// Extended property classes: 1 object or column, 3 schema.
var schemasSQL = `SELECT s.name, COALESCE(p.name, N'') AS owner,
       COALESCE(CAST(ep.value AS nvarchar(4000)), N'') AS comment
FROM sys.schemas AS s
LEFT JOIN sys.database_principals AS p ON p.principal_id = s.principal_id
LEFT JOIN sys.extended_properties AS ep
       ON ep.class = 3 AND ep.major_id = s.schema_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
WHERE s.name NOT IN ` + systemSchemas + `
ORDER BY s.name`

// Row estimates come from sys.partitions (heap or clustered index rows),
// never from COUNT(*); a view without an index has none (-1).
var tablesSQL = `SELECT s.name AS schema_name, o.name, o.kind,
       COALESCE((SELECT SUM(p.rows) FROM sys.partitions AS p
                 WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)), -1) AS row_estimate,
       COALESCE(CAST(ep.value AS nvarchar(4000)), N'') AS comment
FROM (SELECT t.object_id, t.schema_id, t.name, N'table' AS kind FROM sys.tables AS t WHERE t.is_ms_shipped = 0
      UNION ALL
      SELECT v.object_id, v.schema_id, v.name, N'view' AS kind FROM sys.views AS v WHERE v.is_ms_shipped = 0) AS o
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
LEFT JOIN sys.extended_properties AS ep
       ON ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
WHERE (@p1 = N'' OR s.name = @p1)
  AND s.name NOT IN ` + systemSchemas + `
ORDER BY s.name, o.name`

// describeObjectSQL finds one table or view; schema ” means the caller's
// default schema.
const describeObjectSQL = `SELECT o.object_id, s.name AS schema_name, o.name,
       CASE o.type WHEN 'U' THEN N'table' ELSE N'view' END AS kind,
       COALESCE((SELECT SUM(p.rows) FROM sys.partitions AS p
                 WHERE p.object_id = o.object_id AND p.index_id IN (0, 1)), -1) AS row_estimate,
       COALESCE(CAST(ep.value AS nvarchar(4000)), N'') AS comment,
       COALESCE(m.definition, N'') AS definition
FROM sys.objects AS o
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
LEFT JOIN sys.sql_modules AS m ON m.object_id = o.object_id
LEFT JOIN sys.extended_properties AS ep
       ON ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
WHERE o.type IN ('U', 'V')
  AND s.name = COALESCE(NULLIF(@p1, N''), SCHEMA_NAME())
  AND o.name = @p2`

// Types are reported with their length, precision or scale, assembled in
// Go by formatType from the raw catalog numbers.
const columnsSQL = `SELECT c.name, t.name AS type_name, c.max_length, c.precision, c.scale, t.is_user_defined,
       c.is_nullable, dc.definition AS default_definition,
       COALESCE(CAST(ep.value AS nvarchar(4000)), N'') AS comment, c.column_id
FROM sys.columns AS c
JOIN sys.types AS t ON t.user_type_id = c.user_type_id
LEFT JOIN sys.default_constraints AS dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.extended_properties AS ep
       ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id AND ep.name = N'MS_Description'
WHERE c.object_id = @p1
ORDER BY c.column_id`

const indexesSQL = `SELECT i.index_id, i.name, i.is_unique, i.is_primary_key, i.type_desc,
       COALESCE(i.filter_definition, N'') AS filter_definition,
       ic.is_descending_key, ic.is_included_column, c.name AS column_name
FROM sys.indexes AS i
JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = @p1 AND i.index_id > 0 AND i.is_hypothetical = 0
ORDER BY i.index_id, ic.is_included_column, ic.key_ordinal, ic.index_column_id`

// Both directions in one pass: the caller splits out (parent is the table)
// from in (referenced is the table); a self-reference is both.
const foreignKeysSQL = `SELECT fk.name, fk.parent_object_id, fk.referenced_object_id,
       ps.name AS schema_name, pt.name AS table_name, pc.name AS column_name,
       rs.name AS ref_schema, rt.name AS ref_table, rc.name AS ref_column,
       fk.delete_referential_action_desc, fk.update_referential_action_desc
FROM sys.foreign_keys AS fk
JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.objects AS pt ON pt.object_id = fk.parent_object_id
JOIN sys.schemas AS ps ON ps.schema_id = pt.schema_id
JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.objects AS rt ON rt.object_id = fk.referenced_object_id
JOIN sys.schemas AS rs ON rs.schema_id = rt.schema_id
JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.parent_object_id = @p1 OR fk.referenced_object_id = @p1
ORDER BY fk.name, fkc.constraint_column_id`

// P procedure; FN scalar, IF inline table-valued, TF table-valued function.
// The module text is read to find parameter defaults (see paramDefaults).
var routinesSQL = `SELECT o.object_id, s.name AS schema_name, o.name, o.type,
       COALESCE(CAST(ep.value AS nvarchar(4000)), N'') AS comment,
       COALESCE(m.definition, N'') AS definition
FROM sys.objects AS o
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
LEFT JOIN sys.sql_modules AS m ON m.object_id = o.object_id
LEFT JOIN sys.extended_properties AS ep
       ON ep.class = 1 AND ep.major_id = o.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
WHERE o.type IN ('P', 'FN', 'IF', 'TF') AND o.is_ms_shipped = 0
  AND (@p1 = N'' OR s.name = @p1)
  AND s.name NOT IN ` + systemSchemas + `
ORDER BY s.name, o.name`

// parameter_id 0 is a scalar function's return value.
var parametersSQL = `SELECT p.object_id, p.parameter_id, p.name, t.name AS type_name, p.max_length, p.precision,
       p.scale, t.is_user_defined, p.is_output, p.has_default_value
FROM sys.parameters AS p
JOIN sys.types AS t ON t.user_type_id = p.user_type_id
JOIN sys.objects AS o ON o.object_id = p.object_id
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
WHERE o.type IN ('P', 'FN', 'IF', 'TF') AND o.is_ms_shipped = 0
  AND (@p1 = N'' OR s.name = @p1)
  AND s.name NOT IN ` + systemSchemas + `
ORDER BY p.object_id, p.parameter_id`

// Schemas lists user schemas.
func (e *Engine) Schemas(ctx context.Context) ([]engine.Schema, error) {
	var out []engine.Schema
	err := e.withConn(ctx, engine.Limits{}, "list schemas", func(ctx context.Context, c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, schemasSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s engine.Schema
			if err := rows.Scan(&s.Name, &s.Owner, &s.Comment); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// Tables lists tables and views of schema ("" = all user schemas).
func (e *Engine) Tables(ctx context.Context, schema string) ([]engine.Table, error) {
	var out []engine.Table
	err := e.withConn(ctx, engine.Limits{}, "list tables", func(ctx context.Context, c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, tablesSQL, schema)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t engine.Table
			if err := rows.Scan(&t.Schema, &t.Name, &t.Kind, &t.RowEstimate, &t.Comment); err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// Describe returns one table or view with columns, keys, indexes and
// foreign keys in both directions; ErrNotFound when absent.
func (e *Engine) Describe(ctx context.Context, schema, table string) (*engine.TableDetail, error) {
	var d *engine.TableDetail
	err := e.withConn(ctx, engine.Limits{}, "describe "+displayName(schema, table), func(ctx context.Context, c *sql.Conn) error {
		var id int64
		t := &engine.TableDetail{}
		err := c.QueryRowContext(ctx, describeObjectSQL, schema, table).
			Scan(&id, &t.Schema, &t.Name, &t.Kind, &t.RowEstimate, &t.Comment, &t.Definition)
		if err == sql.ErrNoRows {
			return fmt.Errorf("table or view %s does not exist or is not visible to this login: %w", displayName(schema, table), engine.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if t.Columns, err = describeColumns(ctx, c, id); err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		if t.Indexes, t.PrimaryKey, err = describeIndexes(ctx, c, id, t.Schema, t.Name); err != nil {
			return fmt.Errorf("indexes: %w", err)
		}
		if t.ForeignKeys, t.ReferencedBy, err = describeForeignKeys(ctx, c, id); err != nil {
			return fmt.Errorf("foreign keys: %w", err)
		}
		d = t
		return nil
	})
	return d, err
}

func displayName(schema, table string) string {
	if schema == "" {
		return table
	}
	return schema + "." + table
}

func describeColumns(ctx context.Context, c *sql.Conn, id int64) ([]engine.ColumnInfo, error) {
	rows, err := c.QueryContext(ctx, columnsSQL, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.ColumnInfo
	for rows.Next() {
		var (
			ci          engine.ColumnInfo
			typ         string
			maxLen      int64
			prec, scale int64
			userDefined bool
			def         sql.NullString
		)
		if err := rows.Scan(&ci.Name, &typ, &maxLen, &prec, &scale, &userDefined, &ci.Nullable, &def, &ci.Comment, &ci.Position); err != nil {
			return nil, err
		}
		ci.Type = formatType(typ, maxLen, prec, scale, userDefined)
		if def.Valid {
			ci.Default = &def.String
		}
		out = append(out, ci)
	}
	return out, rows.Err()
}

// formatType renders a sys.types name with the column's size the way
// T-SQL spells it: nvarchar(50), varbinary(max), decimal(10,2),
// datetime2(3). max_length is in bytes (-1 for max), so n-types halve it.
func formatType(name string, maxLen, prec, scale int64, userDefined bool) string {
	name = strings.ToLower(name)
	if userDefined {
		return name
	}
	switch name {
	case "varchar", "char", "varbinary", "binary":
		if maxLen == -1 {
			return name + "(max)"
		}
		return name + "(" + strconv.FormatInt(maxLen, 10) + ")"
	case "nvarchar", "nchar":
		if maxLen == -1 {
			return name + "(max)"
		}
		return name + "(" + strconv.FormatInt(maxLen/2, 10) + ")"
	case "decimal", "numeric":
		return name + "(" + strconv.FormatInt(prec, 10) + "," + strconv.FormatInt(scale, 10) + ")"
	case "datetime2", "datetimeoffset", "time":
		return name + "(" + strconv.FormatInt(scale, 10) + ")"
	}
	return name
}

func describeIndexes(ctx context.Context, c *sql.Conn, id int64, schema, table string) ([]engine.Index, []string, error) {
	rows, err := c.QueryContext(ctx, indexesSQL, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ir []indexRow
	for rows.Next() {
		var r indexRow
		var name sql.NullString
		if err := rows.Scan(&r.id, &name, &r.unique, &r.primary, &r.typeDesc, &r.filter, &r.desc, &r.included, &r.column); err != nil {
			return nil, nil, err
		}
		r.name = name.String
		ir = append(ir, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	idx, pk := buildIndexes(ir, schema, table)
	return idx, pk, nil
}

// indexRow is one row of indexesSQL: one column of one index.
type indexRow struct {
	id                     int64
	name, typeDesc, filter string
	unique, primary        bool
	desc, included         bool
	column                 string
}

// buildIndexes groups index rows (ordered by index, key columns first)
// into indexes with a CREATE INDEX definition, and returns the primary key.
func buildIndexes(rows []indexRow, schema, table string) ([]engine.Index, []string) {
	var (
		out []engine.Index
		pk  []string
	)
	tbl, _ := qualified(schema, table)
	for i := 0; i < len(rows); {
		j := i
		var keys, keyDefs, incl []string
		for ; j < len(rows) && rows[j].id == rows[i].id; j++ {
			r := rows[j]
			q, _ := quoteIdent(r.column)
			if r.included {
				incl = append(incl, q)
				continue
			}
			keys = append(keys, r.column)
			if r.desc {
				keyDefs = append(keyDefs, q+" DESC")
			} else {
				keyDefs = append(keyDefs, q+" ASC")
			}
		}
		r := rows[i]
		method := strings.ToLower(r.typeDesc)
		var def strings.Builder
		def.WriteString("CREATE ")
		if r.unique {
			def.WriteString("UNIQUE ")
		}
		def.WriteString(strings.ToUpper(method) + " INDEX ")
		iname, _ := quoteIdent(r.name)
		def.WriteString(iname + " ON " + tbl)
		switch {
		case len(keyDefs) > 0:
			def.WriteString(" (" + strings.Join(keyDefs, ", ") + ")")
			if len(incl) > 0 {
				def.WriteString(" INCLUDE (" + strings.Join(incl, ", ") + ")")
			}
		case len(incl) > 0 && !strings.HasPrefix(method, "clustered"):
			// A nonclustered columnstore lists its columns; a clustered one none.
			def.WriteString(" (" + strings.Join(incl, ", ") + ")")
		}
		if r.filter != "" {
			def.WriteString(" WHERE " + r.filter)
		}
		cols := keys
		if len(cols) == 0 { // columnstore indexes have no key columns
			cols = make([]string, 0, len(incl))
			for _, q := range incl {
				cols = append(cols, strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(q, "["), "]"), "]]", "]"))
			}
		}
		if r.primary {
			pk = keys
		}
		out = append(out, engine.Index{Name: r.name, Columns: cols, Unique: r.unique, Primary: r.primary, Method: method, Definition: def.String()})
		i = j
	}
	return out, pk
}

// fkRow is one row of foreignKeysSQL: one column pair of one foreign key.
type fkRow struct {
	name                        string
	parentID, refID             int64
	schema, table, column       string
	refSchema, refTable, refCol string
	onDelete, onUpdate          string
}

func describeForeignKeys(ctx context.Context, c *sql.Conn, id int64) (out, in []engine.ForeignKey, err error) {
	rows, err := c.QueryContext(ctx, foreignKeysSQL, id)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var fr []fkRow
	for rows.Next() {
		var r fkRow
		if err := rows.Scan(&r.name, &r.parentID, &r.refID, &r.schema, &r.table, &r.column,
			&r.refSchema, &r.refTable, &r.refCol, &r.onDelete, &r.onUpdate); err != nil {
			return nil, nil, err
		}
		fr = append(fr, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out, in = buildForeignKeys(fr, id)
	return out, in, nil
}

// buildForeignKeys groups rows (ordered by key name, column order) and
// splits them into this table's references (out) and references to it (in).
func buildForeignKeys(rows []fkRow, id int64) (out, in []engine.ForeignKey) {
	for i := 0; i < len(rows); {
		r := rows[i]
		fk := engine.ForeignKey{Name: r.name, Schema: r.schema, Table: r.table, RefSchema: r.refSchema, RefTable: r.refTable,
			OnDelete: referentialAction(r.onDelete), OnUpdate: referentialAction(r.onUpdate)}
		j := i
		for ; j < len(rows) && rows[j].name == r.name && rows[j].parentID == r.parentID; j++ {
			fk.Columns = append(fk.Columns, rows[j].column)
			fk.RefColumns = append(fk.RefColumns, rows[j].refCol)
		}
		if r.parentID == id {
			out = append(out, fk)
		}
		if r.refID == id {
			in = append(in, fk)
		}
		i = j
	}
	return out, in
}

// referentialAction turns NO_ACTION into "NO ACTION" (the SQL spelling).
func referentialAction(s string) string { return strings.ReplaceAll(s, "_", " ") }

// Routines lists procedures and functions with their parameters.
func (e *Engine) Routines(ctx context.Context, schema string) ([]engine.Routine, error) {
	var out []engine.Routine
	err := e.withConn(ctx, engine.Limits{}, "list routines", func(ctx context.Context, c *sql.Conn) error {
		rows, err := c.QueryContext(ctx, routinesSQL, schema)
		if err != nil {
			return err
		}
		byID := map[int64]int{}
		var defaults []map[string]bool
		for rows.Next() {
			var (
				id       int64
				r        engine.Routine
				typ, def string
			)
			if err := rows.Scan(&id, &r.Schema, &r.Name, &typ, &r.Comment, &def); err != nil {
				rows.Close()
				return err
			}
			r.Kind, r.Returns = routineKind(typ)
			r.Params = []engine.Param{}
			byID[id] = len(out)
			out = append(out, r)
			defaults = append(defaults, paramDefaults(ctx, def))
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		prows, err := c.QueryContext(ctx, parametersSQL, schema)
		if err != nil {
			return err
		}
		defer prows.Close()
		for prows.Next() {
			var (
				id, pos, maxLen, prec, scale int64
				name, typ                    string
				userDefined, isOut, hasDef   bool
			)
			if err := prows.Scan(&id, &pos, &name, &typ, &maxLen, &prec, &scale, &userDefined, &isOut, &hasDef); err != nil {
				return err
			}
			i, ok := byID[id]
			if !ok {
				continue
			}
			ft := formatType(typ, maxLen, prec, scale, userDefined)
			if pos == 0 { // a scalar function's return value
				out[i].Returns = ft
				continue
			}
			mode := "in"
			if isOut {
				mode = "inout" // T-SQL OUTPUT parameters are also inputs
			}
			// has_default_value is only ever set for CLR routines.
			hasDef = hasDef || defaults[i][strings.ToLower(name)]
			out[i].Params = append(out[i].Params, engine.Param{Name: name, Type: ft, Mode: mode, Position: int(pos), HasDefault: hasDef})
		}
		return prows.Err()
	})
	return out, err
}

// routineKind maps sys.objects.type to kind and, for table functions, the
// return type "table" (scalar functions get theirs from parameter 0).
func routineKind(typ string) (kind, returns string) {
	switch strings.TrimSpace(typ) {
	case "P":
		return "procedure", ""
	case "IF", "TF":
		return "function", "table"
	}
	return "function", ""
}
