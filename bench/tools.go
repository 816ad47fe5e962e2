package bench

import (
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"
)

// ErrMissingTool is returned when a program a scenario or arm runs is not
// installed; the message names the Debian package that provides it.
var ErrMissingTool = errors.New("missing tool")

// debianPackage maps each program the suite runs to its Debian package.
var debianPackage = map[string]string{
	"cyclictest": "rt-tests",
	"stress-ng":  "stress-ng",
	"fio":        "fio",
	"iperf3":     "iperf3",
	"tuned":      "tuned",
	"iptables":   "iptables",
	"ip":         "iproute2",
	"tc":         "iproute2",
	"losetup":    "mount",
	"mkswap":     "util-linux",
	"swapon":     "mount",
	"swapoff":    "mount",
	"chrt":       "util-linux",
	"nice":       "coreutils",
}

// checkTools looks every tool up with look (exec.LookPath in the
// program) and names all the missing ones with their packages at once.
func checkTools(tools []string, look func(string) (string, error)) error {
	missing := map[string]bool{}
	for _, t := range tools {
		if _, err := look(t); err != nil {
			missing[t] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var names, pkgs, builds []string
	seen := map[string]bool{}
	for t := range missing {
		names = append(names, t)
		p := debianPackage[t]
		if p == "" { // the ainka binary: built from this repository
			builds = append(builds, t)
			continue
		}
		if !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
	}
	sort.Strings(names)
	sort.Strings(pkgs)
	var how []string
	if len(pkgs) > 0 {
		how = append(how, "install the Debian package(s): apt-get install "+strings.Join(pkgs, " "))
	}
	if len(builds) > 0 {
		how = append(how, "build "+strings.Join(builds, ", ")+" with `make build` (or give --ainka PATH)")
	}
	return fmt.Errorf("%w: %s not found: %s", ErrMissingTool, strings.Join(names, ", "), strings.Join(how, "; "))
}

var lookPath = exec.LookPath
