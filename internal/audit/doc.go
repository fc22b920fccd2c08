// Package audit is DAP's tamper-evident audit trail: every record is
// hash-chained to its predecessor, the chain's head is periodically signed
// (Ed25519 checkpoints), appends are group-committed and durable before
// the caller proceeds (fail closed), and Verify re-computes everything.
//
// Files:
//   - event.go: Event and its event types; normalisation before hashing.
//   - canonical.go: the documented canonical byte form and the chain hash.
//   - key.go: LoadOrCreateKey, the checkpoint signing key on disk.
//   - checkpoint.go: the signed checkpoint message.
//   - appender.go: Appender, the group-commit writer (both dialects).
//   - store.go: SQL for the repository's two dialects (insert, head, partitions).
//   - verify.go: Verify and Report, streaming the chain in id order.
package audit
