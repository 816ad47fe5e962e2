// Package config loads, validates and prints AINKA's configuration file,
// /etc/ainka/config.toml.
//
// The daemon must run with no file at all, so Default returns a complete,
// valid configuration and Load("") or Load of a missing default file returns
// it unchanged. A file only overrides the keys it names. Because a key that is
// silently ignored is a misconfiguration the operator never learns about,
// unknown keys, wrong types and out-of-range values are all errors, and each
// error names the key and the line of the file (see Error).
//
// Keys that act on the whole process (max_memory_mb, thread_pool_size) are
// applied by Config.Apply; the others are typed values read by the packages
// that own the behaviour (the control server, the eBPF source, the stages).
package config
