package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dap-platform/dap/internal/repo"
)

// Problem kinds reported by Verify.
const (
	ProblemAltered    = "altered"    // a record's content no longer matches its hash
	ProblemInserted   = "inserted"   // a record was added into the chain
	ProblemRemoved    = "removed"    // a record is missing (id gap, truncation, or renumbering)
	ProblemReordered  = "reordered"  // a record sits after the wrong predecessor
	ProblemCheckpoint = "checkpoint" // a checkpoint's signature or statement is wrong
)

// Problem is the first inconsistency Verify found.
type Problem struct {
	RecordID int64  // the record named (for checkpoints: the checkpoint's head)
	Kind     string // one of the Problem* constants
	Detail   string
}

func (p Problem) String() string {
	return fmt.Sprintf("record %d %s: %s", p.RecordID, p.Kind, p.Detail)
}

// Report is the outcome of Verify. OK is true when the chain and every
// checkpoint are intact; otherwise Problem names the first bad record.
type Report struct {
	OK          bool
	Records     int64  // records read
	FirstID     int64  // first record id (1 unless older records were purged)
	LastID      int64  // last record id read
	HeadHash    []byte // hash of the last record read
	Checkpoints int    // checkpoints whose signature and head were checked
	// Unsigned counts the records after the last checkpoint: they are
	// chained but no signature covers them yet (a new checkpoint is signed
	// every CheckpointEvery records and on Close).
	Unsigned int64
	Problem  *Problem
	Elapsed  time.Duration
}

// Verify streams every record in id order, recomputes each record's hash
// and its link to its predecessor, and checks every checkpoint's signature
// (with pub) and that its head matches the chain. It reports the first
// problem and names that record in the Report. The returned error is for
// failures to read the repository, not for tampering.
//
// Each record's check needs only its own fields and its predecessor's
// stored hash, so large trails are split into id ranges verified in
// parallel (one cursor each, overlapping by two records); the problem
// with the lowest record id is the one a sequential pass would find first.
func Verify(ctx context.Context, r *repo.Repo, pub ed25519.PublicKey) (Report, error) {
	return verifyIn(ctx, r, pub, runtime.GOMAXPROCS(0), minChunk)
}

// verifyIn is Verify with at most parts ranges of at least chunk ids each
// (tests use tiny ranges to put tampering at range boundaries).
func verifyIn(ctx context.Context, r *repo.Repo, pub ed25519.PublicKey, parts int, chunk int64) (Report, error) {
	start := time.Now()
	rep := Report{}
	if len(pub) != ed25519.PublicKeySize {
		return rep, errors.New("audit: verify needs the Ed25519 public key of the checkpoint signing key")
	}
	cps, err := loadCheckpoints(ctx, r)
	if err != nil {
		return rep, err
	}
	var lo, hi sql.NullInt64
	if err := r.DB().QueryRowContext(ctx, "SELECT min(id), max(id) FROM audit_events").Scan(&lo, &hi); err != nil {
		return rep, fmt.Errorf("audit: verify: read the id range: %w", err)
	}
	ranges := split(lo.Int64, hi.Int64, parts, chunk)
	vs := make([]verifier, len(ranges))
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for i, rg := range ranges {
		vs[i] = verifier{r: r, pub: pub, cps: cps, lo: rg[0], hi: rg[1], minID: lo.Int64, first: i == 0, last: i == len(ranges)-1}
		wg.Add(1)
		go func(v *verifier, err *error) {
			defer wg.Done()
			*err = v.run(ctx)
		}(&vs[i], &errs[i])
	}
	wg.Wait()
	rep.Elapsed = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return rep, err
		}
	}
	for i := range vs {
		v := &vs[i]
		if v.problem != nil && (rep.Problem == nil || v.problem.RecordID < rep.Problem.RecordID) {
			rep.Problem = v.problem
		}
		rep.Records += v.records
		rep.Checkpoints += v.checkpoints
		if i == 0 {
			rep.FirstID = v.firstID
		}
	}
	if rep.Problem != nil {
		return rep, nil
	}
	tail := &vs[len(vs)-1]
	rep.OK = true
	rep.LastID = tail.lastID
	rep.HeadHash = tail.head
	rep.Unsigned = tail.unsigned
	return rep, nil
}

