// Package wasm runs AINKA's logic plugins: WebAssembly modules, run by the
// pure-Go runtime wazero, that score windows (detectors) or propose knob
// steps (tuners). The ABI they implement, version 1, is in docs/plugins.md;
// plugins/guest implements it for plugins written in Go.
//
// Use:
//
//	m, err := wasm.Load(ctx, "spike.wasm", wasm.DefaultLimits())
//	n, err := m.Detect(&vector, scores) // a detector: one score per declared name
//	ps, err := m.Tune(&vector, ps[:0])  // a tuner: proposed actions, already parsed
//	st := m.Stats()                     // calls, CPU time, disabled and why
//	m.Close()
//
// A module is compiled and instantiated once, in Load, and every call after
// that reuses the instance (a Go guest's state lives across windows). Load
// refuses a module that imports anything but WASI preview 1, lacks an
// export of the ABI, declares another ABI version or describes itself
// badly (unknown feature, bad name): the error names the problem.
//
// The sandbox: no filesystem is mounted, no socket is given, no argument or
// environment is passed; the clocks and the random source WASI offers are
// wazero's deterministic fakes, so a replay runs a plugin exactly as the
// live run did, and the window's event time (passed to every call) is the
// only clock a plugin has. Memory is bounded by Limits.MemoryPages and each
// call by Limits.CallTimeout (wazero closes a module whose context is done,
// even inside a loop). A call that traps, exits, overruns its time, runs
// out of memory or returns garbage (a score outside [0,1], an action
// outside the allowlist, a pointer outside its memory) disables the module
// for good: the call returns the reason, which wraps one of the sentinel
// errors, and every later call returns ErrDisabled at once. The caller
// (package plugins) logs and counts it; the pipeline goes on.
package wasm
