package control

import (
	"context"
	"errors"
	"io"
	"time"
)

// Daemon is what the control server needs from the running daemon. Every
// method must return quickly (read snapshots, never wait on the pipeline);
// ctx carries the request's deadline. Errors wrapping ErrNotFound,
// ErrInvalid or ErrConflict reach the client as 404, 400 and 409; any other
// error is a 500. All errors reach the operator as text, so say what failed.
type Daemon interface {
	// Status reports the daemon's state with cumulative counters; the
	// server fills in UptimeSec and the per-second rates.
	Status(ctx context.Context) (Status, error)
	// Metrics writes the Prometheus text exposition.
	Metrics(ctx context.Context, w io.Writer) error
	// AddPolicy adds a run-time policy (decide: AddPolicy).
	AddPolicy(ctx context.Context, p PolicySpec) error
	// ListPolicies lists file and run-time policies (decide: Policies).
	ListPolicies(ctx context.Context) ([]Policy, error)
	// RemovePolicy removes a policy by name; ErrNotFound when absent.
	RemovePolicy(ctx context.Context, name string) error
	// Optimize runs one evaluation cycle now and reports it.
	Optimize(ctx context.Context) (OptimizeResult, error)
	// SetEmergency forces emergency mode on or off.
	SetEmergency(ctx context.Context, on bool) error
	// Reset clears learned state and reverts the actuations.
	Reset(ctx context.Context) (ResetResult, error)
	// Rollback restores every knob AINKA changed; with printOnly it
	// changes nothing and returns the shell commands that would.
	Rollback(ctx context.Context, printOnly bool) (RollbackResult, error)
}

// Errors a Daemon wraps to choose the HTTP status; the client maps the
// status back, so errors.Is works on both sides.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid request")
	ErrConflict = errors.New("conflict")
)

// Status is the answer to `ainka-cli status`.
type Status struct {
	// State is the engine's state: learning, optimizing,
	// anomaly_detection, predictive_scaling or emergency.
	State string `json:"state"`
	// Mode is "live" or "replay".
	Mode      string    `json:"mode"`
	Version   string    `json:"version,omitempty"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
	// UptimeSec is filled by the server from StartedAt.
	UptimeSec    float64       `json:"uptime_s"`
	DryRun       bool          `json:"dry_run"`
	Emergency    bool          `json:"emergency"`
	KernelModule ModuleStatus  `json:"kernel_module"`
	Policies     int           `json:"policies"`
	Stages       []StageStatus `json:"stages"`
	// Ring is the eBPF ring buffer accounting per event kind (stats_map).
	Ring []KindStats `json:"ring_buffer"`
	// Learning is how far learning has got.
	Learning Learning `json:"learning"`
	// Knobs are the knobs AINKA holds changed (restored at exit).
	Knobs []KnobChange `json:"knobs"`
}

// Learning is how far the models have got: windows scored, and how many
// per-feature anomaly detectors are past their warm-up (a detector scores
// 0 until then).
type Learning struct {
	Windows       uint64 `json:"windows"`
	DetectorsWarm int    `json:"detectors_warm"`
	Detectors     int    `json:"detectors"`
	// StateSinceSec is how long (event time) the engine has been in its
	// state; 0 while in the state it started in.
	StateSinceSec float64 `json:"state_since_s"`
}

// KnobChange is a knob AINKA changed and holds: original → current, by
// which policy, why, since when (wall clock).
type KnobChange struct {
	Knob     string `json:"knob"`
	Target   string `json:"target,omitempty"`
	Original string `json:"original"`
	Current  string `json:"current"`
	Policy   string `json:"policy"`
	Why      string `json:"why,omitempty"`
	Since    string `json:"since"`
}

// ModuleStatus is the kernel module's state.
type ModuleStatus struct {
	Loaded bool   `json:"loaded"`
	State  string `json:"state,omitempty"` // the module's own state when loaded
}

// StageStatus is one pipeline stage. The daemon fills the cumulative
// counters; the server fills the rates.
type StageStatus struct {
	Name       string  `json:"name"`
	In         uint64  `json:"in"`
	Out        uint64  `json:"out"`
	Dropped    uint64  `json:"dropped"`
	QueueLen   int     `json:"queue_len"`
	QueueCap   int     `json:"queue_cap"`
	InPerSec   float64 `json:"in_per_s"`
	OutPerSec  float64 `json:"out_per_s"`
	DropPerSec float64 `json:"dropped_per_s"`
}

// KindStats is the kernel-side accounting of one event kind.
type KindStats struct {
	Kind    string `json:"kind"`
	Seen    uint64 `json:"seen"`
	Emitted uint64 `json:"emitted"`
	Lost    uint64 `json:"lost"` // the ring buffer was full
}

// PolicySpec is a policy added at run time (`policy add`).
type PolicySpec struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Action    string `json:"action"`
	Priority  int    `json:"priority"`
	// Cooldown is a Go duration ("30s"); "" keeps the engine's default.
	Cooldown string `json:"cooldown,omitempty"`
	// Objective is the feature the action should improve; "" lets the
	// engine infer it from the action.
	Objective string `json:"objective,omitempty"`
}

// Policy is a policy as the engine holds it (`policy list`).
type Policy struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Action    string `json:"action"`
	Priority  int    `json:"priority"`
	Enabled   bool   `json:"enabled"`
	// Source is "file" or "api".
	Source string `json:"source,omitempty"`
	// State is active, paused or cooldown; Reason says why it is paused.
	State         string    `json:"state,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Effectiveness float64   `json:"effectiveness"`
	Fired         uint64    `json:"fired"`
	LastFired     time.Time `json:"last_fired,omitzero"`
}