// minChunk is the fewest records worth a cursor of their own.
const minChunk = 50_000

// split cuts ids lo..hi into at most n ranges of at least chunk ids.
func split(lo, hi int64, n int, chunk int64) [][2]int64 {
	span := hi - lo + 1
	if n < 2 || span < 2*chunk {
		return [][2]int64{{lo, hi}}
	}
	n = int(min(int64(n), span/chunk))
	out := make([][2]int64, 0, n)
	size := span / int64(n)
	for i := 0; i < n; i++ {
		a := lo + int64(i)*size
		b := a + size - 1
		if i == n-1 {
			b = hi
		}
		out = append(out, [2]int64{a, b})
	}
	return out
}

func loadCheckpoints(ctx context.Context, r *repo.Repo) ([]Checkpoint, error) {
	rows, err := r.DB().QueryContext(ctx, "SELECT id, record_count, head_id, head_hash, created_at, key_id, signature FROM audit_checkpoints ORDER BY head_id, id")
	if err != nil {
		return nil, fmt.Errorf("audit: verify: read checkpoints: %w", err)
	}
	defer rows.Close()
	pg := r.Dialect() == repo.DialectPostgres
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var ts string
		dst := []any{&c.ID, &c.Count, &c.HeadID, &c.HeadHash, &ts, &c.KeyID, &c.Signature}
		if pg {
			dst[4] = &c.Time
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("audit: verify: read checkpoints: %w", err)
		}
		if !pg {
			if c.Time, err = time.Parse(sqliteTimeLayout, ts); err != nil {
				return nil, fmt.Errorf("audit: verify: checkpoint %d has an unreadable time %q: %w", c.ID, ts, err)
			}
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit: verify: read checkpoints: %w", err)
	}
	return out, nil
}

// verifier checks the records with ids lo..hi (and, when first, where the
// trail starts; when last, how it ends).
type verifier struct {
	r           *repo.Repo
	pub         ed25519.PublicKey
	cps         []Checkpoint
	lo, hi      int64
	minID       int64 // the trail's first id
	first, last bool

	next        int // index of the next checkpoint to check
	problem     *Problem
	records     int64
	checkpoints int
	firstID     int64
	lastID      int64
	head        []byte
	unsigned    int64
}

