package guard

import (
	"sync"

	"github.com/dap-platform/dap/internal/engine"
)

// maxCachedSQL bounds the text length the Checker caches: a few huge
// statements must not pin megabytes. Longer texts are checked uncached.
const maxCachedSQL = 16 << 10

// Checker caches verdicts by (dialect, SQL text) in a bounded LRU. Parse
// results are deterministic, so a cached verdict (or refusal) is exactly
// what Check would return. Safe for concurrent use; a hit costs one
// mutex and one map lookup and allocates nothing.
type Checker struct {
	mu    sync.Mutex
	index map[cacheKey]int32 // position in slots
	slots []slot             // fixed capacity; a doubly linked list by index
	head  int32              // most recently used, -1 if empty
	tail  int32              // least recently used, -1 if empty
	size  int

	mysql mysqlPool
}

type cacheKey struct {
	d   engine.Dialect
	sql string
}

type slot struct {
	key        cacheKey
	v          Verdict
	err        error
	prev, next int32
}

// NewChecker returns a Checker holding at most size verdicts (at least 1).
func NewChecker(size int) *Checker {
	if size < 1 {
		size = 1
	}
	return &Checker{
		index: make(map[cacheKey]int32, size),
		slots: make([]slot, 0, size),
		head:  -1,
		tail:  -1,
		size:  size,
	}
}

// Check is guard.Check with a cache.
func (c *Checker) Check(d engine.Dialect, sql string) (Verdict, error) {
	if len(sql) > maxCachedSQL {
		return check(d, sql, &c.mysql)
	}
	k := cacheKey{d, sql}
	c.mu.Lock()
	if i, ok := c.index[k]; ok {
		c.moveToFront(i)
		s := &c.slots[i]
		v, err := s.v, s.err
		c.mu.Unlock()
		return v, err
	}
	c.mu.Unlock()

	// Parse outside the lock: two callers racing on the same new text
	// both parse it and store the same verdict, which is harmless.
	v, err := check(d, sql, &c.mysql)

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[k]; ok {
		return v, err
	}
	var i int32
	if len(c.slots) < c.size {
		c.slots = append(c.slots, slot{prev: -1, next: -1})
		i = int32(len(c.slots) - 1)
	} else {
		i = c.tail
		c.unlink(i)
		delete(c.index, c.slots[i].key)
	}
	c.slots[i] = slot{key: k, v: v, err: err, prev: -1, next: -1}
	c.pushFront(i)
	c.index[k] = i
	return v, err
}

// Len reports how many verdicts are cached.
func (c *Checker) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.index)
}

func (c *Checker) moveToFront(i int32) {
	if c.head == i {
		return
	}
	c.unlink(i)
	c.pushFront(i)
}

func (c *Checker) unlink(i int32) {
	s := &c.slots[i]
	if s.prev >= 0 {
		c.slots[s.prev].next = s.next
	} else {
		c.head = s.next
	}
	if s.next >= 0 {
		c.slots[s.next].prev = s.prev
	} else {
		c.tail = s.prev
	}
	s.prev, s.next = -1, -1
}

func (c *Checker) pushFront(i int32) {
	s := &c.slots[i]
	s.prev, s.next = -1, c.head
	if c.head >= 0 {
		c.slots[c.head].prev = i
	}
	c.head = i
	if c.tail < 0 {
		c.tail = i
	}
}
