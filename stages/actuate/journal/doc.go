// Package journal is the crash-safe record of every change AINKA makes to
// the host: before a knob is written, a record with its original value is
// appended, so that after a crash the next start knows what to put back.
// The record that claims a knob (the first to carry its original) is
// fsynced; the later changes of a claimed knob are written and not
// fsynced, which a killed process cannot lose (see Intent for why a power
// loss needs no more). Claim journals knobs ahead of any change (a
// policy's, at load), so that even the first change needs no fsync.
//
// The file is JSON lines. A "set" record carries the knob, how to reach
// it, the original value (from the first set of that knob) and the value
// about to be written; "applied" records the value the kernel reports
// after the write; "restored" and "yielded" close a knob. A knob whose
// original AINKA put back while it keeps the claim is open and resting
// (Entry.Resting). When no knob is open the file is truncated, and past
// 1 MiB it is rewritten with the open knobs alone, so it stays small. A
// torn last line (a crash in the middle of an append) is ignored: its
// change had not been made.
package journal
