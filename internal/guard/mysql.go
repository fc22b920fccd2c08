package guard

import (
	"reflect"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser
)

// mysqlPool reuses TiDB parsers, which are not safe for concurrent use
// and cost ~7 us and 17 KB to create. The zero value is ready.
type mysqlPool struct{ p sync.Pool }

func (mp *mysqlPool) get() *parser.Parser {
	if mp == nil {
		return parser.New()
	}
	if p, ok := mp.p.Get().(*parser.Parser); ok {
		return p
	}
	return parser.New()
}

func (mp *mysqlPool) put(p *parser.Parser) {
	if mp != nil {
		mp.p.Put(p)
	}
}

// The server's sql_mode changes how text splits into tokens: with
// NO_BACKSLASH_ESCAPES a backslash no longer escapes a quote, and with
// ANSI_QUOTES "..." is an identifier. The guard does not know the
// session's mode, so text holding those characters is parsed under each
// mode that could apply and the most powerful verdict wins.
var mysqlModes = []struct {
	mode mysql.SQLMode
	name string
	need string // parse under this mode only if sql holds all of these
}{
	{mysql.ModeNoBackslashEscapes, "NO_BACKSLASH_ESCAPES", `\`},
	{mysql.ModeANSIQuotes, "ANSI_QUOTES", `"`},
	{mysql.ModeNoBackslashEscapes | mysql.ModeANSIQuotes, "NO_BACKSLASH_ESCAPES and ANSI_QUOTES", `\"`},
}

func containsAll(s, chars string) bool {
	for _, c := range chars {
		if !strings.ContainsRune(s, c) {
			return false
		}
	}
	return true
}

// checkMySQL parses sql with TiDB's MySQL parser and classifies it.
// TiDB's parser does not know every MariaDB syntax; what it cannot parse
// is refused, which is the safe side.
func checkMySQL(sql string, mp *mysqlPool) (Verdict, error) {
	if r := mysqlCommentTricks(sql); r != nil {
		return Verdict{Kind: Unknown}, r
	}
	p := mp.get()
	defer mp.put(p)

	p.SetSQLMode(mysql.ModeNone)
	v, err := mysqlParseClassify(p, sql)
	if err != nil {
		return v, err
	}
	for _, m := range mysqlModes {
		if !containsAll(sql, m.need) {
			continue
		}
		p.SetSQLMode(m.mode)
		alt, aerr := mysqlParseClassify(p, sql)
		p.SetSQLMode(mysql.ModeNone)
		if aerr != nil {
			if r, ok := aerr.(*Refusal); ok && strings.HasPrefix(r.Reason, "cannot parse") {
				continue // the server in that mode would reject it too
			}
			return alt, aerr
		}
		if alt.Kind.rank() > v.Kind.rank() {
			alt.Reason = strings.TrimSpace(alt.Reason + " (when the server's sql_mode has " + m.name + ")")
			v = alt
		}
	}
	return v, nil
}

// mysqlCommentTricks refuses executable comments whose meaning depends
// on the server: MariaDB runs /*M! ... */ as code (TiDB ignores it), and
// a versioned /*!NNNNN ... */ the server skips ends at the first "*/"
// even inside a quote, where TiDB, lexing it as code, would not.
func mysqlCommentTricks(sql string) *Refusal {
	for i := 0; ; {
		j := strings.Index(sql[i:], "/*")
		if j < 0 {
			return nil
		}
		i += j + 2
		rest := sql[i:]
		if len(rest) >= 2 && (rest[0] == 'M' || rest[0] == 'm') && rest[1] == '!' {
			return &Refusal{Kind: Unknown, Construct: "executable comment /*M!", Reason: "MariaDB executable comment /*M! ... */ is code the guard's parser cannot see; remove it"}
		}
		if len(rest) >= 2 && rest[0] == '!' && rest[1] >= '0' && rest[1] <= '9' {
			body := rest
			if end := strings.Index(rest, "*/"); end >= 0 {
				body = rest[:end]
			}
			if strings.ContainsAny(body, "'\"`#") || strings.Contains(body, "/*") || strings.Contains(body, "--") {
				return &Refusal{Kind: Unknown, Construct: "versioned executable comment", Reason: "a versioned executable comment /*!NNNNN ... */ holding quotes or comments may be read differently by the server; remove it"}
			}
		}
	}
}

func mysqlParseClassify(p *parser.Parser, sql string) (Verdict, error) {
	stmts, _, err := p.Parse(sql, "", "")
	if err != nil {
		return Verdict{Kind: Unknown}, parseRefusal("MySQL/MariaDB", strings.TrimSpace(err.Error())+" (MariaDB-only syntax is not understood and so refused)")
	}
	if len(stmts) != 1 {
		return Verdict{Kind: Unknown}, countRefusal(len(stmts))
	}
	return mysqlClassify(stmts[0]), nil
}

func mysqlClassify(top ast.StmtNode) Verdict {
	v := mysqlFaceValue(top)
	if ex, ok := top.(*ast.ExplainStmt); ok && ex.Stmt != nil {
		if ex.Analyze {
			iv := mysqlClassify(ex.Stmt)
			if iv.Kind != Read {
				v.raise(iv.Kind, "EXPLAIN ANALYZE of "+iv.Statement, "EXPLAIN ANALYZE executes the statement it explains")
			}
			return v
		}
		// MariaDB refuses EXPLAIN of a write inside a read-only
		// transaction although it runs nothing, so it counts as the write.
		if iv := mysqlFaceValue(ex.Stmt); iv.Kind != Read {
			v.raise(iv.Kind, "EXPLAIN of "+iv.Statement, "MariaDB treats EXPLAIN of a "+iv.Statement+" as that statement in read-only transactions")
		}
		w := &myWalker{v: &v, funcsOnly: true}
		ex.Stmt.Accept(w)
		return v
	}
	top.Accept(&myWalker{v: &v})
	return v
}

// myWalker visits every node of a TiDB AST.
type myWalker struct {
	v         *Verdict
	funcsOnly bool // under plain EXPLAIN: only function calls count
}

func (w *myWalker) Enter(n ast.Node) (ast.Node, bool) {
	switch n := n.(type) {
	case *ast.FuncCallExpr:
		name := n.FnName.L
		if r, ok := mysqlFuncs[name]; ok {
			w.v.raise(r.kind, "function "+name, name+" "+r.why)
		}
	case *ast.VariableExpr:
		if n.Value != nil && !w.funcsOnly {
			w.v.raise(Admin, "variable assignment @"+n.Name+" :=", "assigning a variable changes session state, which outlives the call on a pooled connection")
		}
	case *ast.SelectStmt:
		if w.funcsOnly {
			break
		}
		if o := n.SelectIntoOpt; o != nil {
			switch o.Tp {
			case ast.SelectIntoOutfile:
				w.v.raise(Admin, "INTO OUTFILE", "SELECT ... INTO OUTFILE writes a file on the database server")
			case ast.SelectIntoDumpfile:
				w.v.raise(Admin, "INTO DUMPFILE", "SELECT ... INTO DUMPFILE writes a file on the database server")
			default:
				w.v.raise(Admin, "SELECT ... INTO @variable", "SELECT ... INTO @variable changes session state, which outlives the call on a pooled connection")
			}
		}
		if n.LockInfo != nil && n.LockInfo.LockType != ast.SelectLockNone {
			s := strings.ToUpper(n.LockInfo.LockType.String())
			w.v.raise(Write, "SELECT ... "+s, s+" takes row locks, which read-only transactions refuse")
		}
	}
	return n, false
}

func (w *myWalker) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// mysqlFuncs lists dangerous MySQL/MariaDB functions. SLEEP and
// BENCHMARK are admin, unlike PostgreSQL's pg_sleep: they pin a
// connection and MySQL's max_execution_time does not bound every
// statement kind (DO SLEEP(...) escapes it), so even short sleeps are
// refused on read-only targets.
var mysqlFuncs = map[string]risk{
	"load_file":                  {Admin, "reads a file on the database server"},
	"get_lock":                   {Admin, "takes a named lock that outlives the statement"},
	"release_lock":               {Admin, "releases a named lock held by the session"},
	"release_all_locks":          {Admin, "releases named locks held by the session"},
	"sleep":                      {Admin, "pins a connection for a while"},
	"benchmark":                  {Admin, "burns server CPU"},
	"sys_exec":                   {Admin, "runs a shell command on the database server"},
	"sys_eval":                   {Admin, "runs a shell command on the database server"},
	"master_pos_wait":            {Admin, "waits on replication"},
	"source_pos_wait":            {Admin, "waits on replication"},
	"master_gtid_wait":           {Admin, "waits on replication"},
	"wait_for_executed_gtid_set": {Admin, "waits on replication"},
	"nextval":                    {Write, "advances a sequence"},
	"setval":                     {Write, "sets a sequence"},
}

// mysqlFaceValue classifies a statement by its type alone.
func mysqlFaceValue(n ast.StmtNode) Verdict {
	name := mysqlStmtName(n)
	v := Verdict{Kind: Unknown, Statement: name}
	set := func(k Kind) Verdict { v.Kind = k; return v }
	switch n := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.ShowStmt, *ast.ExplainStmt, *ast.DoStmt, *ast.HelpStmt:
		return set(Read)
	case *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		return set(Write)
	case *ast.LoadDataStmt:
		if n.FileLocRef == ast.FileLocClient {
			return set(Write)
		}
		v.Construct, v.Reason = "LOAD DATA INFILE", "reads a file on the database server"
		return set(Admin)
	case *ast.BeginStmt, *ast.CommitStmt, *ast.RollbackStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt:
		return set(Tx)
	case *ast.SetStmt:
		for _, a := range n.Variables {
			l := strings.ToLower(a.Name)
			if strings.HasPrefix(l, "tx_") || strings.HasPrefix(l, "transaction") || l == "autocommit" || l == "completion_type" {
				v.Construct = "SET " + a.Name
				return set(Tx)
			}
		}
		v.Reason = "changes session or server settings, which outlive the call on a pooled connection"
		return set(Admin)
	case *ast.TruncateTableStmt, *ast.RenameTableStmt, *ast.GrantStmt, *ast.RevokeStmt:
		return set(DDL)
	case *ast.CreateDatabaseStmt, *ast.AlterDatabaseStmt, *ast.DropDatabaseStmt,
		*ast.CreateUserStmt, *ast.AlterUserStmt, *ast.DropUserStmt, *ast.RenameUserStmt, *ast.SetPwdStmt,
		*ast.GrantRoleStmt, *ast.RevokeRoleStmt, *ast.GrantProxyStmt, *ast.SetRoleStmt, *ast.SetDefaultRoleStmt,
		*ast.KillStmt, *ast.FlushStmt, *ast.LockTablesStmt, *ast.UnlockTablesStmt,
		*ast.AnalyzeTableStmt, *ast.OptimizeTableStmt, *ast.RepairTableStmt, *ast.ShutdownStmt, *ast.RestartStmt,
		*ast.UseStmt, *ast.PrepareStmt, *ast.ExecuteStmt, *ast.DeallocateStmt, *ast.CallStmt,
		*ast.AlterInstanceStmt, *ast.BinlogStmt, *ast.ExplainForStmt:
		return set(Admin)
	}
	tn := reflect.TypeOf(n).Elem().Name()
	for _, p := range []string{"Create", "Alter", "Drop"} {
		if strings.HasPrefix(tn, p) {
			return set(DDL)
		}
	}
	v.Reason = "the guard does not know this statement type"
	return v
}

