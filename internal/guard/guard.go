package guard

import (
	"errors"
	"fmt"

	"github.com/dap-platform/dap/internal/engine"
)

// Kind is what a statement may do to a database, from least to most.
type Kind string

// The statement kinds. Read, Write, DDL and Admin are ordered; Tx and
// Unknown are never allowed.
const (
	Read    Kind = "read"
	Write   Kind = "write"
	DDL     Kind = "ddl"
	Admin   Kind = "admin"
	Tx      Kind = "tx"
	Unknown Kind = "unknown"
)

// rank orders the runnable kinds so classifiers can raise a verdict to
// the most powerful construct found. Tx and Unknown rank above all.
func (k Kind) rank() int {
	switch k {
	case Read:
		return 0
	case Write:
		return 1
	case DDL:
		return 2
	case Admin:
		return 3
	case Tx:
		return 4
	}
	return 5
}

// AllowedBy reports whether a target with access mode a may run a
// statement of kind k: read-only allows Read; read-write allows Read and
// Write; admin allows Read, Write, DDL and Admin. Tx and Unknown never.
func (k Kind) AllowedBy(a engine.Access) bool {
	switch a {
	case engine.ReadOnly:
		return k == Read
	case engine.ReadWrite:
		return k == Read || k == Write
	case engine.Admin:
		return k == Read || k == Write || k == DDL || k == Admin
	}
	return false
}

// Verdict is the guard's classification of one statement.
type Verdict struct {
	Kind      Kind   `json:"kind"`
	Statement string `json:"statement"`           // the statement's type as a user says it: "SELECT", "CREATE TABLE", "PRAGMA" ...
	Construct string `json:"construct,omitempty"` // what raised the kind above the statement's face value
	Reason    string `json:"reason,omitempty"`    // one human sentence
}

// raise lifts v to kind k when k is more powerful, recording why. The
// first construct found at the highest kind wins, so reports are stable.
func (v *Verdict) raise(k Kind, construct, reason string) {
	if k.rank() > v.Kind.rank() {
		v.Kind, v.Construct, v.Reason = k, construct, reason
	}
}

// ErrRefused is wrapped by every *Refusal, so errors.Is(err, ErrRefused)
// tells a refusal from other failures.
var ErrRefused = errors.New("statement refused")

// Refusal is returned for any statement DAP will not run. Reason is the
// full human explanation; Error prefixes it with "refused: ".
// Refusals returned by a Checker are shared between callers: do not
// modify them.
type Refusal struct {
	Kind      Kind
	Statement string
	Construct string
	Reason    string
}

func (r *Refusal) Error() string {
	if r.Reason != "" {
		return "refused: " + r.Reason
	}
	return "refused: statement kind " + fmt.Sprintf("%q", string(r.Kind)) + r.constructNote()
}

func (r *Refusal) constructNote() string {
	if r.Construct == "" {
		return ""
	}
	return " (construct: " + r.Construct + ")"
}

// Unwrap makes errors.Is(err, ErrRefused) work.
func (r *Refusal) Unwrap() error { return ErrRefused }

// Check parses sql with the dialect's real parser (a faithful tokenizer
// for SQLite) and classifies it. Every refusal is a *Refusal: parse
// errors, zero or several statements, transaction control and statements
// the guard cannot classify. The Verdict is filled as far as known even
// when an error is returned, for the audit trail.
func Check(d engine.Dialect, sql string) (Verdict, error) {
	return check(d, sql, nil)
}

// check is Check with an optional pool of MySQL parsers (TiDB's parser
// is not safe for concurrent use and costs ~7 us to create).
func check(d engine.Dialect, sql string, mp *mysqlPool) (Verdict, error) {
	var v Verdict
	var err error
	switch d {
	case engine.Postgres:
		v, err = checkPostgres(sql)
	case engine.MySQL:
		v, err = checkMySQL(sql, mp)
	case engine.SQLite:
		v, err = checkSQLite(sql)
	case engine.SQLServer:
		v, err = checkSQLServer(sql)
	default:
		return Verdict{Kind: Unknown}, &Refusal{Kind: Unknown, Reason: fmt.Sprintf("unknown dialect %q; the guard speaks postgres, mysql, sqlite and sqlserver", string(d))}
	}
	if err != nil {
		return v, err
	}
	return v, finalRefusal(v)
}

// finalRefusal turns kinds that are never runnable into refusals.
func finalRefusal(v Verdict) error {
	switch v.Kind {
	case Tx:
		what := v.Statement
		if v.Construct != "" {
			what = v.Construct
		}
		return &Refusal{Kind: Tx, Statement: v.Statement, Construct: v.Construct,
			Reason: "transaction control (" + what + ") - DAP owns the transaction"}
	case Unknown:
		r := &Refusal{Kind: Unknown, Statement: v.Statement, Construct: v.Construct}
		r.Reason = fmt.Sprintf("statement kind %q%s cannot be classified", string(Unknown), r.constructNote())
		if v.Statement != "" {
			r.Reason += " (" + v.Statement + ")"
		}
		if v.Reason != "" {
			r.Reason += ": " + v.Reason
		}
		return r
	}
	return nil
}

// Permit returns nil if v.Kind is allowed by the access mode a, else a
// *Refusal naming the kind, the construct and the mode.
func Permit(v Verdict, a engine.Access) error {
	if v.Kind.AllowedBy(a) {
		return nil
	}
	r := &Refusal{Kind: v.Kind, Statement: v.Statement, Construct: v.Construct}
	r.Reason = fmt.Sprintf("statement kind %q%s is not allowed on a %s target", string(v.Kind), r.constructNote(), a)
	if v.Reason != "" {
		r.Reason += ": " + v.Reason
	}
	return r
}

// countRefusal is the refusal for zero or several statements.
func countRefusal(n int) *Refusal {
	if n == 0 {
		return &Refusal{Kind: Unknown, Reason: "no statement found; send exactly one statement per call"}
	}
	return &Refusal{Kind: Unknown, Reason: fmt.Sprintf("%d statements found; send exactly one statement per call", n)}
}

// parseRefusal is the refusal for text the dialect's parser rejects.
func parseRefusal(dialect, msg string) *Refusal {
	return &Refusal{Kind: Unknown, Reason: "cannot parse as " + dialect + ": " + msg}
}
