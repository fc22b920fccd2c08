package guard

import (
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// checkPostgres parses sql with libpg_query (PostgreSQL's own grammar)
// and classifies the one statement it must hold.
func checkPostgres(sql string) (Verdict, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) && pe.Cursorpos > 0 {
			return Verdict{Kind: Unknown}, parseRefusal("PostgreSQL", fmt.Sprintf("%s (position %d)", pe.Message, pe.Cursorpos))
		}
		return Verdict{Kind: Unknown}, parseRefusal("PostgreSQL", err.Error())
	}
	if n := len(tree.GetStmts()); n != 1 {
		return Verdict{Kind: Unknown}, countRefusal(n)
	}
	top := pgUnwrap(tree.Stmts[0].GetStmt())
	if top == nil {
		return Verdict{Kind: Unknown}, countRefusal(0)
	}
	return pgClassify(top), nil
}

// pgUnwrap returns the message held by a Node's oneof, or nil.
func pgUnwrap(n *pg.Node) proto.Message {
	if n == nil {
		return nil
	}
	m := n.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().Get(0))
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

// pgClassify gives the statement's face value, then walks the whole tree
// to raise it for what hides inside.
func pgClassify(top proto.Message) Verdict {
	v := pgFaceValue(top)
	w := pgWalker{v: &v}
	if ex, ok := top.(*pg.ExplainStmt); ok {
		inner := pgUnwrap(ex.GetQuery())
		if inner != nil && pgExplainAnalyze(ex) {
			// EXPLAIN ANALYZE executes the statement: it is what it runs.
			iv := pgClassify(inner)
			if iv.Kind != Read {
				v.raise(iv.Kind, "EXPLAIN ANALYZE of "+iv.Statement, "EXPLAIN ANALYZE executes the statement it explains")
				if iv.Construct != "" {
					v.Construct += " (" + iv.Construct + ")"
				}
			}
			return v
		}
		// Plain EXPLAIN only plans: nested writes and locks do not run.
		// Dangerous functions still raise it, the cautious side.
		w.funcsOnly = true
	}
	w.visit(top.ProtoReflect())
	return v
}

// pgExplainAnalyze reports whether EXPLAIN's options ask for ANALYZE.
// Anything but an explicit false/off/0/no counts as on.
func pgExplainAnalyze(ex *pg.ExplainStmt) bool {
	for _, o := range ex.GetOptions() {
		d := o.GetDefElem()
		if d == nil || !strings.EqualFold(d.GetDefname(), "analyze") {
			continue
		}
		if d.GetArg() == nil {
			return true
		}
		arg := strings.ToLower(pgLiteralText(d.GetArg()))
		switch arg {
		case "false", "off", "0", "no":
			continue
		}
		return true
	}
	return false
}

func pgLiteralText(n *pg.Node) string {
	switch {
	case n.GetString_() != nil:
		return n.GetString_().GetSval()
	case n.GetBoolean() != nil:
		if n.GetBoolean().GetBoolval() {
			return "true"
		}
		return "false"
	case n.GetInteger() != nil:
		return fmt.Sprint(n.GetInteger().GetIval())
	case n.GetAConst() != nil:
		c := n.GetAConst()
		switch {
		case c.GetSval() != nil:
			return c.GetSval().GetSval()
		case c.GetBoolval() != nil:
			if c.GetBoolval().GetBoolval() {
				return "true"
			}
			return "false"
		case c.GetIval() != nil:
			return fmt.Sprint(c.GetIval().GetIval())
		}
	}
	return ""
}

// pgWalker visits every message below a statement.
type pgWalker struct {
	v         *Verdict
	funcsOnly bool // under plain EXPLAIN: only function calls count
	inCTE     int
}

func (w *pgWalker) children(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, val protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		if fd.IsList() {
			l := val.List()
			for i := 0; i < l.Len(); i++ {
				w.visit(l.Get(i).Message())
			}
			return true
		}
		if fd.IsMap() {
			return true // the parse tree has no maps
		}
		w.visit(val.Message())
		return true
	})
}

