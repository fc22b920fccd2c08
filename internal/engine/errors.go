package engine

import "errors"

// Error kinds. Adapters wrap them with context (fmt.Errorf("...: %w", ErrTimeout));
// transports map them to MCP errors or HTTP statuses without internals.
var (
	ErrTimeout     = errors.New("statement timed out")
	ErrUnavailable = errors.New("target unavailable")
	ErrNotFound    = errors.New("not found")
	ErrInvalid     = errors.New("invalid request")
	ErrReadOnly    = errors.New("refused by the database: read-only")
	ErrCanceled    = errors.New("canceled")
)

// DBError is an error the database returned for a statement (syntax,
// permission, constraint ...). Its message is safe to show: it carries
// no DSN and no bound parameter values.
type DBError struct {
	Code    string // SQLSTATE or the engine's error number
	Message string
}

func (e *DBError) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Message + " (" + e.Code + ")"
}
