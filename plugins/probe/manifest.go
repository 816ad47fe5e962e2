package probe

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// ABIVersion is the probe plugin ABI this AINKA implements: the manifest's
// schema and the record header (bpf/ainka_record.h) a plugin writes.
const ABIVersion = 1

// ManifestFile is the name of a probe plugin's manifest in its directory.
const ManifestFile = "plugin.toml"

// Sentinel errors: every refusal wraps one of them.
var (
	ErrManifest  = errors.New("bad probe manifest")
	ErrABI       = errors.New("unsupported probe plugin ABI")
	ErrLicense   = errors.New("licence not GPL-compatible")
	ErrObject    = errors.New("probe object does not match its manifest")
	ErrNoTracept = errors.New("no such tracepoint")
	ErrNoField   = errors.New("no such tracepoint field")
)

// Manifest is a probe plugin's plugin.toml. Exactly one of Tracepoint
// (the declarative form, served by AINKA's generic program) and Object (a
// CO-RE eBPF object of the plugin's own) is set.
type Manifest struct {
	Name        string      `toml:"name"`
	Version     string      `toml:"version"`
	ABI         int         `toml:"abi"`
	License     string      `toml:"license"`
	Description string      `toml:"description"`
	Tracepoint  *Tracepoint `toml:"tracepoint"`
	Object      *Object     `toml:"object"`
	Record      *Record     `toml:"record"`
	Features    []Feature   `toml:"feature"`
}

// Tracepoint is the declarative form: AINKA's generic program on one
// tracepoint copies the named integer fields (read from tracefs' format
// of the event) into a record of one u64 per field, in this order.
type Tracepoint struct {
	Name   string   `toml:"name"` // "group:event"
	Fields []string `toml:"fields"`
}

// Object is the CO-RE form: the plugin's own eBPF object.
type Object struct {
	File     string    `toml:"file"`  // relative to the plugin's directory
	Ring     string    `toml:"ring"`  // its BPF_MAP_TYPE_RINGBUF
	Stats    string    `toml:"stats"` // optional per-CPU array of struct ainka_probe_stats
	Maps     []string  `toml:"maps"`  // every map of the object, ring and stats included
	Programs []Program `toml:"program"`
}

// Program is one program of an Object and where it attaches.
type Program struct {
	Name   string `toml:"name"`
	Attach string `toml:"attach"` // tp_btf, tracepoint or raw_tracepoint
	Target string `toml:"target"` // the tracepoint: "sched_process_exit" (tp_btf, raw_tracepoint) or "group:event"
}

// Record is an Object's record layout: its C struct (checked against the
// object's BTF) and the fields AINKA reads.
type Record struct {
	Struct string  `toml:"struct"`
	Size   int     `toml:"size"`
	Key    string  `toml:"key"` // the field counted per value; "" none
	Fields []Field `toml:"field"`
}

// Field is one integer field of a Record.
type Field struct {
	Name   string `toml:"name"`
	Offset int    `toml:"offset"`
	Type   string `toml:"type"` // u8 u16 u32 u64 s8 s16 s32 s64
}