func (w *pgWalker) visit(m protoreflect.Message) {
	switch n := m.Interface().(type) {
	case *pg.FuncCall:
		w.funcCall(n)
	case *pg.CommonTableExpr:
		w.inCTE++
		w.children(m)
		w.inCTE--
		return
	case *pg.InsertStmt, *pg.UpdateStmt, *pg.DeleteStmt, *pg.MergeStmt:
		if !w.funcsOnly {
			name := pgStmtName(m.Interface())
			if w.inCTE > 0 {
				w.v.raise(Write, "data-modifying CTE ("+name+")", "a WITH clause holds a "+name+" that changes data")
			} else {
				w.v.raise(Write, "nested "+name, "the statement holds a "+name+" that changes data")
			}
		}
	case *pg.SelectStmt:
		if !w.funcsOnly {
			if n.GetIntoClause() != nil {
				w.v.raise(DDL, "SELECT ... INTO", "SELECT ... INTO creates a table")
			}
			for _, lc := range n.GetLockingClause() {
				if c := lc.GetLockingClause(); c != nil {
					s := pgLockStrength(c.GetStrength())
					w.v.raise(Write, "SELECT ... "+s, s+" takes row locks, which read-only transactions refuse")
				}
			}
		}
	}
	w.children(m)
}

func pgLockStrength(s pg.LockClauseStrength) string {
	switch s {
	case pg.LockClauseStrength_LCS_FORKEYSHARE:
		return "FOR KEY SHARE"
	case pg.LockClauseStrength_LCS_FORSHARE:
		return "FOR SHARE"
	case pg.LockClauseStrength_LCS_FORNOKEYUPDATE:
		return "FOR NO KEY UPDATE"
	}
	return "FOR UPDATE"
}

func (w *pgWalker) funcCall(f *pg.FuncCall) {
	names := f.GetFuncname()
	if len(names) == 0 {
		return
	}
	// The last name part is the function; any schema is ignored (the
	// cautious side: a user function named like a dangerous built-in is
	// treated as the built-in, and search_path cannot fool the guard).
	name := strings.ToLower(names[len(names)-1].GetString_().GetSval())
	if r, ok := pgFuncRisk(name); ok {
		w.v.raise(r.kind, "function "+name, name+" "+r.why)
	}
}

// risk is what a dangerous function does and so what it needs.
type risk struct {
	kind Kind
	why  string
}

// pgFuncExact lists dangerous PostgreSQL functions by exact name.
// pg_sleep is deliberately absent: the server's statement_timeout bounds
// it. Unknown user functions stay read; the read-only transaction the
// adapter opens is the second layer that stops what they might write.
var pgFuncExact = map[string]risk{
	"pg_terminate_backend":           {Admin, "ends another session"},
	"pg_cancel_backend":              {Admin, "cancels another session's query"},
	"set_config":                     {Admin, "changes a server setting for the session, which outlives the statement on a pooled connection"},
	"pg_reload_conf":                 {Admin, "reloads the server configuration"},
	"pg_rotate_logfile":              {Admin, "rotates the server log"},
	"pg_rotate_logfile_old":          {Admin, "rotates the server log"},
	"pg_switch_wal":                  {Admin, "forces a WAL switch"},
	"pg_switch_xlog":                 {Admin, "forces a WAL switch"},
	"pg_promote":                     {Admin, "promotes a standby"},
	"pg_start_backup":                {Admin, "controls backups"},
	"pg_stop_backup":                 {Admin, "controls backups"},
	"pg_backup_start":                {Admin, "controls backups"},
	"pg_backup_stop":                 {Admin, "controls backups"},
	"pg_drop_replication_slot":       {Admin, "manages replication"},
	"pg_replication_slot_advance":    {Admin, "manages replication"},
	"pg_import_system_collations":    {Admin, "creates collations"},
	"pg_stat_file":                   {Admin, "reads file metadata on the database server"},
	"pg_log_backend_memory_contexts": {Admin, "writes to the server log"},
	"pg_stat_statements_reset":       {Admin, "resets statistics"},
	"pg_truncate_visibility_map":     {Admin, "changes the visibility map"},
	"pg_prewarm":                     {Admin, "loads relations into memory"},
	"brin_summarize_new_values":      {Admin, "changes an index"},
	"brin_summarize_range":           {Admin, "changes an index"},
	"brin_desummarize_range":         {Admin, "changes an index"},
	"gin_clean_pending_list":         {Admin, "changes an index"},
	"lo_import":                      {Admin, "reads a file on the database server into a large object"},
	"lo_export":                      {Admin, "writes a large object to a file on the database server"},
	"loread":                         {Write, "uses a large-object descriptor"},
	"lowrite":                        {Write, "writes a large object"},
	"nextval":                        {Write, "advances a sequence"},
	"setval":                         {Write, "sets a sequence"},
	"txid_current":                   {Write, "assigns a transaction id"},
	"pg_current_xact_id":             {Write, "assigns a transaction id"},
	"pg_notify":                      {Write, "sends a notification to other sessions"},
	"query_to_xml":                   {Admin, "runs SQL given as text, which the guard cannot see"},
	"query_to_xmlschema":             {Admin, "runs SQL given as text, which the guard cannot see"},
	"query_to_xml_and_xmlschema":     {Admin, "runs SQL given as text, which the guard cannot see"},
}

