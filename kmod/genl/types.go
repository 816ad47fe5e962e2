package genl

import (
	"context"
	"errors"
	"time"
)

// ErrNotLoaded: the generic netlink family "ainka" does not exist, i.e.
// ainka_core.ko is not loaded. A normal state, not a failure.
var ErrNotLoaded = errors.New("ainka kernel module not loaded")

// ErrVersion: the loaded module speaks another protocol version.
var ErrVersion = errors.New("ainka kernel module protocol version mismatch")

// ErrClosed: the client was closed.
var ErrClosed = errors.New("ainka netlink client closed")

// ErrInvalid: a request the module would refuse for its values, caught
// before sending by the client and the fake alike (and the module's own
// EINVAL/ERANGE answers wrap it too). What only the module can know (a
// missing id, process or room) comes back as ErrNotFound, ErrNoProcess,
// ErrFull or ErrDenied, from the module and from the fake.
var ErrInvalid = errors.New("invalid ainka request")

// Client talks to ainka_core.ko. Every method is safe for concurrent use.
type Client interface {
	Status(ctx context.Context) (Status, error)
	// SetPolicy creates the policy, or replaces the one with its ID.
	SetPolicy(ctx context.Context, p Policy) error
	DelPolicy(ctx context.Context, id uint32) error
	Policy(ctx context.Context, id uint32) (Policy, error)
	// Policies dumps every policy, highest priority first.
	Policies(ctx context.Context) ([]Policy, error)
	SetRecommendation(ctx context.Context, key string, value int64) error
	DelRecommendation(ctx context.Context, key string) error
	Recommendation(ctx context.Context, key string) (int64, error)
	Recommendations(ctx context.Context) (map[string]int64, error)
	SetState(ctx context.Context, s State) error
	// Reset restores every actuation, re-arms every policy, resets the
	// anomaly detectors and returns to learning.
	Reset(ctx context.Context) error
	Actuate(ctx context.Context, a Actuation) (ActuationResult, error)
	// Subscribe delivers the "events" multicast group until ctx ends;
	// the channel is closed then, or when the socket fails. It needs
	// CAP_NET_ADMIN. A reader that falls behind loses events (the socket
	// overruns); Event.Seq is contiguous over all event types, so a gap
	// counts the loss.
	Subscribe(ctx context.Context) (<-chan Event, error)
	Close() error
}

// Status is GET_STATUS.
type Status struct {
	Version         uint32
	State           State
	SampleInterval  time.Duration
	Samples         uint64
	Decisions       uint64
	Rejected        uint64 // requests the module's own checks refused
	EventsSent      uint64
	EventsDropped   uint64
	LatencyP50      time.Duration // condition seen -> published, last 1024 decisions
	LatencyP99      time.Duration
	LatencyMax      time.Duration
	LatencyCount    uint64
	SampleCost      time.Duration // mean cost of one sample in the hrtimer
	SampleCostP50   time.Duration // median of the last 1024 samples
	Policies        uint32
	Recommendations uint32
	Actuations      uint32
	Uptime          time.Duration
}

// Policy is a fast-path rule: when Metric Cmp Threshold has held for For,
// the module enters TargetState (if set), sets the pre-armed
// recommendation RecKey=RecValue (if RecKey is set), applies Action and
// announces a decision; when the condition clears it undoes the action
// and announces a recovery.
type Policy struct {
	ID          uint32 // >= 1
	Metric      Metric
	Cmp         Cmp
	Threshold   int64
	For         time.Duration // millisecond resolution, <= 1 h
	Action      Action        // Notify, Renice or Readahead
	Priority    uint32        // higher first, <= 65535
	TargetState State         // 0: keep the state
	RecKey      string
	RecValue    int64
	ActPID      uint32 // Renice: 0 = the top CPU consumer
	ActDev      uint32 // Readahead: kernel dev_t, DevT(major, minor)
	ActValue    int64  // nice value or ra_pages

	Hits   uint64 // reply only
	Active bool   // reply only
}

// Actuation is an ACTUATE request: Renice (PID, 0 = top CPU consumer;
// Value = nice), Readahead (Dev; Value = ra_pages) or Restore (undo all).
type Actuation struct {
	Kind  Action
	PID   uint32
	Dev   uint32
	Value int64
}

// ActuationResult is the module's answer: the value before, and for
// Renice the pid it chose.
type ActuationResult struct {
	Kind  Action
	PID   uint32
	Prev  int64
	Value int64
}

// Event is one message of the "events" group.
type Event struct {
	Type      EventType
	Seq       uint64
	State     State // after the event
	PrevState State
	RuleID    uint32
	Action    Action
	Metric    Metric
	Value     int64
	Threshold int64
	TsNs      uint64        // CLOCK_MONOTONIC: condition seen (or event time)
	Latency   time.Duration // condition seen -> published, in the module
	Source    string        // EventKernel: the consumer module
	HorizonMs uint32        // EventPredictionRequest
	RecvNs    uint64        // CLOCK_MONOTONIC when this client received it
}

// DevT encodes a device number the way the kernel's dev_t does
// (major << 20 | minor), as ACT_DEV expects.
func DevT(major, minor uint32) uint32 { return major<<20 | minor&0xfffff }
