package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/dap-platform/dap/internal/engine"
)

// updateabilitySQL reads whether the database itself refuses writes (a
// READ_ONLY database, or an availability-group secondary reached with
// ApplicationIntent=ReadOnly).
const updateabilitySQL = `SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(60))`

// writePermsSQL lists database-wide write permissions the login holds,
// directly or through roles (db_owner, db_datawriter, db_ddladmin).
const writePermsSQL = `SELECT permission_name FROM fn_my_permissions(NULL, N'DATABASE')
WHERE permission_name IN (N'INSERT', N'UPDATE', N'DELETE', N'ALTER', N'CONTROL', N'CREATE TABLE')
ORDER BY permission_name`

// selfTestWriteSQL is the harmless write: a table in the login's default
// schema, created inside the read-only transaction that is rolled back.
// A temp table would not do: every login may create those in tempdb.
const selfTestWriteSQL = `CREATE TABLE dap_readonly_selftest (id int)`

// SelfTestReadOnly proves the target refuses writes. SQL Server has no
// read-only transaction, so the proof is the database's updateability or
// the login's lack of write permissions: it returns nil when the database
// is READ_ONLY, or when the login holds no database-wide write permission
// and a CREATE TABLE inside the read-only transaction is refused. It
// returns an error explaining the danger otherwise. Object- and
// schema-level grants are not enumerated; keep the login in db_datareader.
func (e *Engine) SelfTestReadOnly(ctx context.Context) error {
	lim := engine.Limits{}.WithDefaults()
	c, err := e.conn(ctx)
	if err != nil {
		return err
	}
	defer discard(c)
	qctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	what := "target " + e.name + ": read-only self-test"

	var upd sql.NullString
	if err := c.QueryRowContext(qctx, updateabilitySQL).Scan(&upd); err != nil {
		return mapError(qctx, err, lim.Timeout, what, []string{e.password})
	}
	if strings.EqualFold(upd.String, "READ_ONLY") {
		return nil
	}
	rows, err := c.QueryContext(qctx, writePermsSQL)
	if err != nil {
		return mapError(qctx, err, lim.Timeout, what, []string{e.password})
	}
	var perms []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return mapError(qctx, err, lim.Timeout, what, []string{e.password})
		}
		perms = append(perms, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return mapError(qctx, err, lim.Timeout, what, []string{e.password})
	}
	if len(perms) > 0 {
		return fmt.Errorf("%s: the login holds database-wide write permissions (%s) and SQL Server has no read-only transaction; use a login that is only in db_datareader, or ApplicationIntent=ReadOnly against a readable secondary",
			what, strings.Join(perms, ", "))
	}
	werr := tryWrite(qctx, c, lim)
	if werr == nil {
		return fmt.Errorf("%s: SQL Server accepted CREATE TABLE inside the read-only transaction (it was rolled back); the login can write, so use one that is only in db_datareader", what)
	}
	if refusedWrite(werr) {
		return nil
	}
	return mapError(qctx, werr, lim.Timeout, what, []string{e.password})
}

func tryWrite(ctx context.Context, c *sql.Conn, lim engine.Limits) error {
	tx, err := beginGuarded(ctx, c, lim)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, selfTestWriteSQL)
	return err
}

// refusedWrite says whether err is the database refusing a write: a
// read-only database or a missing permission.
func refusedWrite(err error) bool {
	var me mssql.Error
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case errReadOnlyDB, errPermission, errCreatePerm, 2760 /* schema does not exist or no permission */, 15247 /* no permission */ :
		return true
	}
	return false
}
