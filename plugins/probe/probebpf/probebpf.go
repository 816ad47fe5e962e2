package probebpf

import "github.com/cilium/ebpf"

// The generated types, exported.
type (
	// Config is struct ainka_probe_config: the fields to copy.
	Config = genericAinkaProbeConfig
	// Stats is struct ainka_probe_stats: one CPU's counters.
	Stats = genericAinkaProbeStats
)

// Names in the generic object and in every plugin object.
const (
	Program     = "ainka_probe_tp"
	RingMap     = "events"
	StatsMap    = "stats"
	ConfigMap   = "config"
	VarABI      = "ainka_probe_abi"
	VarKind     = "ainka_probe_kind"
	VarSelfTgid = "ainka_probe_self_tgid"
	// MaxFields and RawLen are AINKA_PROBE_MAX_FIELDS and
	// AINKA_PROBE_RAW_LEN.
	MaxFields = 8
	RawLen    = 256
)

// LoadGeneric returns the generic tracepoint program's collection spec.
func LoadGeneric() (*ebpf.CollectionSpec, error) { return loadGeneric() }
