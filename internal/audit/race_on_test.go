//go:build race

package audit

// raceEnabled: the race detector slows the transpiled SQLite roughly
// fifteen-fold, so the concurrency test appends fewer records under it.
const raceEnabled = true
