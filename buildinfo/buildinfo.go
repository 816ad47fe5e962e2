package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is one binary's build.
type Info struct {
	Version   string `json:"version"` // module version, "(devel)" from a checkout
	Commit    string `json:"commit,omitempty"`
	Time      string `json:"commit_time,omitempty"`
	Modified  bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go        string `json:"go"`
	Platform  string `json:"platform"`
	BPFObject string `json:"bpf_object_sha256,omitempty"`
}

// Read returns this binary's build; bpfObject is the embedded eBPF
// object's hash, "" when there is none.
// stampCommit and stampModified are set by `make build` (-ldflags -X):
// a build without VCS information (-buildvcs=false, or a tree without
// .git) still names its commit. The toolchain's own record wins.
var stampCommit, stampModified string

func Read(bpfObject string) Info {
	i := Info{Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, BPFObject: bpfObject,
		Commit: stampCommit, Modified: stampModified == "true"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	i.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// Short is "VERSION COMMIT[+modified]", for status lines.
func (i Info) Short() string {
	s := i.Version
	if i.Commit != "" {
		s += " " + i.Commit[:min(12, len(i.Commit))]
	}
	if i.Modified {
		s += "+modified"
	}
	return s
}

// String is the `version` command's text, one fact a line.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version     %s\n", i.Version)
	commit := i.Commit
	if commit == "" {
		commit = "unknown (built without VCS information)"
	}
	if i.Modified {
		commit += " (modified tree)"
	}
	fmt.Fprintf(&b, "commit      %s\n", commit)
	if i.Time != "" {
		fmt.Fprintf(&b, "commit time %s\n", i.Time)
	}
	fmt.Fprintf(&b, "go          %s %s\n", i.Go, i.Platform)
	if i.BPFObject != "" {
		fmt.Fprintf(&b, "ebpf object sha256:%s\n", i.BPFObject)
	}
	return b.String()
}
