package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"sync"

	msqlite "modernc.org/sqlite"
)

// introspectionPragmas may run on the read-only pool with an argument: the
// argument names a table or index, never a new value.
var introspectionPragmas = map[string]bool{
	"table_info":       true,
	"table_xinfo":      true,
	"table_list":       true,
	"index_list":       true,
	"index_info":       true,
	"index_xinfo":      true,
	"foreign_key_list": true,
	// Consistency checks read every page and report; their argument is a
	// table name or a limit on the number of errors.
	"integrity_check":   true,
	"quick_check":       true,
	"foreign_key_check": true,
}

// statusPragmas may run on the read-only pool only without an argument:
// with one, most of them would set a value.
var statusPragmas = map[string]bool{
	"database_list":   true,
	"collation_list":  true,
	"function_list":   true,
	"module_list":     true,
	"pragma_list":     true,
	"compile_options": true,
	"encoding":        true,
	"page_count":      true,
	"page_size":       true,
	"freelist_count":  true,
	"user_version":    true,
	"schema_version":  true,
	"application_id":  true,
	"data_version":    true,
	"foreign_keys":    true,
	"journal_mode":    true,
	"query_only":      true,
}

// deniedFunctions touch the filesystem, load code or change the connection;
// they are refused on the read-only pool even inside a SELECT.
var deniedFunctions = map[string]bool{
	"load_extension":   true,
	"readfile":         true,
	"writefile":        true,
	"edit":             true,
	"fts3_tokenizer":   true,
	"sqlite_dbpage":    true,
	"zipfile":          true,
	"sqlar_compress":   true,
	"sqlar_uncompress": true,
	"lsmode":           true,
}

// actionNames names authorizer actions in denial messages.
var actionNames = map[msqlite.AuthorizerActionCode]string{
	msqlite.AuthCreateIndex: "CREATE INDEX", msqlite.AuthCreateTable: "CREATE TABLE",
	msqlite.AuthCreateTempIndex: "CREATE TEMP INDEX", msqlite.AuthCreateTempTable: "CREATE TEMP TABLE",
	msqlite.AuthCreateTempTrigger: "CREATE TEMP TRIGGER", msqlite.AuthCreateTempView: "CREATE TEMP VIEW",
	msqlite.AuthCreateTrigger: "CREATE TRIGGER", msqlite.AuthCreateView: "CREATE VIEW",
	msqlite.AuthDelete: "DELETE", msqlite.AuthDropIndex: "DROP INDEX", msqlite.AuthDropTable: "DROP TABLE",
	msqlite.AuthDropTempIndex: "DROP TEMP INDEX", msqlite.AuthDropTempTable: "DROP TEMP TABLE",
	msqlite.AuthDropTempTrigger: "DROP TEMP TRIGGER", msqlite.AuthDropTempView: "DROP TEMP VIEW",
	msqlite.AuthDropTrigger: "DROP TRIGGER", msqlite.AuthDropView: "DROP VIEW",
	msqlite.AuthInsert: "INSERT", msqlite.AuthPragma: "PRAGMA", msqlite.AuthTransaction: "transaction control",
	msqlite.AuthUpdate: "UPDATE", msqlite.AuthAttach: "ATTACH", msqlite.AuthDetach: "DETACH",
	msqlite.AuthAlterTable: "ALTER TABLE", msqlite.AuthReindex: "REINDEX", msqlite.AuthAnalyze: "ANALYZE",
	msqlite.AuthCreateVTable: "CREATE VIRTUAL TABLE", msqlite.AuthDropVTable: "DROP VIRTUAL TABLE",
	msqlite.AuthFunction: "function", msqlite.AuthSavepoint: "SAVEPOINT",
}

// readOnlyPolicy is the authorizer of every read-only connection. It allows
// reading and computing, a few introspection pragmas and nothing else:
// writes, schema changes, ATTACH, transaction control (the read-only pool
// never opens a transaction of its own, so "COMMIT; ..." has nothing to
// escape from) and side-effecting functions are denied while the
// statement is prepared, before anything runs. denied records why, for
// the error message.
func readOnlyPolicy(denied func(string)) msqlite.AuthorizerFn {
	return func(action msqlite.AuthorizerActionCode, arg1, arg2, _, _ string) msqlite.AuthorizerReturnCode {
		switch action {
		case msqlite.AuthSelect, msqlite.AuthRead, msqlite.AuthRecursive:
			return msqlite.AuthorizerOK
		case msqlite.AuthFunction:
			if !deniedFunctions[strings.ToLower(arg2)] {
				return msqlite.AuthorizerOK
			}
			denied("function " + arg2 + "()")
			return msqlite.AuthorizerDeny
		case msqlite.AuthPragma:
			name := strings.ToLower(arg1)
			if introspectionPragmas[name] || (statusPragmas[name] && arg2 == "") {
				return msqlite.AuthorizerOK
			}
			if arg2 != "" {
				denied("PRAGMA " + arg1 + " with a value")
			} else {
				denied("PRAGMA " + arg1)
			}
			return msqlite.AuthorizerDeny
		}
		what := actionNames[action]
		if strings.EqualFold(arg1, "sqlite_master") || strings.EqualFold(arg1, "sqlite_temp_master") {
			// CREATE, DROP and ALTER are first checked as a write to
			// the schema table, and preparing stops there.
			denied("a schema change (CREATE, DROP or ALTER)")
			return msqlite.AuthorizerDeny
		}
		if what == "" {
			what = fmt.Sprintf("operation %d", action)
		}
		if arg1 != "" && action != msqlite.AuthTransaction {
			what += " on " + arg1
		}
		denied(what)
		return msqlite.AuthorizerDeny
	}
}

// sqliteConn is the set of driver interfaces modernc's connection
// implements that database/sql looks for; roConn embeds it so none is lost.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// roConn is a read-only physical connection with its authorizer installed;
// it remembers the last denial so the error can say what was refused.
type roConn struct {
	sqliteConn
	mu     sync.Mutex
	denial string
}

// setDenial keeps the first denial: SQLite stops preparing at the first
// one.
func (c *roConn) setDenial(s string) {
	c.mu.Lock()
	if c.denial == "" {
		c.denial = s
	}
	c.mu.Unlock()
}

// takeDenial returns and clears the last denial.
func (c *roConn) takeDenial() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.denial
	c.denial = ""
	return s
}

// roConnector opens read-only connections and installs the authorizer on
// each before database/sql can use it. A Connector (not the package-level
// RegisterConnectionHook) keeps the policy local to this pool: other
// SQLite users in the process (DAP's own store, the demo) are unaffected.
type roConnector struct{ base driver.Connector }

func (r roConnector) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := r.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok1 := c.(sqliteConn)
	reg, ok2 := c.(msqlite.AuthorizerRegisterer)
	if !ok1 || !ok2 {
		_ = c.Close()
		return nil, fmt.Errorf("sqlite driver connection lacks the authorizer interface; refusing to open a read-only connection without it")
	}
	rc := &roConn{sqliteConn: sc}
	if err := reg.RegisterAuthorizer(readOnlyPolicy(rc.setDenial)); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("install read-only authorizer: %w", err)
	}
	return rc, nil
}

func (r roConnector) Driver() driver.Driver { return r.base.Driver() }
