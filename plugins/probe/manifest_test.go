package probe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/plugins/probe/spec"
)

const exampleDir = "../../examples/plugins/probes/signals"

func testFormat(t *testing.T) *Format {
	t.Helper()
	f, err := ReadFormat("testdata/tracefs", "signal:signal_generate")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExampleManifest(t *testing.T) {
	p, err := Open(exampleDir, spec.KindBase, "testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	k := p.Kind
	if k.Size != spec.HeaderSize+3*8 || len(k.Fields) != 3 || k.Fields[0].Name != "sig" || !k.Fields[0].Signed {
		t.Fatalf("layout %+v", k)
	}
	if k.Key != 0 || len(k.Features) != 4 {
		t.Fatalf("key %d, features %+v", k.Key, k.Features)
	}
	if p.Format.ID <= 0 {
		t.Fatalf("format id %d", p.Format.ID)
	}
}

func TestParseFormat(t *testing.T) {
	f := testFormat(t)
	sig, ok := f.Field("sig")
	if !ok || sig.Offset != 8 || sig.Size != 4 || !sig.Signed || !sig.Integer() {
		t.Fatalf("sig %+v", sig)
	}
	comm, ok := f.Field("comm")
	if !ok || comm.Integer() || comm.Size != 16 {
		t.Fatalf("comm %+v", comm)
	}
	for _, bad := range []string{"", "ID: x\n", "ID: 3\n", "ID: 3\n\tfield:int a;\toffset:x;\tsize:4;\tsigned:1;\n"} {
		if _, err := ParseFormat([]byte(bad)); err == nil {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
}

// base is a valid declarative manifest that the bad cases edit.
const base = `name = "sigs"
version = "1"
abi = 1
license = "GPL"
[tracepoint]
name = "signal:signal_generate"
fields = ["sig", "result"]
[[feature]]
name = "rate"
type = "rate"
[[feature]]
name = "p99"
type = "quantile"
field = "result"
q = 0.99
`

func TestBadManifests(t *testing.T) {
	cases := []struct {
		name, old, new string
		want           error
		says           string
	}{
		{"wrong abi", "abi = 1", "abi = 2", ErrABI, "abi 2"},
		{"no abi", "abi = 1\n", "", ErrABI, "abi 0"},
		{"non-GPL", `license = "GPL"`, `license = "MIT"`, ErrLicense, `"MIT"`},
		{"malformed", `version = "1"`, `version = "1`, ErrManifest, "line 2"},
		{"unknown key", `version = "1"`, "version = \"1\"\nverison = 2", ErrManifest, "verison"},
		{"bad name", `name = "sigs"`, `name = "Sigs!"`, ErrManifest, "Sigs!"},
		{"no version", `version = "1"`, ``, ErrManifest, "version"},
		{"no form", "[tracepoint]\nname = \"signal:signal_generate\"\nfields = [\"sig\", \"result\"]\n", "", ErrManifest, "exactly one"},
		{"bad tracepoint", `name = "signal:signal_generate"`, `name = "../../etc:passwd"`, ErrManifest, "group:event"},
		{"too many fields", `fields = ["sig", "result"]`, `fields = ["a","b","c","d","e","f","g","h","i"]`, ErrManifest, "at most 8"},
		{"field twice", `fields = ["sig", "result"]`, `fields = ["sig", "sig"]`, ErrManifest, "twice"},
		{"unknown field", `fields = ["sig", "result"]`, `fields = ["sig", "nosuch"]`, ErrNoField, `"nosuch"`},
		{"string field", `fields = ["sig", "result"]`, `fields = ["sig", "comm"]`, ErrNoField, "char comm[16]"},
		{"bad feature type", `type = "rate"`, `type = "ratio"`, ErrManifest, `"ratio"`},
		{"feature on no field", `field = "result"`, `field = "errno"`, ErrManifest, `"errno"`},
		{"bad quantile", "q = 0.99", "q = 1.5", ErrManifest, "q = 1.5"},
		{"no features", base[strings.Index(base, "[[feature]]"):], "", ErrManifest, "no [[feature]]"},
	}
	format := testFormat(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := strings.Replace(base, c.old, c.new, 1)
			if text == base {
				t.Fatalf("case does not change the manifest")
			}
			_, err := FromText([]byte(text), spec.KindBase, format)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want %v saying %q", err, c.want, c.says)
			}
		})
	}
	if _, err := FromText([]byte(base), spec.KindBase, format); err != nil {
		t.Fatalf("base manifest: %v", err)
	}
}

func TestUnknownTracepoint(t *testing.T) {
	dir := t.TempDir()
	text := strings.Replace(base, "signal:signal_generate", "signal:no_such_event", 1)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, spec.KindBase, "testdata/tracefs")
	if !errors.Is(err, ErrNoTracept) || !strings.Contains(err.Error(), "signal:no_such_event") {
		t.Fatalf("got %v", err)
	}
	if _, err := Open(t.TempDir(), spec.KindBase, "testdata/tracefs"); err == nil || !strings.Contains(err.Error(), ManifestFile) {
		t.Fatalf("missing manifest: %v", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(base))
	if b, err := os.ReadFile(filepath.Join(exampleDir, ManifestFile)); err == nil {
		f.Add(b)
	}
	format := &Format{ID: 1, Fields: []FormatField{{Decl: "int sig", Name: "sig", Offset: 8, Size: 4, Signed: true},
		{Decl: "int result", Name: "result", Offset: 12, Size: 4, Signed: true}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			if !errors.Is(err, ErrManifest) && !errors.Is(err, ErrABI) && !errors.Is(err, ErrLicense) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		k, err := m.Kind(spec.KindBase, format)
		if err != nil {
			return
		}
		if _, err := spec.NewSet([]spec.Kind{k}); err != nil {
			t.Fatalf("Kind accepted what NewSet refuses: %v", err)
		}
	})
}
