package guard

import (
	"context"
	"reflect"
	"strings"

	tsqlast "github.com/sqlc-dev/teesql/ast"
	tsql "github.com/sqlc-dev/teesql/parser"
)

// checkSQLServer parses sql with teesql (a T-SQL parser modelled on
// Microsoft's ScriptDom). SQL Server runs every statement of a batch, so
// the one-statement check here is the only barrier against stacking.
func checkSQLServer(sql string) (v Verdict, err error) {
	// teesql is young; a panic on odd input must be a refusal, not a crash.
	defer func() {
		if p := recover(); p != nil {
			v, err = Verdict{Kind: Unknown}, parseRefusal("SQL Server", "the parser failed on this text")
		}
	}()
	script, perr := tsql.Parse(context.Background(), strings.NewReader(sql))
	if perr != nil {
		return Verdict{Kind: Unknown}, parseRefusal("SQL Server", perr.Error())
	}
	var stmts []tsqlast.Statement
	for _, b := range script.Batches {
		stmts = append(stmts, b.Statements...)
	}
	if len(stmts) != 1 {
		return Verdict{Kind: Unknown}, countRefusal(len(stmts))
	}
	top := stmts[0]
	v = tsqlFaceValue(top)
	w := tsqlWalker{v: &v}
	w.walk(reflect.ValueOf(top), 0)
	return v, nil
}