func (v *verifier) fail(id int64, kind, format string, args ...any) {
	v.problem = &Problem{RecordID: id, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// checkpoint checks cp against the record it names (id, hash).
func (v *verifier) checkpoint(cp *Checkpoint, id int64, h []byte) bool {
	if !cp.Valid(v.pub) {
		v.fail(cp.HeadID, ProblemCheckpoint, "checkpoint #%d (count %d, head %d) has a signature that does not verify with key %s: the checkpoint was altered or signed by another key",
			cp.ID, cp.Count, cp.HeadID, KeyID(v.pub))
		return false
	}
	if cp.Count != cp.HeadID {
		v.fail(cp.HeadID, ProblemCheckpoint, "checkpoint #%d states %d records up to id %d", cp.ID, cp.Count, cp.HeadID)
		return false
	}
	if !bytes.Equal(cp.HeadHash, h) {
		v.fail(id, ProblemAltered, "hash %s differs from %s signed by checkpoint #%d: a record up to here was altered and the chain recomputed",
			short(h), short(cp.HeadHash), cp.ID)
		return false
	}
	v.checkpoints++
	return true
}

// anchor returns the signed hash of record id (from a checkpoint), used
// when older records were purged and the trail starts after id 1.
func (v *verifier) anchor(id int64) ([]byte, bool) {
	for i := range v.cps {
		if cp := &v.cps[i]; cp.HeadID == id && cp.Count == id && cp.Valid(v.pub) {
			return cp.HeadHash, true
		}
	}
	return nil, false
}

func (v *verifier) run(ctx context.Context) error {
	pg := v.r.Dialect() == repo.DialectPostgres
	// Ranges after the first also read the two records before lo, only to
	// learn the hashes the first records of the range must link to.
	from := v.lo
	if !v.first {
		from = v.lo - 2
	}
	q := "SELECT " + eventColumns + " FROM audit_events ORDER BY id"
	args := []any(nil)
	if !v.first || !v.last {
		q = v.r.Rebind("SELECT " + eventColumns + " FROM audit_events WHERE id >= ? AND id <= ? ORDER BY id")
		args = []any{from, v.hi}
	}
	rows, err := v.r.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit: verify: read records %d..%d: %w", v.lo, v.hi, err)
	}
	defer rows.Close()

	var (
		e              Event
		ts             string
		oldV, newV     sql.RawBytes
		prevH, hashH   sql.RawBytes
		lastID         = from - 1
		last, lastLast [HashSize]byte // hashes of the previous two records
		seen           int            // records read, seeds included
		sum            = make([]byte, 0, HashSize)
		canon          = make([]byte, 0, 1024)
		h              = sha256.New()
	)
	for v.next < len(v.cps) && v.cps[v.next].HeadID < v.lo {
		v.next++ // checkpoints before this range belong to another verifier
	}
	dst := []any{&e.ID, &ts, &e.Type, &e.User, &e.SessionID, &e.ClientAddr, &e.Application,
		&e.ObjectType, &e.ObjectName, &e.Action, &oldV, &newV, &e.Success, &e.Error, &e.DurationMs,
		&e.DataClass, &e.Target, &e.StatementKind, &e.RowsReturned, &e.CorrelationID, &e.SQLText, &prevH, &hashH}
	if pg {
		dst[1] = &e.Time
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return fmt.Errorf("audit: verify: read record after id %d: %w", lastID, err)
		}
		if e.ID < v.lo { // a seed record before the range
			lastLast = last
			copy(last[:], hashH)
			lastID = e.ID
			seen++
			continue
		}
		if !pg {
			if e.Time, err = parseStoredTime(ts); err != nil {
				v.fail(e.ID, ProblemAltered, "event time %q is not in the stored form", ts)
				return nil
			}
		}
		e.OldValue, e.NewValue = rawJSON(oldV), rawJSON(newV)
		if v.first && v.records == 0 {
			v.firstID = e.ID
			if !v.start(&e, prevH, last[:]) {
				return nil
			}
			lastID = e.ID - 1
		}
		switch {
		case e.ID <= lastID:
			v.fail(e.ID, ProblemInserted, "id %d appears again after record %d (a duplicate record was inserted)", e.ID, lastID)
			return nil
		case e.ID != lastID+1:
			v.fail(lastID+1, ProblemRemoved, "records %d..%d are missing (ids jump from %d to %d)", lastID+1, e.ID-1, lastID, e.ID)
			return nil
		}
		canon = appendCanonical(canon[:0], &e)
		sum = chainHash(h, sum, prevH, canon)
		selfOK := bytes.Equal(sum, hashH)
		linkOK := bytes.Equal(prevH, last[:])
		switch {
		case !selfOK && linkOK:
			v.fail(e.ID, ProblemAltered, "its content does not match its stored hash %s (a field was changed)", short(hashH))
			return nil
		case !selfOK:
			v.fail(e.ID, ProblemAltered, "neither its content nor its predecessor link match its stored hash %s (the record was replaced)", short(hashH))
			return nil
		case !linkOK && seen >= 2 && bytes.Equal(prevH, lastLast[:]):
			v.fail(e.ID-1, ProblemInserted, "it is not in the chain: record %d names record %d's hash as its predecessor", e.ID, e.ID-2)
			return nil
		case !linkOK:
			return v.brokenLink(ctx, e.ID, prevH)
		}
		lastLast = last
		copy(last[:], hashH)
		lastID = e.ID
		seen++
		v.records++
		v.lastID = e.ID
		for v.next < len(v.cps) && v.cps[v.next].HeadID <= e.ID {
			cp := &v.cps[v.next]
			v.next++
			if cp.HeadID < e.ID { // its head precedes the first record (purged)
				continue
			}
			if !v.checkpoint(cp, e.ID, hashH) {
				return nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: verify: read records after id %d: %w", lastID, err)
	}
	if !v.last {
		// The next range only sees from v.lo-2 on: a gap reaching the end
		// of this range must be reported here, where it starts.
		if lastID < v.hi && (v.records > 0 || !v.first) {
			v.fail(lastID+1, ProblemRemoved, "record %d is missing (and the following ones up to at least %d)", lastID+1, v.hi)
		}
		return nil
	}
	v.head = append([]byte(nil), last[:]...)
	if v.next < len(v.cps) {
		cp := &v.cps[v.next]
		if !cp.Valid(v.pub) {
			v.checkpoint(cp, cp.HeadID, nil)
			return nil
		}
		v.fail(lastID+1, ProblemRemoved, "checkpoint #%d is signed over %d records but the trail ends at record %d (records %d..%d were removed)",
			cp.ID, cp.HeadID, lastID, lastID+1, cp.HeadID)
		return nil
	}
	if v.records == 0 {
		return nil
	}
	signed := v.minID - 1
	if len(v.cps) > 0 {
		signed = max(signed, v.cps[len(v.cps)-1].HeadID)
	}
	v.unsigned = lastID - signed
	return nil
}

// first checks where the trail starts: at id 1 after 32 zero bytes, or
// after purged records at a signed checkpoint's head.
func (v *verifier) start(e *Event, prev []byte, zero []byte) bool {
	if e.ID == 1 {
		return true // the link check against 32 zero bytes follows
	}
	if e.ID < 1 {
		v.fail(e.ID, ProblemInserted, "id %d is not a valid record id", e.ID)
		return false
	}
	anchor, ok := v.anchor(e.ID - 1)
	if !ok {
		v.fail(1, ProblemRemoved, "the trail starts at record %d and no signed checkpoint covers records 1..%d (records were removed)", e.ID, e.ID-1)
		return false
	}
	if !bytes.Equal(anchor, prev) {
		v.fail(e.ID, ProblemReordered, "the first record does not follow the signed checkpoint at record %d", e.ID-1)
		return false
	}
	copy(zero, prev) // the predecessor hash the first record is checked against
	return true
}

// brokenLink names a record whose predecessor hash is not the previous
// record's: if another record carries that hash, records were reordered;
// if none does, its predecessor was removed and later ids renumbered. The
// extra scan only runs once, on failure.
func (v *verifier) brokenLink(ctx context.Context, id int64, prev []byte) error {
	var other int64
	err := v.r.DB().QueryRowContext(ctx, v.r.Rebind("SELECT id FROM audit_events WHERE hash = ? ORDER BY id LIMIT 1"), []byte(prev)).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		v.fail(id, ProblemRemoved, "its predecessor (hash %s) is missing from the trail: a record before it was removed and the ids renumbered", short(prev))
	case err != nil:
		return fmt.Errorf("audit: verify: look up the predecessor of record %d: %w", id, err)
	default:
		v.fail(id, ProblemReordered, "it follows record %d in the chain but is stored as record %d (records were reordered)", other, id)
	}
	return nil
}

func rawJSON(b sql.RawBytes) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func short(h []byte) string {
	if len(h) > 8 {
		h = h[:8]
	}
	return hex.EncodeToString(h) + "…"
}

// parseStoredTime parses sqliteTimeLayout ("2006-01-02T15:04:05.000000Z")
// by hand: time.Parse is a measurable share of verifying millions of rows.
func parseStoredTime(s string) (time.Time, error) {
	if len(s) != len(sqliteTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return time.Parse(sqliteTimeLayout, s)
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, hh, mm, ss, us := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || us < 0 {
		return time.Parse(sqliteTimeLayout, s)
	}
	t := time.Date(y, time.Month(mo), d, hh, mm, ss, us*1000, time.UTC)
	if t.Day() != d { // e.g. February 30th, which time.Date would normalise
		return time.Parse(sqliteTimeLayout, s)
	}
	return t, nil
}
