package audit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/dap-platform/dap/internal/repo"
)

// exec runs statements written with '?' placeholders.
func exec(t *testing.T, r *repo.Repo, q string, args ...any) {
	t.Helper()
	if _, err := r.DB().Exec(r.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// shiftIDs moves ids > after by delta without colliding with the primary
// key halfway (rows are updated in no particular order).
func shiftIDs(t *testing.T, r *repo.Repo, after, delta int64) {
	t.Helper()
	exec(t, r, "UPDATE audit_events SET id = id + 1000000 WHERE id > ?", after)
	exec(t, r, "UPDATE audit_events SET id = id - 1000000 + ? WHERE id > 1000000", delta)
}

// payloadColumns are all columns but id.
var payloadColumns = strings.Split(strings.TrimPrefix(eventColumns, "id, "), ", ")

// swapRows exchanges the given columns of records a and b.
func swapRows(t *testing.T, r *repo.Repo, a, b int64, cols []string) {
	t.Helper()
	read := func(id int64) []any {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.DB().QueryRow(r.Rebind("SELECT "+strings.Join(cols, ", ")+" FROM audit_events WHERE id = ?"), id).Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		return vals
	}
	va, vb := read(a), read(b)
	set := strings.Join(cols, " = ?, ") + " = ?"
	exec(t, r, "UPDATE audit_events SET "+set+" WHERE id = ?", append(vb, a)...)
	exec(t, r, "UPDATE audit_events SET "+set+" WHERE id = ?", append(va, b)...)
}

func storedHash(t *testing.T, r *repo.Repo, id int64) []byte {
	t.Helper()
	var h []byte
	if err := r.DB().QueryRow(r.Rebind("SELECT hash FROM audit_events WHERE id = ?"), id).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// insertForged inserts a record at id whose hash is correctly chained
// after record id-1, as an attacker who knows the algorithm (but not the
// signing key) would.
func insertForged(t *testing.T, r *repo.Repo, id int64) {
	t.Helper()
	e := sampleEvent(999)
	e.User = "mallory"
	if err := normalize(&e, e.Time); err != nil {
		t.Fatal(err)
	}
	e.ID = id
	e.PrevHash = storedHash(t, r, id-1)
	e.Hash = ChainHash(e.PrevHash, &e)
	st := newStore(r)
	tx, err := r.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ensurePartitions(context.Background(), tx, []*request{{ev: e}}); err != nil {
		t.Fatal(err)
	}
	if err := st.insert(context.Background(), tx, []*request{{ev: e}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestTamper(t *testing.T) {
	const records, every = 50, 10
	tests := []struct {
		name   string
		tamper func(t *testing.T, r *repo.Repo)
		id     int64
		kind   string
		only   string // a dialect the case applies to ("" for both)
	}{
		{"edit a field", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_events SET user_name = 'mallory' WHERE id = 17")
		}, 17, ProblemAltered, ""},
		{"edit a JSON value", func(t *testing.T, r *repo.Repo) {
			exec(t, r, `UPDATE audit_events SET new_value = '{"role":"Administrator"}' WHERE id = 8`)
		}, 8, ProblemAltered, ""},
		{"flip success", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_events SET success = ? WHERE id = 5", true)
		}, 5, ProblemAltered, ""},
		{"edit the first record", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_events SET sql_text = 'SELECT 1' WHERE id = 1")
		}, 1, ProblemAltered, ""},
		{"delete a row", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "DELETE FROM audit_events WHERE id = 23")
		}, 23, ProblemRemoved, ""},
		{"delete the first rows", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "DELETE FROM audit_events WHERE id <= 3")
		}, 1, ProblemRemoved, ""},
		{"delete the last rows", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "DELETE FROM audit_events WHERE id > 45")
		}, 46, ProblemRemoved, ""},
		{"delete a row and renumber", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "DELETE FROM audit_events WHERE id = 30")
			shiftIDs(t, r, 30, -1)
		}, 30, ProblemRemoved, ""},
		{"insert a forged row", func(t *testing.T, r *repo.Repo) {
			shiftIDs(t, r, 20, 1)
			insertForged(t, r, 21)
		}, 21, ProblemInserted, ""},
		// Only PostgreSQL's (id, event_time) key can hold a duplicate id.
		{"insert a forged row with an existing id", func(t *testing.T, r *repo.Repo) {
			insertForged(t, r, 13)
		}, 13, ProblemInserted, repo.DialectPostgres},
		{"swap two rows (reorder)", func(t *testing.T, r *repo.Repo) {
			swapRows(t, r, 12, 15, payloadColumns)
		}, 12, ProblemReordered, ""},
		{"swap adjacent rows (reorder)", func(t *testing.T, r *repo.Repo) {
			swapRows(t, r, 33, 34, payloadColumns)
		}, 33, ProblemReordered, ""},
		{"swap two rows' contents but not their hashes", func(t *testing.T, r *repo.Repo) {
			swapRows(t, r, 12, 15, payloadColumns[:len(payloadColumns)-2])
		}, 12, ProblemAltered, ""},
		{"edit and recompute the chain", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_events SET user_name = 'mallory' WHERE id = 33")
			rechain(t, r, 33, records)
		}, 40, ProblemAltered, ""},
		{"change a checkpoint's count", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_checkpoints SET record_count = 19 WHERE head_id = 20")
		}, 20, ProblemCheckpoint, ""},
		{"change a checkpoint's head hash", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_checkpoints SET head_hash = ? WHERE head_id = 30", make([]byte, 32))
		}, 30, ProblemCheckpoint, ""},
		{"move a checkpoint", func(t *testing.T, r *repo.Repo) {
			exec(t, r, "UPDATE audit_checkpoints SET head_id = 41, record_count = 41 WHERE head_id = 40")
		}, 41, ProblemCheckpoint, ""},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			r := b.open(t)
			key := newKey(t)
			for _, tt := range tests {
				if tt.only != "" && tt.only != b.name {
					continue
				}
				t.Run(tt.name, func(t *testing.T) {
					reset(t, r)
					a, err := NewAppender(r, key, Options{CheckpointEvery: every})
					if err != nil {
						t.Fatal(err)
					}
					appendN(t, a, 1, records)
					if err := a.Close(context.Background()); err != nil {
						t.Fatal(err)
					}
					if rep := verify(t, r, pubOf(key)); !rep.OK {
						t.Fatalf("intact trail fails: %v", rep.Problem)
					}
					tt.tamper(t, r)
					// Sequentially, and split into ranges of 5..7 ids so
					// that range boundaries fall next to the tampering.
					for _, split := range []struct {
						parts int
						chunk int64
					}{{1, 1}, {8, 5}, {8, 6}, {8, 7}} {
						rep, err := verifyIn(context.Background(), r, pubOf(key), split.parts, split.chunk)
						if err != nil {
							t.Fatal(err)
						}
						if rep.OK || rep.Problem == nil {
							t.Fatalf("Verify (%d ranges of %d) passed a tampered trail: %+v", split.parts, split.chunk, rep)
						}
						if rep.Problem.RecordID != tt.id || rep.Problem.Kind != tt.kind {
							t.Fatalf("Verify (%d ranges of %d) found %q, want record %d %s", split.parts, split.chunk, rep.Problem, tt.id, tt.kind)
						}
						if split.parts == 1 {
							t.Logf("reported: %s", rep.Problem)
						}
					}
				})
			}
		})
	}
}