// Decision is one policy evaluated by Optimize.
type Decision struct {
	Policy  string `json:"policy"`
	Matched bool   `json:"matched"`
	// Reason is the condition with its values ("cpu_busy_pct 97.2 > 90").
	Reason string `json:"reason,omitempty"`
	Action string `json:"action,omitempty"`
	// Changes are what the action did (or would do in dry-run), one per
	// knob: an action on a group of cgroups or processes changes several.
	Changes []Change `json:"changes,omitempty"`
	// Applied is false in dry-run, during a cooldown, or on error.
	Applied bool   `json:"applied"`
	Error   string `json:"error,omitempty"`
}

// OptimizeResult is the outcome of one immediate evaluation cycle.
type OptimizeResult struct {
	State     string     `json:"state"`
	DryRun    bool       `json:"dry_run"`
	Decisions []Decision `json:"decisions"`
	// Policies is every policy, matched or not, with why: the values that
	// made its condition true, or which term was false or unknown, or
	// what else held it back (paused, cooldown, state).
	Policies []PolicyCheck `json:"policies,omitempty"`
}

// PolicyCheck is one policy's part in an Optimize evaluation.
type PolicyCheck struct {
	Policy  string `json:"policy"`
	Matched bool   `json:"matched"`
	Why     string `json:"why"`
}

// Change is one knob's value change.
type Change struct {
	Knob string `json:"knob"` // "sysctl:vm.swappiness", "cgroup:/x/cpu.weight"
	From string `json:"from"`
	To   string `json:"to"`
}

// ResetResult is what `reset` cleared and reverted.
type ResetResult struct {
	Cleared  []string `json:"cleared"`  // learned state that was dropped
	Reverted []Change `json:"reverted"` // knobs put back
}

// RollbackResult is what `rollback` restored, or with print, the commands
// that would restore it.
type RollbackResult struct {
	Restored []Change `json:"restored"`
	Commands []string `json:"commands,omitzero"` // present (maybe empty) with --print
}

// EmergencyRequest is the body of POST /v1/emergency.
type EmergencyRequest struct {
	On bool `json:"on"`
}
