package mysql

import "context"

// DefaultSchema is the database unqualified names resolve to: the DSN's,
// or the session's when the DSN names none.
func (e *Engine) DefaultSchema(ctx context.Context) (string, error) {
	var out string
	err := e.catalog(ctx, func(s *session) error {
		var err error
		out, err = s.schemaOrDefault("")
		return err
	})
	return out, err
}