// pgFuncPrefixes lists families of dangerous functions by name prefix.
var pgFuncPrefixes = []struct {
	prefix string
	risk
}{
	{"pg_read_", risk{Admin, "reads files on the database server"}},
	{"pg_ls_", risk{Admin, "lists directories on the database server"}},
	{"pg_file_", risk{Admin, "writes files on the database server"}},
	{"pg_logdir_", risk{Admin, "reads the server log directory"}},
	{"pg_stat_reset", risk{Admin, "resets statistics"}},
	{"pg_advisory_", risk{Admin, "takes or releases an advisory lock that can outlive the statement"}},
	{"pg_try_advisory_", risk{Admin, "takes an advisory lock that can outlive the statement"}},
	{"pg_create_", risk{Admin, "creates a restore point or replication slot"}},
	{"pg_copy_", risk{Admin, "copies a replication slot"}},
	{"pg_logical_", risk{Admin, "consumes or emits logical replication data"}},
	{"pg_replication_origin_", risk{Admin, "manages replication origins"}},
	{"pg_wal_replay_", risk{Admin, "controls WAL replay"}},
	{"pg_xlog_replay_", risk{Admin, "controls WAL replay"}},
	{"dblink", risk{Admin, "connects to a database and runs SQL given as text"}},
	{"lo_", risk{Write, "changes or reads large objects"}},
	{"cursor_to_xml", risk{Admin, "reads a cursor the guard cannot see"}},
	{"table_to_xml", risk{Admin, "dumps a table as XML"}},
	{"schema_to_xml", risk{Admin, "dumps a schema as XML"}},
	{"database_to_xml", risk{Admin, "dumps a database as XML"}},
}

func pgFuncRisk(name string) (risk, bool) {
	if r, ok := pgFuncExact[name]; ok {
		return r, true
	}
	for _, p := range pgFuncPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.risk, true
		}
	}
	return risk{}, false
}

