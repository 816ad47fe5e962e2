// Package buildinfo says which build of AINKA is running: its module
// version, VCS commit and time (and whether the tree was modified), the Go
// toolchain and platform, read from runtime/debug.ReadBuildInfo, plus the
// SHA-256 of the embedded eBPF object when the binary has one (the daemon
// passes bpf.ObjectHash; ainka-cli has none).
//
// Use:
//
//	fmt.Print(buildinfo.Read(bpf.ObjectHash()))
package buildinfo
