package bpf

import (
	"crypto/sha256"
	"encoding/hex"
)

// ObjectHash is the SHA-256 of the embedded eBPF object (hex): which
// programs this binary loads, for `ainka version` and bug reports.
func ObjectHash() string {
	sum := sha256.Sum256(_AinkaBytes)
	return hex.EncodeToString(sum[:])
}