// Feature is one feature to derive per window.
type Feature struct {
	Name  string  `toml:"name"`
	Type  string  `toml:"type"`  // count rate sum_rate mean quantile distinct top_share
	Field string  `toml:"field"` // sum_rate, mean, quantile; the key for distinct and top_share
	Q     float64 `toml:"q"`     // quantile
	Scale float64 `toml:"scale"` // multiplies the value (units); 0 = 1
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ParseManifest reads and checks a manifest. Unknown keys are refused, so
// that a typo never silently means a default.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown key %s", ErrManifest, strings.Join(keys, ", "))
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Manifest) check() error {
	if !nameRE.MatchString(m.Name) {
		return fmt.Errorf("%w: name %q: want 1-32 of a-z, 0-9, _ starting with a letter", ErrManifest, m.Name)
	}
	if m.Version == "" {
		return fmt.Errorf("%w: %s: version missing", ErrManifest, m.Name)
	}
	if m.ABI != ABIVersion {
		return fmt.Errorf("%w: %s declares abi %d, this AINKA implements %d", ErrABI, m.Name, m.ABI, ABIVersion)
	}
	if !GPLCompatible(m.License) {
		return fmt.Errorf("%w: %s: license %q: want one the kernel calls GPL-compatible (GPL, GPL v2, Dual BSD/GPL, ...): only those may call the helpers a record needs", ErrLicense, m.Name, m.License)
	}
	switch {
	case (m.Tracepoint == nil) == (m.Object == nil):
		return fmt.Errorf("%w: %s: want exactly one of [tracepoint] and [object]", ErrManifest, m.Name)
	case m.Tracepoint != nil:
		if m.Record != nil {
			return fmt.Errorf("%w: %s: [record] is for [object]; a [tracepoint]'s record is its fields", ErrManifest, m.Name)
		}
		if err := m.Tracepoint.check(m.Name); err != nil {
			return err
		}
	default:
		if err := m.Object.check(m.Name); err != nil {
			return err
		}
		if m.Record == nil {
			return fmt.Errorf("%w: %s: [object] needs its [record] layout", ErrManifest, m.Name)
		}
	}
	if len(m.Features) == 0 {
		return fmt.Errorf("%w: %s: no [[feature]]", ErrManifest, m.Name)
	}
	// The layout and features are checked with their offsets: Kind.
	return nil
}

func (t *Tracepoint) check(name string) error {
	if _, _, ok := splitTracepoint(t.Name); !ok {
		return fmt.Errorf("%w: %s: tracepoint %q: want group:event", ErrManifest, name, t.Name)
	}
	if len(t.Fields) > MaxTracepointFields {
		return fmt.Errorf("%w: %s: %d fields, the generic program copies at most %d", ErrManifest, name, len(t.Fields), MaxTracepointFields)
	}
	if err := uniqueNames(name, "field", t.Fields); err != nil {
		return err
	}
	return nil
}

func (o *Object) check(name string) error {
	if o.File == "" || strings.Contains(o.File, "/") || strings.HasPrefix(o.File, ".") {
		return fmt.Errorf("%w: %s: object file %q: want a file name in the plugin's directory", ErrManifest, name, o.File)
	}
	if o.Ring == "" {
		return fmt.Errorf("%w: %s: object names no ring map", ErrManifest, name)
	}
	if !contains(o.Maps, o.Ring) || (o.Stats != "" && !contains(o.Maps, o.Stats)) {
		return fmt.Errorf("%w: %s: maps %v must list the ring %q and stats %q maps", ErrManifest, name, o.Maps, o.Ring, o.Stats)
	}
	if len(o.Programs) == 0 {
		return fmt.Errorf("%w: %s: object declares no [[object.program]]", ErrManifest, name)
	}
	for _, p := range o.Programs {
		if p.Name == "" || p.Target == "" {
			return fmt.Errorf("%w: %s: program %q: name and target are required", ErrManifest, name, p.Name)
		}
		switch p.Attach {
		case "tp_btf", "raw_tracepoint":
		case "tracepoint":
			if _, _, ok := splitTracepoint(p.Target); !ok {
				return fmt.Errorf("%w: %s: program %s: tracepoint %q: want group:event", ErrManifest, name, p.Name, p.Target)
			}
		default:
			return fmt.Errorf("%w: %s: program %s: attach %q: want tp_btf, tracepoint or raw_tracepoint", ErrManifest, name, p.Name, p.Attach)
		}
	}
	return uniqueNames(name, "map", o.Maps)
}

func uniqueNames(plugin, what string, names []string) error {
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return fmt.Errorf("%w: %s: empty %s name", ErrManifest, plugin, what)
		}
		if seen[n] {
			return fmt.Errorf("%w: %s: %s %s listed twice", ErrManifest, plugin, what, n)
		}
		seen[n] = true
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// splitTracepoint splits "group:event".
func splitTracepoint(s string) (group, event string, ok bool) {
	group, event, ok = strings.Cut(s, ":")
	valid := func(x string) bool {
		return x != "" && !strings.ContainsAny(x, "/.: \t\n") && !strings.Contains(x, "..")
	}
	return group, event, ok && valid(group) && valid(event)
}

// GPLCompatible reports whether the kernel treats licence s as
// GPL-compatible (include/linux/license.h).
func GPLCompatible(s string) bool {
	switch s {
	case "GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL":
		return true
	}
	return false
}
