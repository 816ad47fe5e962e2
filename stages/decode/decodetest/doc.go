// Package decodetest builds raw records with the exact layout of
// bpf/ainka_record.h, for tests and benchmarks of the stages that consume
// them, before (or without) a live kernel source.
package decodetest
