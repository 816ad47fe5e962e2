// Package genl is the Go client of ainka_core.ko's generic netlink family
// "ainka" (kmod/include/uapi/ainka_genl.h): status, fast-path policies
// (with dumps), the recommendation table, the state, actuations, and the
// "events" multicast group on which the module announces its decisions.
//
// Dial returns ErrNotLoaded when the family is absent: callers treat that
// as a normal, reported state (the daemon then actuates from user space).
// NewFake is an in-memory Client for unit tests of other packages.
//
// Event.AppendRecord turns an announced event into the wire record
// struct ainka_kernel_decision of bpf/ainka_record.h, so that the
// pipeline can decode kernel decisions like any other record.
//
// The tests in vm_test.go need the modules and run inside the VM of
// scripts/vm/run.sh (make test-vm); on a host without them they skip.
package genl
