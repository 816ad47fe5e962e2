package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The bash completion, run by bash: command words, policy's subcommands,
// a command's flags.
func TestBashCompletion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "c.bash")
	if err := os.WriteFile(script, []byte(bashCompletion()), 0o644); err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]string{
		"ainka-cli st":              "status",
		"ainka-cli ex":              "explain",
		"ainka-cli policy a":        "add",
		"ainka-cli policy add --co": "--condition --cooldown",
		"ainka-cli --json top --":   "--interval --once",
		"ainka-cli emergency-mode ": "on off",
		"ainka-cli metrics --r":     "--raw",
	} {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		q := make([]string, len(words))
		for i, w := range words {
			q[i] = "'" + w + "'"
		}
		prog := "source " + script + "; COMP_WORDS=(" + strings.Join(q, " ") + "); COMP_CWORD=" +
			strings.TrimSpace(string(rune('0'+len(words)-1))) + "; _ainka_cli; echo \"${COMPREPLY[*]}\""
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", line, strings.TrimSpace(string(out)), err, want)
		}
	}
}

func TestManPage(t *testing.T) {
	m := manPage()
	for _, want := range []string{".TH AINKA-CLI 1", ".B policy add NAME \\-\\-condition EXPR", "explain KNOB", ".SH EXIT STATUS"} {
		if !strings.Contains(m, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if _, err := exec.LookPath("man"); err == nil {
		p := filepath.Join(t.TempDir(), "ainka-cli.1")
		os.WriteFile(p, []byte(m), 0o644)
		out, err := exec.Command("man", "-l", p).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "drive a running AINKA daemon") {
			t.Errorf("man -l: %v\n%s", err, out)
		}
	}
	if z := zshCompletion(); !strings.HasPrefix(z, "#compdef ainka-cli\n") || !strings.Contains(z, "add) compadd -- --action --condition") {
		t.Errorf("zsh completion:\n%s", z)
	}
}
