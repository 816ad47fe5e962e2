// Package testenv holds what the project's tests share about the machine
// they run on: inside the test VM a missing kernel feature is a failure,
// not a skip, and tests that load the CPUs do not overlap with tests that
// measure time.
package testenv
