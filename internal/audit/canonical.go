package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// canonicalVersion opens every canonical form, so that a future encoding
// can never collide with this one.
const canonicalVersion = "dap-audit-v1"

// HashSize is the size of a record hash (SHA-256).
const HashSize = sha256.Size

// appendCanonical appends the canonical form of e to b and returns it.
//
// The canonical form is, in this order (all integers big-endian):
//
//	"dap-audit-v1"
//	time        int64  microseconds since the Unix epoch, UTC
//	type, user, session_id, client_addr, application, object_type,
//	object_name, action     each a string
//	old_value, new_value    each a string (compact JSON; absent = empty)
//	success     1 byte (0 or 1)
//	error       string
//	duration_ms int64
//	data_class, target, statement_kind   each a string
//	rows_returned int64
//	correlation_id, sql_text             each a string
//
// where a string is a uint32 byte length followed by its UTF-8 bytes. NULL
// and empty are the same. The record id is deliberately not included: the
// ids are bound by the chain itself (ids must be gap-free and each record
// names its predecessor's hash) and by the signed checkpoints (head id and
// count), and leaving them out lets Verify tell an inserted or reordered
// record from an edited one.
func appendCanonical(b []byte, e *Event) []byte {
	b = append(b, canonicalVersion...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.UnixMicro()))
	for _, s := range []string{e.Type, e.User, e.SessionID, e.ClientAddr, e.Application, e.ObjectType, e.ObjectName, e.Action} {
		b = appendString(b, s)
	}
	b = appendBytes(b, e.OldValue)
	b = appendBytes(b, e.NewValue)
	if e.Success {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, e.Error)
	b = binary.BigEndian.AppendUint64(b, uint64(e.DurationMs))
	b = appendString(b, e.DataClass)
	b = appendString(b, e.Target)
	b = appendString(b, e.StatementKind)
	b = binary.BigEndian.AppendUint64(b, uint64(e.RowsReturned))
	b = appendString(b, e.CorrelationID)
	b = appendString(b, e.SQLText)
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Canonical returns the canonical form of e (see appendCanonical for the
// layout). e must already be normalized, as stored events are.
func Canonical(e *Event) []byte { return appendCanonical(nil, e) }

// chainHash computes SHA-256(prev || canonical) into dst using h, reusing
// its state so that verifying millions of records does not allocate.
func chainHash(h hash.Hash, dst, prev, canonical []byte) []byte {
	h.Reset()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(dst[:0])
}

// ChainHash returns SHA-256(prev || canonical(e)).
func ChainHash(prev []byte, e *Event) []byte {
	return chainHash(sha256.New(), make([]byte, 0, HashSize), prev, Canonical(e))
}
