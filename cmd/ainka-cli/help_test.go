package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every command has its own help, from usageText and its flags, for
// every way of asking.
func TestCommandHelp(t *testing.T) {
	for name, sp := range specs {
		if name == "help" {
			continue
		}
		h := commandHelp(name)
		if !strings.Contains(h, "usage: ainka-cli [--socket PATH] [--json] "+name) {
			t.Errorf("%s: help lacks its synopsis (is it in usageText?):\n%s", name, h)
		}
		for f := range sp.flags {
			if !strings.Contains(h, "--"+f) {
				t.Errorf("%s: help lacks --%s", name, f)
			}
		}
	}
	for _, args := range [][]string{{"policy", "add", "--help"}, {"--help", "policy", "add"}, {"--add-policy", "-h"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		if code != 0 || !strings.HasPrefix(out.String(), "usage: ainka-cli [--socket PATH] [--json] policy add NAME --condition EXPR") ||
			!strings.Contains(out.String(), "  --objective VALUE") || strings.Contains(out.String(), "rollback") {
			t.Errorf("%q: exit %d, stdout:\n%s", args, code, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "rollback [--print]") {
		t.Errorf("--help: exit %d, not the general usage:\n%s", code, out.String())
	}
}
