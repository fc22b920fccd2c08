package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/dap-platform/dap/internal/engine"
)

// userSchema is the filter that leaves out system schemas.
const userSchema = `n.nspname NOT IN ('pg_catalog', 'information_schema')
	AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`

// readTx runs fn inside a read-only transaction with the server-side
// limits of lim, always rolled back. Catalog reads and EXPLAIN use it;
// their few extra round-trips do not matter the way Query's do.
func (e *Engine) readTx(parent context.Context, lim engine.Limits, fn func(ctx context.Context, tx pgx.Tx) error) error {
	lim = lim.WithDefaults()
	ctx, cancel := context.WithTimeout(parent, lim.Timeout+grace)
	defer cancel()
	conn, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	err = func() error {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		ms := strconv.FormatInt(max(lim.Timeout.Milliseconds(), 1), 10)
		if _, err := tx.Exec(ctx, setLimits, ms); err != nil {
			return err
		}
		return fn(ctx, tx)
	}()
	e.release(conn, false, false)
	if err != nil {
		if _, ok := err.(notFoundError); ok {
			return fmt.Errorf("target %s: %s: %w", e.name, err.Error(), engine.ErrNotFound)
		}
		return e.mapError(parent, err, lim.Timeout, nil)
	}
	return nil
}

// notFoundError carries a not-found message out of readTx.
type notFoundError string

func (n notFoundError) Error() string { return string(n) }

// Schemas implements engine.Catalog.
func (e *Engine) Schemas(ctx context.Context) ([]engine.Schema, error) {
	var out []engine.Schema
	err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner),
	coalesce(pg_catalog.obj_description(n.oid, 'pg_namespace'), '')
FROM pg_catalog.pg_namespace n WHERE `+userSchema+` ORDER BY 1`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.Schema, error) {
			var s engine.Schema
			err := r.Scan(&s.Name, &s.Owner, &s.Comment)
			return s, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	return out, nil
}

// relKind names pg_class.relkind values.
func relKind(k string) string {
	switch k {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "f":
		return "foreign table"
	}
	return "table" // r, p (partitioned)
}

// Tables implements engine.Catalog. Row estimates are pg_class.reltuples
// (-1 when never analyzed, and for views).
func (e *Engine) Tables(ctx context.Context, schema string) ([]engine.Table, error) {
	var out []engine.Table
	err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT n.nspname, c.relname, c.relkind::text,
	CASE WHEN c.relkind IN ('v', 'f') THEN -1 ELSE c.reltuples::int8 END,
	coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '')
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND `+userSchema+`
	AND ($1 = '' OR n.nspname = $1)
ORDER BY 1, 2`, schema)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.Table, error) {
			var t engine.Table
			var kind string
			err := r.Scan(&t.Schema, &t.Name, &kind, &t.RowEstimate, &t.Comment)
			t.Kind = relKind(kind)
			return t, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}

