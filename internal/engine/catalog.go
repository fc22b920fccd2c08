package engine

import "context"

// Catalog introspects a target. Schema "" means all user schemas (the
// adapter leaves out system schemas such as pg_catalog, information_schema,
// mysql, performance_schema, sys).
type Catalog interface {
	Schemas(ctx context.Context) ([]Schema, error)
	Tables(ctx context.Context, schema string) ([]Table, error)
	// Describe returns one table or view; ErrNotFound when absent. schema ""
	// means the default schema (public, the current database, main, dbo).
	Describe(ctx context.Context, schema, table string) (*TableDetail, error)
	// Routines lists procedures and functions with their parameters.
	Routines(ctx context.Context, schema string) ([]Routine, error)
}

// Schema is a namespace (a PostgreSQL schema, a MySQL database, an SQLite
// attached database).
type Schema struct {
	Name    string `json:"name"`
	Owner   string `json:"owner,omitempty"`
	Comment string `json:"comment,omitempty"`
}

// Table is a table or view in a listing.
type Table struct {
	Schema      string `json:"schema"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`         // table, view, materialized view, foreign table
	RowEstimate int64  `json:"row_estimate"` // from statistics; -1 when unknown
	Comment     string `json:"comment,omitempty"`
}

// ColumnInfo describes one column of a table.
type ColumnInfo struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Nullable bool    `json:"nullable"`
	Default  *string `json:"default,omitempty"`
	Comment  string  `json:"comment,omitempty"`
	Position int     `json:"position"`
}

// Index is one index of a table.
type Index struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"` // expressions appear as text
	Unique     bool     `json:"unique"`
	Primary    bool     `json:"primary"`
	Method     string   `json:"method,omitempty"` // btree, hash, gin ...
	Definition string   `json:"definition,omitempty"`
}

// ForeignKey links columns of one table to another's.
type ForeignKey struct {
	Name       string   `json:"name"`
	Schema     string   `json:"schema"`
	Table      string   `json:"table"`
	Columns    []string `json:"columns"`
	RefSchema  string   `json:"ref_schema"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	OnDelete   string   `json:"on_delete,omitempty"`
	OnUpdate   string   `json:"on_update,omitempty"`
}

// TableDetail is the full definition of one table or view.
type TableDetail struct {
	Table
	Columns    []ColumnInfo `json:"columns"`
	PrimaryKey []string     `json:"primary_key,omitempty"`
	Indexes    []Index      `json:"indexes,omitempty"`
	// ForeignKeys are this table's references to others (out);
	// ReferencedBy are other tables' references to this one (in).
	ForeignKeys  []ForeignKey `json:"foreign_keys,omitempty"`
	ReferencedBy []ForeignKey `json:"referenced_by,omitempty"`
	Definition   string       `json:"definition,omitempty"` // view text where available
}

// Routine is a stored procedure or function.
type Routine struct {
	Schema   string  `json:"schema"`
	Name     string  `json:"name"`
	Kind     string  `json:"kind"` // procedure or function
	Params   []Param `json:"params"`
	Returns  string  `json:"returns,omitempty"`
	Comment  string  `json:"comment,omitempty"`
	Volatile string  `json:"volatility,omitempty"` // PostgreSQL: immutable, stable, volatile
}

// QualifiedName is schema.name (or name when schema is empty).
func (r Routine) QualifiedName() string {
	if r.Schema == "" {
		return r.Name
	}
	return r.Schema + "." + r.Name
}

// Param is one routine parameter.
type Param struct {
	Name       string `json:"name"`
	Type       string `json:"type"` // the database's type name, lower case (integer, text, date, numeric ...)
	Mode       string `json:"mode"` // in, out, inout, variadic
	Position   int    `json:"position"`
	HasDefault bool   `json:"has_default,omitempty"`
}