// pgFaceValue classifies a top-level statement by its type alone.
func pgFaceValue(m proto.Message) Verdict {
	name := pgStmtName(m)
	v := Verdict{Kind: Unknown, Statement: name}
	set := func(k Kind) Verdict { v.Kind = k; return v }
	switch n := m.(type) {
	case *pg.SelectStmt, *pg.VariableShowStmt:
		return set(Read)
	case *pg.ExplainStmt:
		return set(Read)
	case *pg.InsertStmt, *pg.UpdateStmt, *pg.DeleteStmt, *pg.MergeStmt, *pg.RefreshMatViewStmt:
		return set(Write)
	case *pg.NotifyStmt:
		v.Reason = "NOTIFY sends a message to other sessions"
		return set(Write)
	case *pg.TransactionStmt:
		return set(Tx)
	case *pg.VariableSetStmt:
		if strings.HasPrefix(strings.ToLower(n.GetName()), "transaction") {
			v.Statement = "SET TRANSACTION"
			return set(Tx)
		}
		v.Reason = "changes session settings, which outlive the call on a pooled connection"
		return set(Admin)
	case *pg.CopyStmt:
		switch {
		case n.GetIsProgram():
			v.Construct, v.Reason = "COPY ... PROGRAM", "runs a program on the database server"
			return set(Admin)
		case n.GetFilename() != "":
			v.Construct, v.Reason = "COPY ... file", "reads or writes a file on the database server"
			return set(Admin)
		case n.GetIsFrom():
			v.Statement = "COPY FROM"
			return set(Write)
		}
		v.Statement = "COPY TO"
		return set(Read)
	case *pg.DoStmt:
		v.Reason = "runs procedural code the guard cannot see"
		return set(Admin)
	case *pg.CallStmt:
		v.Reason = "runs a procedure, which may write and control transactions"
		return set(Admin)
	case *pg.ExecuteStmt:
		v.Reason = "runs a prepared statement the guard cannot see"
		return set(Admin)
	case *pg.PrepareStmt, *pg.DeallocateStmt, *pg.DeclareCursorStmt, *pg.FetchStmt, *pg.ClosePortalStmt,
		*pg.ListenStmt, *pg.UnlistenStmt, *pg.DiscardStmt:
		v.Reason = "changes session state, which outlives the call on a pooled connection"
		return set(Admin)
	case *pg.VacuumStmt, *pg.ClusterStmt, *pg.CheckPointStmt, *pg.ReindexStmt, *pg.LoadStmt,
		*pg.AlterSystemStmt, *pg.LockStmt, *pg.ConstraintsSetStmt, *pg.ReassignOwnedStmt, *pg.DropOwnedStmt,
		*pg.CreateRoleStmt, *pg.AlterRoleStmt, *pg.AlterRoleSetStmt, *pg.DropRoleStmt, *pg.GrantRoleStmt,
		*pg.CreatedbStmt, *pg.DropdbStmt, *pg.AlterDatabaseStmt, *pg.AlterDatabaseSetStmt, *pg.AlterDatabaseRefreshCollStmt,
		*pg.CreateTableSpaceStmt, *pg.DropTableSpaceStmt, *pg.AlterTableSpaceOptionsStmt,
		*pg.CreateSubscriptionStmt, *pg.AlterSubscriptionStmt, *pg.DropSubscriptionStmt:
		return set(Admin)
	case *pg.TruncateStmt, *pg.CommentStmt, *pg.GrantStmt, *pg.SecLabelStmt, *pg.CreateTableAsStmt,
		*pg.IndexStmt, *pg.ViewStmt, *pg.RuleStmt, *pg.CompositeTypeStmt, *pg.ImportForeignSchemaStmt,
		*pg.AlterDefaultPrivilegesStmt, *pg.RenameStmt:
		return set(DDL)
	}
	full := string(m.ProtoReflect().Descriptor().Name())
	for _, p := range []string{"Create", "Alter", "Drop", "Define"} {
		if strings.HasPrefix(full, p) {
			return set(DDL)
		}
	}
	return v
}

// pgObjectType turns OBJECT_MATVIEW into "MATERIALIZED VIEW".
func pgObjectType(t pg.ObjectType) string {
	s := strings.TrimPrefix(t.String(), "OBJECT_")
	switch s {
	case "MATVIEW":
		return "MATERIALIZED VIEW"
	case "FOREIGN_TABLE":
		return "FOREIGN TABLE"
	}
	return strings.ReplaceAll(s, "_", " ")
}

