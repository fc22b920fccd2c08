package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dap-platform/dap/internal/repo"
)

// sqliteTimeLayout is how event and checkpoint times are stored in SQLite:
// fixed-width UTC with microseconds, so text order is time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// appendLockID is the PostgreSQL transaction-level advisory lock that
// serializes appends of all DAP instances sharing a repository ("DAPAUD").
const appendLockID = 0x444150_415544

// eventColumns are audit_events' columns in insert/select order.
const eventColumns = "id, event_time, event_type, user_name, session_id, client_addr, application, " +
	"object_type, object_name, action, old_value, new_value, success, error, duration_ms, " +
	"data_class, target, statement_kind, rows_returned, correlation_id, sql_text, prev_hash, hash"

const eventColumnCount = 23

// insertChunk bounds the rows of one multi-row INSERT (23 parameters a row
// stays far below SQLite's and PostgreSQL's parameter limits).
const insertChunk = 256

// store holds the dialect-specific SQL. It is used by one goroutine at a
// time (the appender's writer), so its caches need no locking.
type store struct {
	r          *repo.Repo
	pg         bool
	inserts    map[int]string // multi-row INSERT by row count
	partitions map[string]bool
	one        *sql.Stmt // SQLite: the prepared single-row INSERT, reused across batches
}

// close releases the prepared statement.
func (s *store) close() {
	if s.one != nil {
		_ = s.one.Close()
		s.one = nil
	}
}

func newStore(r *repo.Repo) *store {
	return &store{r: r, pg: r.Dialect() == repo.DialectPostgres, inserts: map[int]string{}, partitions: map[string]bool{}}
}

func (s *store) timeArg(t time.Time) any {
	if s.pg {
		return t
	}
	return t.UTC().Format(sqliteTimeLayout)
}

// lock serializes appenders across DAP instances (PostgreSQL); on SQLite
// the transaction already holds the single write lock from BEGIN
// (repo opens SQLite with _txlock=immediate).
func (s *store) lock(ctx context.Context, tx *sql.Tx) error {
	if !s.pg {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(appendLockID)); err != nil {
		return fmt.Errorf("take the audit append lock: %w", err)
	}
	return nil
}

// head returns the id and hash of the last record, or 0 and 32 zero bytes
// for an empty trail. Called inside the locked transaction, so no other
// writer can move the head meanwhile.
func (s *store) head(ctx context.Context, tx *sql.Tx) (int64, []byte, error) {
	var id int64
	var h []byte
	err := tx.QueryRowContext(ctx, "SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1").Scan(&id, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, make([]byte, HashSize), nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read the audit chain's head: %w", err)
	}
	if len(h) != HashSize {
		return 0, nil, fmt.Errorf("audit record %d has a %d-byte hash, want %d; run dap audit verify", id, len(h), HashSize)
	}
	return id, h, nil
}

// partitionName is the monthly partition holding t, e.g. audit_events_p202611.
func partitionName(t time.Time) string {
	return fmt.Sprintf("audit_events_p%04d%02d", t.Year(), int(t.Month()))
}

// ensurePartitions creates the monthly partitions the batch needs
// (PostgreSQL only). CREATE TABLE IF NOT EXISTS makes it idempotent, and
// it runs under the append lock, so instances never race on it. Names are
// remembered only once committed (see committed).
func (s *store) ensurePartitions(ctx context.Context, tx *sql.Tx, batch []*request) ([]string, error) {
	if !s.pg {
		return nil, nil
	}
	var created []string
	for _, rq := range batch {
		t := rq.ev.Time
		name := partitionName(t)
		if s.partitions[name] || contains(created, name) {
			continue
		}
		from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 1, 0)
		q := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF audit_events FOR VALUES FROM ('%s') TO ('%s')",
			name, from.Format(time.RFC3339), to.Format(time.RFC3339))
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("create audit partition %s: %w", name, err)
		}
		created = append(created, name)
	}
	return created, nil
}

func (s *store) committed(partitions []string) {
	for _, p := range partitions {
		s.partitions[p] = true
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *store) insertSQL(rows int) string {
	if q, ok := s.inserts[rows]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString("INSERT INTO audit_events (" + eventColumns + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", eventColumnCount), ",") + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	q := s.r.Rebind(b.String())
	s.inserts[rows] = q
	return q
}

func jsonArg(v []byte) any {
	if len(v) == 0 {
		return nil
	}
	return string(v)
}

// insert writes the batch's records (ids and hashes already assigned).
// SQLite runs one prepared single-row statement per record (in-process,
// so no round trips, and preparing a long multi-row statement costs more
// than it saves); PostgreSQL sends multi-row INSERTs to save round trips.
func (s *store) insert(ctx context.Context, tx *sql.Tx, batch []*request) error {
	if !s.pg {
		return s.insertEach(ctx, tx, batch)
	}
	args := make([]any, 0, min(len(batch), insertChunk)*eventColumnCount)
	for start := 0; start < len(batch); start += insertChunk {
		end := min(start+insertChunk, len(batch))
		args = args[:0]
		for _, rq := range batch[start:end] {
			e := &rq.ev
			args = append(args, e.ID, s.timeArg(e.Time), e.Type, e.User, e.SessionID, e.ClientAddr,
				e.Application, e.ObjectType, e.ObjectName, e.Action, jsonArg(e.OldValue), jsonArg(e.NewValue),
				e.Success, e.Error, e.DurationMs, e.DataClass, e.Target, e.StatementKind, e.RowsReturned,
				e.CorrelationID, e.SQLText, e.PrevHash, e.Hash)
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL(end-start), args...); err != nil {
			return fmt.Errorf("insert audit records %d..%d: %w", batch[start].ev.ID, batch[end-1].ev.ID, err)
		}
	}
	return nil
}

func (s *store) insertEach(ctx context.Context, tx *sql.Tx, batch []*request) error {
	if s.one == nil {
		one, err := s.r.DB().PrepareContext(ctx, s.insertSQL(1))
		if err != nil {
			return fmt.Errorf("prepare audit insert: %w", err)
		}
		s.one = one
	}
	stmt := tx.StmtContext(ctx, s.one)
	defer stmt.Close()
	for _, rq := range batch {
		e := &rq.ev
		if _, err := stmt.ExecContext(ctx, e.ID, s.timeArg(e.Time), e.Type, e.User, e.SessionID, e.ClientAddr,
			e.Application, e.ObjectType, e.ObjectName, e.Action, jsonArg(e.OldValue), jsonArg(e.NewValue),
			e.Success, e.Error, e.DurationMs, e.DataClass, e.Target, e.StatementKind, e.RowsReturned,
			e.CorrelationID, e.SQLText, e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("insert audit record %d: %w", e.ID, err)
		}
	}
	return nil
}

func (s *store) insertCheckpoint(ctx context.Context, tx *sql.Tx, c *Checkpoint) error {
	q := s.r.Rebind("INSERT INTO audit_checkpoints (record_count, head_id, head_hash, created_at, key_id, signature) " +
		"VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (head_id) DO NOTHING")
	if _, err := tx.ExecContext(ctx, q, c.Count, c.HeadID, c.HeadHash, s.timeArg(c.Time), c.KeyID, c.Signature); err != nil {
		return fmt.Errorf("write audit checkpoint at record %d: %w", c.HeadID, err)
	}
	return nil
}
