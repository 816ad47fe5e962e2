package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
	"github.com/ainka/ainka/trace"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

const tracesDir = "../../testdata/traces"

func traces(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(tracesDir, "*.trace"))
	if err != nil || len(paths) < 6 {
		t.Fatalf("want the 6 workload traces in %s, found %d (%v)", tracesDir, len(paths), err)
	}
	return paths
}

// ainka runs the command in process and returns stdout, stderr and the
// exit code.
func ainka(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := dispatch(args, &out, &errb)
	return out.String(), errb.String(), code
}

// Replaying a trace is deterministic: twice the same bytes, and the
// golden file's bytes; and every feature is within its possible range.
func TestGolden(t *testing.T) {
	for _, path := range traces(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".trace")
		t.Run(name, func(t *testing.T) {
			out1, stderr, code := ainka("replay", path, "--tap", "features")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.HasPrefix(stderr, "replay: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, " 0 dropped") {
				t.Fatalf("summary line %q", stderr)
			}
			out2, _, _ := ainka("replay", path, "--tap", "features")
			if out1 != out2 {
				t.Fatal("two replays of the same trace differ")
			}
			if strings.Count(out1, "\n") < 10 {
				t.Fatalf("only %d feature vectors", strings.Count(out1, "\n"))
			}
			for i, line := range strings.Split(strings.TrimSuffix(out1, "\n"), "\n") {
				for _, msg := range checkFeatureRanges(line) {
					t.Errorf("vector %d: %s", i+1, msg)
				}
			}
			if t.Failed() {
				t.FailNow() // never pin impossible values, not even with -update
			}
			golden := filepath.Join("../../testdata/golden", name+".features.jsonl")
			if *update {
				if err := os.WriteFile(golden, []byte(out1), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (regenerate with go test ./cmd/ainka -run TestGolden -update)", err)
			}
			if out1 != string(want) {
				t.Fatalf("features of %s differ from %s (if intended: -update)", path, golden)
			}
		})
	}
}