// Describe implements engine.Catalog; schema "" is the connection's
// current schema (normally public).
func (e *Engine) Describe(ctx context.Context, schema, table string) (*engine.TableDetail, error) {
	var d engine.TableDetail
	err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		var oid uint32
		var kind string
		var def *string
		err := tx.QueryRow(ctx, `SELECT c.oid, n.nspname, c.relname, c.relkind::text,
	CASE WHEN c.relkind IN ('v', 'f') THEN -1 ELSE c.reltuples::int8 END,
	coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''),
	CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = coalesce(nullif($1, ''), current_schema()) AND c.relname = $2
	AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`, schema, table).
			Scan(&oid, &d.Schema, &d.Name, &kind, &d.RowEstimate, &d.Comment, &def)
		if err == pgx.ErrNoRows {
			name := table
			if schema != "" {
				name = schema + "." + table
			}
			return notFoundError(fmt.Sprintf("table or view %q not found", name))
		}
		if err != nil {
			return err
		}
		d.Kind = relKind(kind)
		if def != nil {
			d.Definition = *def
		}
		if d.Columns, err = describeColumns(ctx, tx, oid); err != nil {
			return err
		}
		if d.Indexes, err = describeIndexes(ctx, tx, oid); err != nil {
			return err
		}
		for _, ix := range d.Indexes {
			if ix.Primary {
				d.PrimaryKey = ix.Columns
			}
		}
		if d.ForeignKeys, err = describeFKs(ctx, tx, "con.conrelid", oid); err != nil {
			return err
		}
		d.ReferencedBy, err = describeFKs(ctx, tx, "con.confrelid", oid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	return &d, nil
}

func describeColumns(ctx context.Context, tx pgx.Tx, oid uint32) ([]engine.ColumnInfo, error) {
	rows, err := tx.Query(ctx, `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
	NOT a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid),
	coalesce(pg_catalog.col_description(a.attrelid, a.attnum), ''), a.attnum::int
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ColumnInfo, error) {
		var c engine.ColumnInfo
		err := r.Scan(&c.Name, &c.Type, &c.Nullable, &c.Default, &c.Comment, &c.Position)
		return c, err
	})
}

func describeIndexes(ctx context.Context, tx pgx.Tx, oid uint32) ([]engine.Index, error) {
	rows, err := tx.Query(ctx, `SELECT ic.relname, i.indisunique, i.indisprimary, am.amname,
	pg_catalog.pg_get_indexdef(i.indexrelid),
	ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
		FROM generate_series(1, i.indnkeyatts) k ORDER BY k)
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = $1
ORDER BY NOT i.indisprimary, ic.relname`, oid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.Index, error) {
		var ix engine.Index
		err := r.Scan(&ix.Name, &ix.Unique, &ix.Primary, &ix.Method, &ix.Definition, &ix.Columns)
		return ix, err
	})
}

// fkAction names pg_constraint.confdeltype / confupdtype values.
func fkAction(c string) string {
	switch c {
	case "r":
		return "RESTRICT"
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	}
	return "NO ACTION"
}

// describeFKs lists foreign keys whose side (con.conrelid: out,
// con.confrelid: in) is the table. side is one of two constants.
func describeFKs(ctx context.Context, tx pgx.Tx, side string, oid uint32) ([]engine.ForeignKey, error) {
	rows, err := tx.Query(ctx, `SELECT con.conname, n1.nspname, c1.relname,
	ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY u(num, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = u.num ORDER BY u.ord),
	n2.nspname, c2.relname,
	ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY u(num, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = u.num ORDER BY u.ord),
	con.confdeltype::text, con.confupdtype::text
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c1 ON c1.oid = con.conrelid
JOIN pg_catalog.pg_namespace n1 ON n1.oid = c1.relnamespace
JOIN pg_catalog.pg_class c2 ON c2.oid = con.confrelid
JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0 AND `+side+` = $1
ORDER BY con.conname`, oid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.ForeignKey, error) {
		var fk engine.ForeignKey
		var del, upd string
		err := r.Scan(&fk.Name, &fk.Schema, &fk.Table, &fk.Columns, &fk.RefSchema, &fk.RefTable, &fk.RefColumns, &del, &upd)
		fk.OnDelete, fk.OnUpdate = fkAction(del), fkAction(upd)
		return fk, err
	})
}

// Routines implements engine.Catalog: procedures and plain functions
// (not aggregates or window functions) with their parameters.
func (e *Engine) Routines(ctx context.Context, schema string) ([]engine.Routine, error) {
	var out []engine.Routine
	err := e.readTx(ctx, engine.Limits{}, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT n.nspname, p.proname, p.prokind::text,
	coalesce(pg_catalog.pg_get_function_result(p.oid), ''),
	coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), ''), p.provolatile::text,
	coalesce(p.proargnames, '{}'::text[]),
	coalesce(p.proargmodes::text[], '{}'::text[]),
	ARRAY(SELECT pg_catalog.format_type(t, NULL)
		FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, ord) ORDER BY ord),
	p.pronargdefaults::int
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND `+userSchema+` AND ($1 = '' OR n.nspname = $1)
	AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep
		WHERE dep.classid = 'pg_catalog.pg_proc'::regclass AND dep.objid = p.oid AND dep.deptype = 'e')
ORDER BY 1, 2, p.oid`, schema)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (engine.Routine, error) {
			var rt engine.Routine
			var kind, vol string
			var names, modes, types []string
			var nDefaults int
			if err := r.Scan(&rt.Schema, &rt.Name, &kind, &rt.Returns, &rt.Comment, &vol, &names, &modes, &types, &nDefaults); err != nil {
				return rt, err
			}
			rt.Kind = "function"
			if kind == "p" {
				rt.Kind = "procedure"
			}
			rt.Volatile = map[string]string{"i": "immutable", "s": "stable", "v": "volatile"}[vol]
			rt.Params = routineParams(names, modes, types, nDefaults)
			return rt, nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list routines: %w", err)
	}
	return out, nil
}

// routineParams builds the parameter list from pg_proc's parallel arrays.
// RETURNS TABLE columns (mode t) are results, not parameters. Defaults
// belong to the last nDefaults input parameters.
func routineParams(names, modes, types []string, nDefaults int) []engine.Param {
	var ps []engine.Param
	var inputs []int // indexes into ps of input parameters
	for i, typ := range types {
		mode := "i"
		if i < len(modes) {
			mode = modes[i]
		}
		p := engine.Param{Type: typ, Position: len(ps) + 1}
		if i < len(names) {
			p.Name = names[i]
		}
		switch mode {
		case "t":
			continue
		case "o":
			p.Mode = "out"
		case "b":
			p.Mode = "inout"
		case "v":
			p.Mode = "variadic"
		default:
			p.Mode = "in"
		}
		if p.Mode != "out" {
			inputs = append(inputs, len(ps))
		}
		ps = append(ps, p)
	}
	for k := len(inputs) - nDefaults; k >= 0 && k < len(inputs); k++ {
		ps[inputs[k]].HasDefault = true
	}
	return ps
}
