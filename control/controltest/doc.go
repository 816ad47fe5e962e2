// Package controltest helps test the control plane: a fake Daemon that
// records what it was asked, a helper that starts a control server on a
// socket in a temporary directory, and helpers that build the ainka-cli
// binary and run it, for the CLI's own tests and for end-to-end tests
// against the real daemon.
package controltest
