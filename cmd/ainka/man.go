package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register(command{name: "man", summary: "print the manual page ainka(1), in roff, from the commands' own help", run: runMan})
}

// runMan writes ainka(1): every command's summary and its --help (synopsis
// and flags), so the page says what the binary does.
func runMan(args []string, stdout, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintf(stderr, "ainka man: unexpected argument %q (ainka man)\n", args[0])
		return exitUsage
	}
	var b strings.Builder
	b.WriteString(".TH AINKA 1 \"\" \"AINKA\" \"User Commands\"\n.SH NAME\nainka \\- AI\\-native Linux kernel assistant: the daemon and its tools\n")
	b.WriteString(".SH SYNOPSIS\n.B ainka\nCOMMAND [flags]\n.SH COMMANDS\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, ".SS %s\n%s\n", n, manEscape(commands[n].summary))
		if n == "man" {
			continue
		}
		var help bytes.Buffer
		commands[n].run([]string{"--help"}, &help, io.Discard)
		if help.Len() > 0 {
			fmt.Fprintf(&b, ".PP\n.nf\n%s.fi\n", manEscape(help.String()))
		}
	}
	b.WriteString(".SH EXIT STATUS\n0 ok, 1 failure, 2 bad usage or configuration, 3 the host cannot run this (not root, no BTF).\n")
	b.WriteString(".SH SEE ALSO\nainka\\-cli(1)\n")
	io.WriteString(stdout, b.String())
	return exitOK
}

// manEscape escapes text for roff: backslashes, and a dot or quote that
// starts a line.
func manEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}