// rechain recomputes the hashes of records from..to in place, as an
// attacker without the signing key could.
func rechain(t *testing.T, r *repo.Repo, from, to int64) {
	t.Helper()
	prev := storedHash(t, r, from-1)
	h := sha256.New()
	for id := from; id <= to; id++ {
		e := readEvent(t, r, id)
		sum := chainHash(h, nil, prev, Canonical(&e))
		exec(t, r, "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?", prev, sum, id)
		prev = sum
	}
}

// readEvent loads one record the way Verify reads it.
func readEvent(t *testing.T, r *repo.Repo, id int64) Event {
	t.Helper()
	var e Event
	var ts string
	var oldV, newV []byte
	dst := []any{&e.ID, &ts, &e.Type, &e.User, &e.SessionID, &e.ClientAddr, &e.Application,
		&e.ObjectType, &e.ObjectName, &e.Action, &oldV, &newV, &e.Success, &e.Error, &e.DurationMs,
		&e.DataClass, &e.Target, &e.StatementKind, &e.RowsReturned, &e.CorrelationID, &e.SQLText, &e.PrevHash, &e.Hash}
	pg := r.Dialect() == repo.DialectPostgres
	if pg {
		dst[1] = &e.Time
	}
	if err := r.DB().QueryRow(r.Rebind("SELECT "+eventColumns+" FROM audit_events WHERE id = ?"), id).Scan(dst...); err != nil {
		t.Fatal(fmt.Errorf("read record %d: %w", id, err))
	}
	if !pg {
		if err := e.Time.UnmarshalText([]byte(ts)); err != nil {
			t.Fatal(err)
		}
	}
	e.OldValue, e.NewValue = oldV, newV
	return e
}
