// Package trace reads and writes AINKA trace files: the raw event records
// exactly as the kernel emitted them (plus the host_sample and
// kernel_decision records produced in user space), so that a replay goes
// through the real decode stage and is deterministic bit for bit.
//
// # Format (version 1)
//
// All integers are little-endian.
//
//	file     = preamble header-frame { records-frame | stats-frame } end-frame
//	preamble = magic "AINKATRC" (8 bytes) | format version u32 | reserved u32 (0)
//	frame    = crc u32 | length u32 | type u8 | reserved 3 bytes (0) | payload[length]
//
// crc is the CRC-32C (Castagnoli) of the rest of the frame (length, type,
// reserved and payload), so a damaged length is detected as well as damaged
// contents. Every frame is checked on its own: the reader delivers every
// record of the frames before the first damaged or missing byte and then
// stops with one error that names the byte offset of the bad frame.
//
// Frame types:
//
//	1 header   JSON object (see Header); always the first frame
//	2 records  a block of raw ring-buffer records (structs of
//	           bpf/ainka_record.h, byte for byte), each as length u16 | bytes
//	3 stats    snapshot of the kernel's per-kind counters (see Stats)
//	4 end      records u64 | frames u64; always the last frame
//
// Records are grouped in blocks of at most BlockSize bytes because the
// fixed cost of a CRC call is several times that of checksumming a 64-byte
// record: one CRC per block is what lets a replay read tens of millions of
// records a second. The price is the granularity of damage: a bad byte
// loses the rest of its block (at most BlockSize bytes), never an earlier
// one. The writer closes a block early at every Flush and stats snapshot,
// so a recording that flushes loses nothing it flushed.
//
// A file that ends without an end frame was cut short (a crash, a full
// disk, a partial copy) and reads as truncated after its last good frame.
package trace
