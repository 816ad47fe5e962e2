// Package journal is the crash-safe record of every change AINKA makes to
// the host: before a knob is written, a record with its original value is
// appended and fsynced, so that after a crash (kill -9, power loss) the
// next start knows what to put back.
//
// The file is JSON lines. A "set" record carries the knob, how to reach
// it, the original value (from the first set of that knob) and the value
// about to be written; "applied" records the value the kernel reports
// after the write; "restored" and "yielded" close a knob. When no knob is
// open the file is truncated, so it stays small. A torn last line (a crash
// in the middle of an append) is ignored: its change had not been made.
package journal