func mysqlStmtName(n ast.StmtNode) string {
	switch n := n.(type) {
	case *ast.SelectStmt:
		if n.Kind == ast.SelectStmtKindValues {
			return "VALUES"
		}
		if n.Kind == ast.SelectStmtKindTable {
			return "TABLE"
		}
		return "SELECT"
	case *ast.SetOprStmt:
		return "SELECT"
	case *ast.InsertStmt:
		if n.IsReplace {
			return "REPLACE"
		}
		return "INSERT"
	case *ast.UpdateStmt:
		return "UPDATE"
	case *ast.DeleteStmt:
		return "DELETE"
	case *ast.ShowStmt:
		return "SHOW"
	case *ast.ExplainStmt:
		if _, ok := n.Stmt.(*ast.ShowStmt); ok {
			return "DESCRIBE"
		}
		return "EXPLAIN"
	case *ast.DoStmt:
		return "DO"
	case *ast.LoadDataStmt:
		return "LOAD DATA"
	case *ast.BeginStmt:
		return "BEGIN"
	case *ast.CommitStmt:
		return "COMMIT"
	case *ast.RollbackStmt:
		if n.SavepointName != "" {
			return "ROLLBACK TO SAVEPOINT"
		}
		return "ROLLBACK"
	case *ast.SavepointStmt:
		return "SAVEPOINT"
	case *ast.ReleaseSavepointStmt:
		return "RELEASE SAVEPOINT"
	case *ast.SetStmt:
		return "SET"
	case *ast.CreateTableStmt:
		return "CREATE TABLE"
	case *ast.DropTableStmt:
		if n.IsView {
			return "DROP VIEW"
		}
		return "DROP TABLE"
	case *ast.TruncateTableStmt:
		return "TRUNCATE"
	case *ast.RenameTableStmt:
		return "RENAME TABLE"
	case *ast.LockTablesStmt:
		return "LOCK TABLES"
	case *ast.UnlockTablesStmt:
		return "UNLOCK TABLES"
	case *ast.AnalyzeTableStmt:
		return "ANALYZE TABLE"
	case *ast.OptimizeTableStmt:
		return "OPTIMIZE TABLE"
	}
	tn := reflect.TypeOf(n).Elem().Name()
	return camelWords(strings.TrimSuffix(tn, "Stmt"))
}
