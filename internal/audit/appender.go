package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/dap-platform/dap/internal/repo"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: appender is closed")

// Options tune an Appender. Zero values take the defaults.
type Options struct {
	// CheckpointEvery signs a checkpoint whenever a record's id is a
	// multiple of it (default 1000), and once more on Close.
	CheckpointEvery int64
	// MaxBatch bounds the records written in one transaction (default 1024).
	MaxBatch int
	// WriteTimeout bounds one batch's transaction (default 30s).
	WriteTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 1000
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	return o
}

type request struct {
	ev    Event
	canon []byte
	done  chan error // buffered: the writer never blocks on a caller that gave up
}

// Appender appends records to the trail. Concurrent Append calls are
// group-committed: one writer goroutine drains the queue, writes the whole
// batch in one transaction and then wakes every caller. It is safe for
// concurrent use; Close it to flush and sign the final checkpoint.
type Appender struct {
	key  ed25519.PrivateKey
	opts Options
	st   *store

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *request
	done   chan struct{}
}

// NewAppender starts an appender on a migrated repository, signing
// checkpoints with key.
func NewAppender(r *repo.Repo, key ed25519.PrivateKey, opts Options) (*Appender, error) {
	if r == nil {
		return nil, errors.New("audit: NewAppender needs a repository")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("audit: NewAppender needs an Ed25519 signing key (see LoadOrCreateKey)")
	}
	opts = opts.withDefaults()
	a := &Appender{
		key:   key,
		opts:  opts,
		st:    newStore(r),
		queue: make(chan *request, opts.MaxBatch),
		done:  make(chan struct{}),
	}
	go a.run()
	return a, nil
}

// Append writes e and returns its id once the record is committed. Any
// error means the record may not be stored: the caller must refuse the
// request it was auditing (fail closed). e.ID, e.PrevHash and e.Hash are
// ignored; a zero e.Time means now.
func (a *Appender) Append(ctx context.Context, e Event) (int64, error) {
	if err := normalize(&e, time.Now()); err != nil {
		return 0, err
	}
	rq := &request{ev: e, done: make(chan error, 1)}
	rq.canon = appendCanonical(make([]byte, 0, 256+len(e.SQLText)), &rq.ev)

	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return 0, ErrClosed
	}
	select {
	case a.queue <- rq:
		a.mu.RUnlock()
	case <-ctx.Done():
		a.mu.RUnlock()
		return 0, fmt.Errorf("audit: append %s event: %w", e.Type, ctx.Err())
	}
	select {
	case err := <-rq.done:
		if err != nil {
			return 0, err
		}
		return rq.ev.ID, nil
	case <-ctx.Done():
		// The record may still be committed; the caller refuses anyway.
		return 0, fmt.Errorf("audit: append %s event: %w", e.Type, ctx.Err())
	}
}

// Close stops accepting records, flushes the queue and signs a checkpoint
// at the head, so that Verify covers every record with a signature.
func (a *Appender) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.queue)
	a.mu.Unlock()
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("audit: close: waiting for pending records: %w", ctx.Err())
	}
	if err := a.checkpointHead(ctx); err != nil {
		return fmt.Errorf("audit: close: %w", err)
	}
	return nil
}

func (a *Appender) run() {
	defer close(a.done)
	defer a.st.close()
	batch := make([]*request, 0, a.opts.MaxBatch)
	h := sha256.New()
	for rq := range a.queue {
		batch = append(batch[:0], rq)
	drain:
		for len(batch) < a.opts.MaxBatch {
			select {
			case more, ok := <-a.queue:
				if !ok {
					break drain
				}
				batch = append(batch, more)
			default:
				break drain
			}
		}
		err := a.write(batch, h)
		for _, rq := range batch {
			rq.done <- err
		}
	}
}

// write commits one batch: lock, read the head, chain, insert, sign due
// checkpoints, commit. Nothing is kept in memory between batches, so a
// failed batch (or another instance appending) can never fork the chain.
func (a *Appender) write(batch []*request, h hash.Hash) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.WriteTimeout)
	defer cancel()
	first := batch[0].ev.Type
	defer func() {
		if err != nil {
			err = fmt.Errorf("audit: could not write %d record(s) (first: %s) to the %s repository: %w", len(batch), first, a.st.r.Dialect(), err)
		}
	}()
	tx, err := a.st.r.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := a.st.lock(ctx, tx); err != nil {
		return err
	}
	created, err := a.st.ensurePartitions(ctx, tx, batch)
	if err != nil {
		return err
	}
	id, prev, err := a.st.head(ctx, tx)
	if err != nil {
		return err
	}
	var due []Checkpoint
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, rq := range batch {
		id++
		rq.ev.ID = id
		rq.ev.PrevHash = prev
		rq.ev.Hash = chainHash(h, make([]byte, 0, HashSize), prev, rq.canon)
		prev = rq.ev.Hash
		if id%a.opts.CheckpointEvery == 0 {
			due = append(due, Checkpoint{Count: id, HeadID: id, HeadHash: rq.ev.Hash, Time: now})
		}
	}
	if err := a.st.insert(ctx, tx, batch); err != nil {
		return err
	}
	for i := range due {
		due[i].sign(a.key)
		if err := a.st.insertCheckpoint(ctx, tx, &due[i]); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	a.st.committed(created)
	return nil
}

// checkpointHead signs a checkpoint at the current head unless one exists.
// It runs after the writer stopped, so it owns the store.
func (a *Appender) checkpointHead(ctx context.Context) (err error) {
	tx, err := a.st.r.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sign the final checkpoint: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err := a.st.lock(ctx, tx); err != nil {
		return err
	}
	id, h, err := a.st.head(ctx, tx)
	if err != nil {
		return err
	}
	if id == 0 {
		return tx.Rollback()
	}
	c := Checkpoint{Count: id, HeadID: id, HeadHash: h, Time: time.Now().UTC().Truncate(time.Microsecond)}
	c.sign(a.key)
	if err := a.st.insertCheckpoint(ctx, tx, &c); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sign the final checkpoint: commit: %w", err)
	}
	return nil
}
