package probe

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/ainka/ainka/plugins/probe/probebpf"
)

// CheckObject reads the plugin's object and checks it against the
// manifest before anything reaches the kernel: the ABI it was built for,
// a GPL-compatible licence, exactly the programs and maps declared (each
// program of the declared attach type and target), a ring buffer and a
// stats map of the right types, and the record struct's size and fields.
func (p *Plugin) CheckObject() (*ebpf.CollectionSpec, error) {
	path := filepath.Join(p.Dir, p.Manifest.Object.File)
	cs, err := ebpf.LoadCollectionSpec(path)
	if err != nil {
		return nil, fmt.Errorf("probe plugin %s: read object: %w", p.Manifest.Name, err)
	}
	if err := p.checkSpec(cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// checkSpec runs CheckObject's checks on a read object.
func (p *Plugin) checkSpec(cs *ebpf.CollectionSpec) error {
	o, name := p.Manifest.Object, p.Manifest.Name
	checks := []func(*ebpf.CollectionSpec) error{p.checkABI, p.checkPrograms, p.checkMaps, p.checkRecord}
	for _, c := range checks {
		if err := c(cs); err != nil {
			return fmt.Errorf("probe plugin %s: %s: %w", name, o.File, err)
		}
	}
	return nil
}

func (p *Plugin) checkABI(cs *ebpf.CollectionSpec) error {
	v, ok := cs.Variables[probebpf.VarABI]
	if !ok {
		return fmt.Errorf("%w: no global %s: not built against ainka_probe.h (AINKA_PROBE_GLOBALS)", ErrABI, probebpf.VarABI)
	}
	var abi uint32
	if err := v.Get(&abi); err != nil {
		return fmt.Errorf("%w: global %s: %v", ErrABI, probebpf.VarABI, err)
	}
	if abi != ABIVersion {
		return fmt.Errorf("%w: the object was built for probe ABI %d, this AINKA implements %d", ErrABI, abi, ABIVersion)
	}
	for _, n := range []string{probebpf.VarKind, probebpf.VarSelfTgid} {
		if _, ok := cs.Variables[n]; !ok {
			return fmt.Errorf("%w: no global %s (AINKA_PROBE_GLOBALS of ainka_probe.h)", ErrABI, n)
		}
	}
	return nil
}

var attachTypes = map[string]struct {
	prog   ebpf.ProgramType
	attach ebpf.AttachType
}{
	"tp_btf":         {ebpf.Tracing, ebpf.AttachTraceRawTp},
	"raw_tracepoint": {ebpf.RawTracepoint, ebpf.AttachNone},
	"tracepoint":     {ebpf.TracePoint, ebpf.AttachNone},
}

func (p *Plugin) checkPrograms(cs *ebpf.CollectionSpec) error {
	declared := map[string]Program{}
	for _, pr := range p.Manifest.Object.Programs {
		declared[pr.Name] = pr
	}
	for n, ps := range cs.Programs {
		pr, ok := declared[n]
		if !ok {
			return fmt.Errorf("%w: program %s is not declared in the manifest", ErrObject, n)
		}
		if !GPLCompatible(ps.License) {
			return fmt.Errorf("%w: object licence %q", ErrLicense, ps.License)
		}
		t := attachTypes[pr.Attach]
		if ps.Type != t.prog || (pr.Attach == "tp_btf" && (ps.AttachType != t.attach || ps.AttachTo != pr.Target)) {
			return fmt.Errorf("%w: program %s is %s %q, the manifest says %s %s", ErrObject, n, ps.Type, ps.AttachTo, pr.Attach, pr.Target)
		}
	}
	for n := range declared {
		if _, ok := cs.Programs[n]; !ok {
			return fmt.Errorf("%w: declared program %s is not in the object (it has %s)", ErrObject, n, strings.Join(slices.Sorted(maps.Keys(cs.Programs)), ", "))
		}
	}
	return nil
}

func (p *Plugin) checkMaps(cs *ebpf.CollectionSpec) error {
	o := p.Manifest.Object
	for n := range cs.Maps {
		if strings.HasPrefix(n, ".") { // .rodata, .data, .bss: the globals
			continue
		}
		if !slices.Contains(o.Maps, n) {
			return fmt.Errorf("%w: map %s is not declared in the manifest", ErrObject, n)
		}
	}
	for _, n := range o.Maps {
		if _, ok := cs.Maps[n]; !ok {
			return fmt.Errorf("%w: declared map %s is not in the object", ErrObject, n)
		}
	}
	if t := cs.Maps[o.Ring].Type; t != ebpf.RingBuf {
		return fmt.Errorf("%w: ring map %s is a %s, want a ring buffer", ErrObject, o.Ring, t)
	}
	if o.Stats != "" {
		m := cs.Maps[o.Stats]
		if m.Type != ebpf.PerCPUArray || m.ValueSize != 32 || m.MaxEntries < 1 {
			return fmt.Errorf("%w: stats map %s is a %s of %d-byte values, want a per-CPU array of struct ainka_probe_stats (32 bytes)", ErrObject, o.Stats, m.Type, m.ValueSize)
		}
	}
	return nil
}

// checkRecord compares the manifest's record with the C struct in the
// object's BTF: a manifest that lies about the size or a field's place
// would have AINKA read garbage.
func (p *Plugin) checkRecord(cs *ebpf.CollectionSpec) error {
	r := p.Manifest.Record
	if cs.Types == nil {
		return fmt.Errorf("%w: the object has no BTF", ErrObject)
	}
	var st *btf.Struct
	if err := cs.Types.TypeByName(r.Struct, &st); err != nil {
		return fmt.Errorf("%w: record struct %q: %v", ErrObject, r.Struct, err)
	}
	if int(st.Size) != r.Size {
		return fmt.Errorf("%w: record size: struct %s is %d bytes, the manifest says %d", ErrObject, r.Struct, st.Size, r.Size)
	}
	for _, f := range r.Fields {
		m := memberAt(st, f.Name)
		if m == nil {
			return fmt.Errorf("%w: struct %s has no field %s", ErrObject, r.Struct, f.Name)
		}
		size, _ := btf.Sizeof(m.Type)
		if int(m.Offset.Bytes()) != f.Offset || size != fieldTypes[f.Type].size {
			return fmt.Errorf("%w: field %s is at offset %d (%d bytes) in struct %s, the manifest says %d (%s)", ErrObject, f.Name, m.Offset.Bytes(), size, r.Struct, f.Offset, f.Type)
		}
	}
	return nil
}

func memberAt(st *btf.Struct, name string) *btf.Member {
	for i := range st.Members {
		if st.Members[i].Name == name {
			return &st.Members[i]
		}
	}
	return nil
}