func tsqlTypeName(x any) string {
	t := reflect.TypeOf(x)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// tsqlFaceValue classifies a statement by its type. EXEC is admin: the
// guard cannot see what a procedure does.
func tsqlFaceValue(s tsqlast.Statement) Verdict {
	tn := tsqlTypeName(s)
	name := camelWords(strings.TrimSuffix(tn, "Statement"))
	v := Verdict{Kind: Unknown, Statement: name}
	switch n := s.(type) {
	case *tsqlast.SelectStatement:
		v.Statement, v.Kind = "SELECT", Read
		if n.Into != nil {
			// SELECT INTO creates a table: DDL, like CREATE TABLE AS.
			v.Kind, v.Construct, v.Reason = DDL, "SELECT ... INTO", "SELECT ... INTO creates a table"
		}
		return v
	case *tsqlast.InsertStatement, *tsqlast.UpdateStatement, *tsqlast.DeleteStatement, *tsqlast.MergeStatement:
		v.Statement, v.Kind = strings.ToUpper(strings.TrimSuffix(tn, "Statement")), Write
		return v
	case *tsqlast.BeginTransactionStatement, *tsqlast.CommitTransactionStatement, *tsqlast.RollbackTransactionStatement,
		*tsqlast.SaveTransactionStatement, *tsqlast.SetTransactionIsolationLevelStatement:
		v.Kind = Tx
		return v
	case *tsqlast.ExecuteStatement, *tsqlast.ExecuteAsStatement:
		v.Statement, v.Kind, v.Reason = "EXECUTE", Admin, "runs a procedure or dynamic SQL the guard cannot see"
		return v
	case *tsqlast.BulkInsertStatement:
		v.Statement, v.Kind, v.Reason = "BULK INSERT", Admin, "reads a file on the database server"
		return v
	case *tsqlast.TruncateTableStatement, *tsqlast.GrantStatement, *tsqlast.RevokeStatement, *tsqlast.DenyStatement,
		*tsqlast.RenameEntityStatement:
		v.Kind = DDL
		return v
	}
	for _, p := range []string{"Create", "Alter", "Drop"} {
		if strings.HasPrefix(tn, p) {
			v.Kind = DDL
			for _, a := range []string{"Login", "Database", "Server", "Endpoint", "Credential", "Availability", "ResourcePool", "Certificate", "MasterKey", "Cryptographic"} {
				if strings.Contains(tn, a) {
					v.Kind = Admin
				}
			}
			return v
		}
	}
	for _, p := range []string{"Set", "Use", "Kill", "Checkpoint", "Reconfigure", "Shutdown", "Dbcc", "Backup", "Restore",
		"Declare", "Open", "Close", "Fetch", "Deallocate", "BeginEnd", "If", "While", "WaitFor", "Print",
		"Raise", "Throw", "Predicate", "Return", "Enable", "Disable", "Revert", "Send", "Receive", "Update", "Write", "Insert"} {
		if strings.HasPrefix(tn, p) {
			v.Kind, v.Reason = Admin, "procedural, session or server statement"
			return v
		}
	}
	return v
}

// tsqlWalker visits every node of a teesql AST by reflection.
type tsqlWalker struct {
	v *Verdict
}

// tsqlDangerousTypes are table sources that reach other servers or files.
var tsqlDangerousTypes = map[string]string{
	"OpenRowsetTableReference": "OPENROWSET",
	"BulkOpenRowset":           "OPENROWSET(BULK ...)",
	"InternalOpenRowset":       "OPENROWSET",
	"OpenRowsetCosmos":         "OPENROWSET",
	"OpenQueryTableReference":  "OPENQUERY",
	"AdHocTableReference":      "OPENDATASOURCE",
	"AdHocDataSource":          "OPENDATASOURCE",
}

// tsqlFuncs lists dangerous T-SQL functions.
var tsqlFuncs = map[string]risk{
	"openrowset":                  {Admin, "reads files or other servers"},
	"opendatasource":              {Admin, "connects to another server"},
	"openquery":                   {Admin, "runs SQL on a linked server"},
	"fn_get_audit_file":           {Admin, "reads files on the database server"},
	"fn_xe_file_target_read_file": {Admin, "reads files on the database server"},
	"fn_dblog":                    {Admin, "reads the transaction log"},
	"fn_dump_dblog":               {Admin, "reads backups"},
	"xp_cmdshell":                 {Admin, "runs a shell command"},
	"sp_executesql":               {Admin, "runs SQL given as text"},
	"fn_trace_gettable":           {Admin, "reads files on the database server"},
	"fn_virtualfilestats":         {Admin, "reads server file statistics"},
}

const tsqlMaxDepth = 500

func (w *tsqlWalker) walk(x reflect.Value, depth int) {
	if depth > tsqlMaxDepth {
		w.v.raise(Unknown, "nesting deeper than the guard walks", "the statement nests too deeply to check")
		return
	}
	switch x.Kind() {
	case reflect.Interface, reflect.Pointer:
		if x.IsNil() {
			return
		}
		w.node(x)
		w.walk(x.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < x.NumField(); i++ {
			if x.Type().Field(i).IsExported() {
				w.walk(x.Field(i), depth+1)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < x.Len(); i++ {
			w.walk(x.Index(i), depth+1)
		}
	}
}

func (w *tsqlWalker) node(x reflect.Value) {
	if !x.CanInterface() {
		return
	}
	switch n := x.Interface().(type) {
	case *tsqlast.FunctionCall:
		if n.FunctionName != nil {
			name := strings.ToLower(n.FunctionName.Value)
			if r, ok := tsqlFuncs[name]; ok {
				w.v.raise(r.kind, "function "+name, name+" "+r.why)
			}
		}
	case *tsqlast.NextValueForExpression:
		w.v.raise(Write, "NEXT VALUE FOR", "NEXT VALUE FOR advances a sequence")
	case *tsqlast.TableHint:
		switch strings.ToUpper(n.HintKind) {
		case "UPDLOCK", "XLOCK", "TABLOCKX", "HOLDLOCK", "SERIALIZABLE", "REPEATABLEREAD", "TABLOCK", "PAGLOCK", "ROWLOCK":
			w.v.raise(Write, "table hint "+strings.ToUpper(n.HintKind), "the locking hint holds locks a read does not need")
		}
	case *tsqlast.SchemaObjectName:
		if n.ServerIdentifier != nil {
			w.v.raise(Admin, "linked server "+n.ServerIdentifier.Value, "a four-part name runs the query on another server")
		}
	case *tsqlast.InsertStatement, *tsqlast.UpdateStatement, *tsqlast.DeleteStatement, *tsqlast.MergeStatement:
		w.v.raise(Write, "nested "+strings.ToUpper(strings.TrimSuffix(tsqlTypeName(n), "Statement")), "the statement holds a data change")
	case *tsqlast.SelectStatement:
		if n.Into != nil {
			w.v.raise(DDL, "SELECT ... INTO", "SELECT ... INTO creates a table")
		}
	default:
		if what, ok := tsqlDangerousTypes[tsqlTypeName(n)]; ok {
			w.v.raise(Admin, what, what+" reaches files or other servers")
		}
	}
}