// pgStmtName names a statement the way a user says it.
func pgStmtName(m proto.Message) string {
	switch n := m.(type) {
	case *pg.SelectStmt:
		if len(n.GetValuesLists()) > 0 {
			return "VALUES"
		}
		return "SELECT"
	case *pg.InsertStmt:
		return "INSERT"
	case *pg.UpdateStmt:
		return "UPDATE"
	case *pg.DeleteStmt:
		return "DELETE"
	case *pg.MergeStmt:
		return "MERGE"
	case *pg.ExplainStmt:
		return "EXPLAIN"
	case *pg.VariableShowStmt:
		return "SHOW"
	case *pg.VariableSetStmt:
		if n.GetKind() == pg.VariableSetKind_VAR_RESET || n.GetKind() == pg.VariableSetKind_VAR_RESET_ALL {
			return "RESET"
		}
		return "SET"
	case *pg.TransactionStmt:
		return pgTxName(n.GetKind())
	case *pg.CreateStmt:
		return "CREATE TABLE"
	case *pg.IndexStmt:
		return "CREATE INDEX"
	case *pg.ViewStmt:
		return "CREATE VIEW"
	case *pg.CreateTableAsStmt:
		return "CREATE " + pgObjectType(n.GetObjtype()) + " AS"
	case *pg.DropStmt:
		return "DROP " + pgObjectType(n.GetRemoveType())
	case *pg.AlterTableStmt:
		return "ALTER " + pgObjectType(n.GetObjtype())
	case *pg.RenameStmt:
		return "ALTER " + pgObjectType(n.GetRenameType()) + " RENAME"
	case *pg.GrantStmt:
		if n.GetIsGrant() {
			return "GRANT"
		}
		return "REVOKE"
	case *pg.GrantRoleStmt:
		if n.GetIsGrant() {
			return "GRANT ROLE"
		}
		return "REVOKE ROLE"
	case *pg.VacuumStmt:
		if n.GetIsVacuumcmd() {
			return "VACUUM"
		}
		return "ANALYZE"
	case *pg.RefreshMatViewStmt:
		return "REFRESH MATERIALIZED VIEW"
	case *pg.CheckPointStmt:
		return "CHECKPOINT"
	case *pg.DoStmt:
		return "DO"
	case *pg.CallStmt:
		return "CALL"
	case *pg.CopyStmt:
		return "COPY"
	case *pg.ExecuteStmt:
		return "EXECUTE"
	case *pg.PrepareStmt:
		return "PREPARE"
	case *pg.DeallocateStmt:
		return "DEALLOCATE"
	case *pg.DeclareCursorStmt:
		return "DECLARE CURSOR"
	case *pg.CreatedbStmt:
		return "CREATE DATABASE"
	case *pg.DropdbStmt:
		return "DROP DATABASE"
	case *pg.CreateSchemaStmt:
		return "CREATE SCHEMA"
	case *pg.CreateFunctionStmt:
		if n.GetIsProcedure() {
			return "CREATE PROCEDURE"
		}
		return "CREATE FUNCTION"
	case *pg.CreateTrigStmt:
		return "CREATE TRIGGER"
	case *pg.CreateSeqStmt:
		return "CREATE SEQUENCE"
	case *pg.CreateExtensionStmt:
		return "CREATE EXTENSION"
	case *pg.CreateRoleStmt:
		return "CREATE ROLE"
	case *pg.DropRoleStmt:
		return "DROP ROLE"
	case *pg.AlterRoleStmt:
		return "ALTER ROLE"
	case *pg.CreateTableSpaceStmt:
		return "CREATE TABLESPACE"
	case *pg.CommentStmt:
		return "COMMENT"
	case *pg.SecLabelStmt:
		return "SECURITY LABEL"
	case *pg.RuleStmt:
		return "CREATE RULE"
	case *pg.CompositeTypeStmt:
		return "CREATE TYPE"
	case *pg.ClusterStmt:
		return "CLUSTER"
	case *pg.ReindexStmt:
		return "REINDEX"
	case *pg.LockStmt:
		return "LOCK"
	case *pg.LoadStmt:
		return "LOAD"
	case *pg.AlterSystemStmt:
		return "ALTER SYSTEM"
	case *pg.ListenStmt:
		return "LISTEN"
	case *pg.UnlistenStmt:
		return "UNLISTEN"
	case *pg.NotifyStmt:
		return "NOTIFY"
	case *pg.DiscardStmt:
		return "DISCARD"
	case *pg.FetchStmt:
		return "FETCH"
	case *pg.ClosePortalStmt:
		return "CLOSE"
	case *pg.TruncateStmt:
		return "TRUNCATE"
	case *pg.ConstraintsSetStmt:
		return "SET CONSTRAINTS"
	}
	return camelWords(strings.TrimSuffix(string(m.ProtoReflect().Descriptor().Name()), "Stmt"))
}

func pgTxName(k pg.TransactionStmtKind) string {
	switch k {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN:
		return "BEGIN"
	case pg.TransactionStmtKind_TRANS_STMT_START:
		return "START TRANSACTION"
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		return "COMMIT"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		return "ROLLBACK"
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return "SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return "RELEASE SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return "ROLLBACK TO SAVEPOINT"
	case pg.TransactionStmtKind_TRANS_STMT_PREPARE:
		return "PREPARE TRANSACTION"
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT_PREPARED:
		return "COMMIT PREPARED"
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_PREPARED:
		return "ROLLBACK PREPARED"
	}
	return "TRANSACTION"
}

// camelWords turns "CreateForeignServer" into "CREATE FOREIGN SERVER".
func camelWords(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}