// Every stage's tap writes JSON objects; event taps carry the common
// fields; --tap STAGE=PATH writes a file.
func TestTaps(t *testing.T) {
	path := traces(t)[0]
	dir := t.TempDir()
	policy := filepath.Join(dir, "p.toml")
	os.WriteFile(policy, []byte("[[policy]]\nname = \"busy\"\ncondition = \"cpu >= 0\"\naction = \"notify\"\ncooldown = \"1s\"\n"), 0o644)
	args := []string{"replay", path, "--policy", policy}
	for _, s := range daemon.StageNames {
		args = append(args, "--tap", s+"="+filepath.Join(dir, s+".jsonl"))
	}
	if _, stderr, code := ainka(args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range daemon.StageNames {
		b, err := os.ReadFile(filepath.Join(dir, s+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if want := map[bool]int{true: 1, false: 5}[s == "decide" || s == "actuate"]; len(lines) < want || lines[0] == "" {
			t.Fatalf("%s tap: %d lines", s, len(lines))
		}
		for i, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Fatalf("%s tap line %d is not JSON: %s", s, i+1, l)
			}
		}
		if s == "source" || s == "decode" {
			for _, k := range []string{`"kind":"`, `"ts_ns":`, `"cpu":`, `"pid":`, `"comm":`} {
				if !strings.Contains(lines[0], k) {
					t.Fatalf("%s tap line lacks %s: %s", s, k, lines[0])
				}
			}
		}
	}
}

func TestRepeat(t *testing.T) {
	path := traces(t)[0]
	n := daemon.CountRecords(path)
	_, stderr, code := ainka("replay", path, "--repeat", "3")
	if code != 0 || !strings.Contains(stderr, "replay: "+utoa(3*n)+" events") {
		t.Fatalf("exit %d: %s (want %d events)", code, stderr, 3*n)
	}
}

func utoa(n uint64) string { return strconv.FormatUint(n, 10) }

func writeSynthetic(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := trace.NewWriter(&buf, trace.Header{SchemaVersion: decode.SchemaVersion})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range decodetest.Mixed(n, 2, 1e12, 1_000_000) {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Bad input: one line naming the problem, a non-zero exit, no stack trace.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeSynthetic(t, 500)
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rng := rand.New(rand.NewPCG(7, 7))
	junk := make([]byte, 10000)
	for i := range junk {
		junk[i] = byte(rng.Uint32())
	}
	future := bytes.Clone(good)
	binary.LittleEndian.PutUint32(future[8:], trace.FormatVersion+1)
	schema := func() []byte {
		var buf bytes.Buffer
		w, _ := trace.NewWriter(&buf, trace.Header{SchemaVersion: decode.SchemaVersion + 1})
		w.Close()
		return buf.Bytes()
	}()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"truncated", []string{"replay", file("t.trace", good[:len(good)*2/3])}, exitFailure, "truncated at byte "},
		{"random file", []string{"replay", file("r.trace", junk)}, exitFailure, "not an ainka trace"},
		{"empty file", []string{"replay", file("e.trace", nil)}, exitFailure, "not an ainka trace"},
		{"future format", []string{"replay", file("f.trace", future)}, exitFailure, "format version 2 is newer than the newest this ainka reads (1)"},
		{"other schema", []string{"replay", file("s.trace", schema)}, exitFailure, "event schema version 3, this ainka decodes versions 1 to 2"},
		{"missing file", []string{"replay", filepath.Join(dir, "nope.trace")}, exitFailure, "no such file"},
		{"unknown tap", []string{"replay", file("g.trace", good), "--tap", "decoder"}, exitUsage, `unknown stage "decoder"`},
		{"missing policy file", []string{"replay", file("g.trace", good), "--policy", filepath.Join(dir, "none.toml")}, exitUsage, "none.toml"},
		{"empty tap path", []string{"replay", file("g.trace", good), "--tap", "decode="}, exitUsage, "empty path"},
		{"bad metrics addr", []string{"replay", file("g.trace", good), "--metrics-addr", "localhost"}, exitUsage, `bad --metrics-addr "localhost"`},
		{"metrics addr in use", []string{"replay", file("g.trace", good), "--metrics-addr", "256.1.1.1:80"}, exitFailure, "--metrics-addr"},
		{"no file", []string{"replay"}, exitUsage, "want exactly one trace FILE"},
		{"bad repeat", []string{"replay", file("g.trace", good), "--repeat", "0"}, exitUsage, "--repeat 0"},
		{"bad speed", []string{"replay", file("g.trace", good), "--speed", "-1"}, exitUsage, "--speed -1"},
		{"trace info truncated", []string{"trace", "info", file("t.trace", good[:len(good)/2])}, exitFailure, "truncated at byte "},
		{"trace info random", []string{"trace", "info", file("r.trace", junk)}, exitFailure, "not an ainka trace"},
		{"trace no subcommand", []string{"trace"}, exitUsage, "trace info FILE"},
		{"record no output", []string{"record", "--duration", "1s"}, exitUsage, "-o FILE is required"},
		{"record bad sample", []string{"record", "-o", filepath.Join(dir, "x.trace"), "--sample", "syscall=0"}, exitUsage, "--sample syscall=0"},
		{"run unknown kind", []string{"run", "--kinds", "syscall,bogus"}, exitUsage, "bogus"},
		{"run unknown tap", []string{"run", "--tap", "nope"}, exitUsage, `unknown stage "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, stderr, code := ainka(c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q: want one line containing %q", stderr, c.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace: %s", stderr)
			}
		})
	}
}

// The truncated trace replays everything before the damage.
func TestTruncatedReplaysPrefix(t *testing.T) {
	good := writeSynthetic(t, 300)
	p := filepath.Join(t.TempDir(), "t.trace")
	os.WriteFile(p, good[:len(good)/2], 0o644)
	out, stderr, code := ainka("replay", p, "--tap", "decode")
	n := strings.Count(out, "\n")
	if code != exitFailure || n < 140 || n >= 300 || !strings.Contains(stderr, utoa(uint64(n))+" events replayed before it") {
		t.Fatalf("exit %d, %d events tapped, stderr %q", code, n, stderr)
	}
}

func TestTraceInfo(t *testing.T) {
	path := traces(t)[0]
	out, stderr, code := ainka("trace", "info", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"schema version:  1", "kernel release:", "hostname:", "kinds:", "records:", "syscall", "seen", "lost"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace info lacks %q:\n%s", want, out)
		}
	}
}

// ainka run as an unprivileged user: exit 3 and one line saying why. The
// binary is built and run as nobody, which needs root to arrange.
func TestRunNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		_, stderr, code := ainka("run", "--duration", "1s")
		if code != exitNotReady || !strings.Contains(stderr, "needs root") || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("exit %d: %q", code, stderr)
		}
		return
	}
	dir, err := os.MkdirTemp("", "ainka-notroot")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "ainka")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "--duration", "1s")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitNotReady || !strings.Contains(stderr.String(), "needs root") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("err %v, stderr %q", err, stderr.String())
	}
}

// --duration ends a paced replay early, as a normal end (exit 0).
func TestReplayDuration(t *testing.T) {
	path := traces(t)[0]
	_, stderr, code := ainka("replay", path, "--speed", "1", "--duration", "300ms")
	all := daemon.CountRecords(path)
	var n uint64
	if _, err := fmt.Sscanf(stderr, "replay: %d events", &n); err != nil || code != 0 || n == 0 || n >= all {
		t.Fatalf("exit %d, %d of %d events: %q", code, n, all, stderr)
	}
}

// With the default lateness no record of the recorded traces arrives too
// late for its window: the windowing matches how the live source orders
// records (host samples stamped at read time, ring records behind them).
func TestNoLateEvents(t *testing.T) {
	for _, path := range traces(t) {
		out, stderr, code := ainka("replay", path, "--tap", "aggregate")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", path, code, stderr)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var w struct{ Late, Events uint64 }
			if err := json.Unmarshal([]byte(l), &w); err != nil {
				t.Fatal(err)
			}
			if w.Late != 0 {
				t.Fatalf("%s: a window has %d late events of %d", path, w.Late, w.Events)
			}
		}
	}
}
