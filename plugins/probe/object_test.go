package probe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/plugins/probe/probebpf"
	"github.com/ainka/ainka/plugins/probe/spec"
)

const objectExample = "../../examples/plugins/probes/proclife"

// objectPlugin copies the CO-RE example into a temporary directory with
// its manifest edited (old → new) and its object passed through obj.
func objectPlugin(t *testing.T, old, new string, obj func([]byte) []byte) string {
	t.Helper()
	dir := t.TempDir()
	m, err := os.ReadFile(filepath.Join(objectExample, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(m), old, new, 1)
	if old != "" && edited == string(m) {
		t.Fatalf("%q is not in the manifest", old)
	}
	o, err := os.ReadFile(filepath.Join(objectExample, "proclife_bpfel.o"))
	if err != nil {
		t.Fatal(err)
	}
	if obj != nil {
		o = obj(o)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "proclife_bpfel.o"), o, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestObjectExample(t *testing.T) {
	p, err := Open(objectExample, spec.KindBase, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.CheckObject(); err != nil {
		t.Fatal(err)
	}
	if k := p.Kind; k.Size != 56 || k.Key != 2 || len(k.Features) != 4 || k.Features[1].Hist != k.Features[2].Hist {
		t.Fatalf("kind %+v", k)
	}
}

// TestHostileObjects: an object that does not match its manifest is
// refused before it reaches the kernel, with the reason.
func TestHostileObjects(t *testing.T) {
	cases := []struct {
		name, old, new string
		obj            func([]byte) []byte
		want           error
		says           string
	}{
		{"record size lie", "size = 56", "size = 64", nil, ErrObject, "struct proclife_record is 56 bytes, the manifest says 64"},
		{"field offset lie", "offset = 48", "offset = 44", nil, ErrObject, "field exit_code is at offset 48"},
		{"field type lie", `type = "s32"`, `type = "s64"`, nil, ErrObject, "the manifest says 48 (s64)"},
		{"no such struct", `struct = "proclife_record"`, `struct = "other_record"`, nil, ErrObject, "other_record"},
		{"undeclared map", `stats = "stats"` + "\nmaps = [\"events\", \"stats\"]", "maps = [\"events\"]", nil, ErrObject, "map stats is not declared"},
		{"missing map", `maps = ["events", "stats"]`, `maps = ["events", "stats", "extra"]`, nil, ErrObject, "declared map extra is not in the object"},
		{"missing program", `name = "proclife_exit"`, `name = "proclife_fork"`, nil, ErrObject, "proclife_exit is not declared"},
		{"wrong target", `target = "sched_process_exit"`, `target = "sched_process_fork"`, nil, ErrObject, "the manifest says tp_btf sched_process_fork"},
		{"wrong attach", `attach = "tp_btf"`, `attach = "raw_tracepoint"`, nil, ErrObject, "raw_tracepoint"},
		{"non-GPL object", "", "", func(b []byte) []byte { return bytes.Replace(b, []byte("GPL\x00"), []byte("MIT\x00"), 1) }, ErrLicense, `"MIT"`},
		{"not an object", "", "", func(b []byte) []byte { return b[:100] }, nil, "read object"},
		{"object path", `file = "proclife_bpfel.o"`, `file = "../proclife_bpfel.o"`, nil, ErrManifest, "in the plugin's directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := objectPlugin(t, c.old, c.new, c.obj)
			p, err := Open(dir, spec.KindBase, "")
			if err == nil {
				_, err = p.CheckObject()
			}
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
}

func TestObjectABI(t *testing.T) {
	p, err := Open(objectExample, spec.KindBase, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := p.CheckObject()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Variables[probebpf.VarABI].Set(uint32(2)); err != nil {
		t.Fatal(err)
	}
	if err := p.checkSpec(cs); !errors.Is(err, ErrABI) || !strings.Contains(err.Error(), "built for probe ABI 2") {
		t.Fatalf("got %v", err)
	}
	delete(cs.Variables, probebpf.VarKind)
	if err := p.checkSpec(cs); !errors.Is(err, ErrABI) {
		t.Fatalf("no kind global: %v", err)
	}
}
