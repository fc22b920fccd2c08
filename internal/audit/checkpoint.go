package audit

import (
	"crypto/ed25519"
	"encoding/binary"
	"time"
)

const checkpointVersion = "dap-audit-checkpoint-v1"

// Checkpoint is a signed statement over the chain's head: "record_count
// records have been appended, the last has id HeadID and hash HeadHash".
type Checkpoint struct {
	ID        int64
	Count     int64
	HeadID    int64
	HeadHash  []byte
	Time      time.Time // UTC, microseconds
	KeyID     string
	Signature []byte
}

// message is the exact byte string that is signed:
//
//	"dap-audit-checkpoint-v1" count(int64) head_id(int64) head_hash(32 bytes) time(int64 µs)
//
// integers big-endian.
func (c *Checkpoint) message() []byte {
	b := make([]byte, 0, len(checkpointVersion)+8+8+len(c.HeadHash)+8)
	b = append(b, checkpointVersion...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Count))
	b = binary.BigEndian.AppendUint64(b, uint64(c.HeadID))
	b = append(b, c.HeadHash...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixMicro()))
	return b
}

func (c *Checkpoint) sign(key ed25519.PrivateKey) {
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = ed25519.Sign(key, c.message())
}

// Valid reports whether the checkpoint's signature is valid under pub.
func (c *Checkpoint) Valid(pub ed25519.PublicKey) bool {
	return len(c.Signature) == ed25519.SignatureSize && ed25519.Verify(pub, c.message(), c.Signature)
}
