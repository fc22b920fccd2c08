package mysql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// connector wraps the driver's connector so every new connection learns its
// server-side id (for KILL QUERY) and the server flavour once, at connect.
type connector struct{ base driver.Connector }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	rc, ok := dc.(rawConn)
	if !ok {
		_ = dc.Close()
		return nil, errors.New("mysql driver connection lacks the context interfaces")
	}
	tc := &trackedConn{rawConn: rc}
	if err := tc.identify(ctx); err != nil {
		_ = dc.Close()
		return nil, err
	}
	return tc, nil
}

func (c *connector) Driver() driver.Driver { return c.base.Driver() }

// rawConn is what go-sql-driver's connection implements; trackedConn
// forwards all of it so database/sql behaves as with the bare driver.
type rawConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// trackedConn is one server connection plus what DAP knows about it. Its
// fields are only touched by the goroutine holding the connection.
type trackedConn struct {
	rawConn
	id      uint64 // CONNECTION_ID(), for KILL QUERY from another connection
	flavour flavour
	// roTimeout is the statement timeout last set together with the
	// read-only session flag; 0 means the session is not known to be in
	// DAP's read-only state.
	roTimeout time.Duration
}

func (tc *trackedConn) identify(ctx context.Context) error {
	rows, err := tc.QueryContext(ctx, "SELECT CONNECTION_ID(), VERSION()", nil)
	if err != nil {
		return fmt.Errorf("read connection id and version: %w", err)
	}
	defer rows.Close()
	dest := make([]driver.Value, 2)
	if err := rows.Next(dest); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("read connection id and version: no row")
		}
		return fmt.Errorf("read connection id and version: %w", err)
	}
	switch v := dest[0].(type) {
	case int64:
		tc.id = uint64(v)
	case uint64:
		tc.id = v
	case []byte:
		tc.id, err = strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return fmt.Errorf("parse connection id: %w", err)
		}
	default:
		return fmt.Errorf("unexpected connection id type %T", v)
	}
	var version string
	switch v := dest[1].(type) {
	case []byte:
		version = string(v)
	case string:
		version = v
	}
	tc.flavour = parseFlavour(version)
	return nil
}

// flavour is the server kind and version.
type flavour struct {
	mariaDB             bool
	major, minor, patch int
	raw                 string
}

func parseFlavour(version string) flavour {
	f := flavour{raw: version, mariaDB: strings.Contains(strings.ToLower(version), "mariadb")}
	num := version
	if i := strings.IndexFunc(num, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		num = num[:i]
	}
	parts := strings.SplitN(num, ".", 3)
	ints := []*int{&f.major, &f.minor, &f.patch}
	for i, p := range parts {
		*ints[i], _ = strconv.Atoi(p)
	}
	return f
}

func (f flavour) atLeast(major, minor, patch int) bool {
	if f.major != major {
		return f.major > major
	}
	if f.minor != minor {
		return f.minor > minor
	}
	return f.patch >= patch
}

// String is the human version, e.g. "MariaDB 10.11.19".
func (f flavour) String() string {
	name := "MySQL"
	if f.mariaDB {
		name = "MariaDB"
	}
	return fmt.Sprintf("%s %d.%d.%d", name, f.major, f.minor, f.patch)
}

// sessionSQL sets the statement timeout and the session's default access
// mode in one round trip. It is built only from numbers DAP computes.
func (f flavour) sessionSQL(readOnly bool, timeout time.Duration) string {
	ro := 0
	if readOnly {
		ro = 1
	}
	if f.mariaDB {
		// MariaDB: max_statement_time in seconds (decimal), applies to
		// every statement; the flag was renamed in 11.1.
		flag := "tx_read_only"
		if f.atLeast(11, 1, 0) {
			flag = "transaction_read_only"
		}
		return fmt.Sprintf("SET SESSION max_statement_time=%s, SESSION %s=%d",
			strconv.FormatFloat(timeout.Seconds(), 'f', 6, 64), flag, ro)
	}
	// MySQL: max_execution_time in ms, applies to SELECT only; writes are
	// bounded by the client deadline and KILL QUERY.
	ms := max(timeout.Milliseconds(), 1)
	flag := "transaction_read_only"
	if !f.atLeast(5, 7, 20) {
		flag = "tx_read_only"
	}
	return fmt.Sprintf("SET SESSION max_execution_time=%d, SESSION %s=%d", ms, flag, ro)
}

// serverTimeoutCovers reports whether the server-side timeout bounds every
// statement in this mode (MySQL's max_execution_time covers SELECT only).
func (f flavour) serverTimeoutCovers(readOnly bool) bool { return f.mariaDB || readOnly }
