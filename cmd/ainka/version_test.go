package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// version names the embedded eBPF object by the hash of the committed one.
func TestVersion(t *testing.T) {
	obj, err := os.ReadFile(filepath.Join(repoRoot(t), "bpf/ainka_bpfel.o"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(obj)
	out, stderr, code := ainka("version")
	if code != 0 || !strings.Contains(out, "ebpf object sha256:"+hex.EncodeToString(sum[:])) || !strings.Contains(out, "go          go1.") {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	out, _, _ = ainka("version", "--json")
	var v struct {
		BPFObject string `json:"bpf_object_sha256"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.BPFObject != hex.EncodeToString(sum[:]) {
		t.Errorf("version --json: %v: %s", err, out)
	}
	if _, stderr, code := ainka("version", "extra"); code != exitUsage || !strings.Contains(stderr, `unexpected argument "extra"`) {
		t.Errorf("version extra: exit %d, stderr %q", code, stderr)
	}
}

// ainka(1) carries every command with its own --help.
func TestManPage(t *testing.T) {
	out, stderr, code := ainka("man")
	if code != 0 || stderr != "" {
		t.Fatalf("man: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{".TH AINKA 1", ".SS run\n", ".SS replay\n", "usage: ainka run ", "-view string", ".SS version\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if _, _, code := ainka("man", "x"); code != exitUsage {
		t.Errorf("man x: exit %d, want %d", code, exitUsage)
	}
}

// A binary built without VCS information (-buildvcs=false, as make build
// may be) names the commit stamped by -ldflags -X, as `make build` does.
func TestVersionStampedCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "ainka")
	const commit = "0123456789abcdef0123456789abcdef01234567"
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags",
		"-X github.com/ainka/ainka/buildinfo.stampCommit="+commit, "-o", bin, "github.com/ainka/ainka/cmd/ainka")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "commit      "+commit+"\n") {
		t.Errorf("version of a stamped build: %v\n%s", err, out)
	}
}
