package main

import (
	"fmt"
	"sort"
	"strings"
)

// commandName resolves the command named by the first words of rest
// ("policy add", "status", "--status"), "" when none is.
func commandName(rest []string) string {
	if len(rest) == 0 {
		return ""
	}
	if w, ok := flagForms[strings.SplitN(rest[0], "=", 2)[0]]; ok {
		return strings.Join(w, " ")
	}
	if rest[0] == "policy" && len(rest) > 1 {
		return "policy " + rest[1]
	}
	if _, ok := specs[rest[0]]; ok {
		return rest[0]
	}
	return ""
}

// entry is one command's part of usageText.
type entry struct {
	synopsis, form string
	desc           []string
}

// usageEntry finds name's entry in usageText: the synopsis, maybe
// continued, the design's flag form in the right column, and the
// description, indented deeper.
func usageEntry(name string) (e entry) {
	lines := strings.Split(usageText, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "  "+name+" ") && lines[i] != "  "+name {
			continue
		}
		e.synopsis, e.form, _ = strings.Cut(strings.TrimSpace(lines[i]), "   ")
		e.form = strings.TrimSpace(e.form)
		for i++; i < len(lines) && strings.HasPrefix(lines[i], "   "); i++ {
			l := strings.TrimSpace(lines[i])
			switch {
			case strings.HasPrefix(l, "--"):
				e.form = l
			case strings.HasPrefix(l, "["):
				e.synopsis += " " + l
			default:
				e.desc = append(e.desc, l)
			}
		}
		break
	}
	return e
}

// flagNames are a command's flags, sorted, as typed ("--raw").
func flagNames(name string) []string {
	var out []string
	for f := range specs[name].flags {
		out = append(out, "--"+f)
	}
	sort.Strings(out)
	return out
}

// commandHelp is one command's help: its entry of usageText (synopsis,
// flag form, what it does) and its flags, from the same definitions the
// parser uses.
func commandHelp(name string) string {
	var b strings.Builder
	e := usageEntry(name)
	fmt.Fprintf(&b, "usage: ainka-cli [--socket PATH] [--json] %s\n", e.synopsis)
	if e.form != "" {
		fmt.Fprintf(&b, "   or: ainka-cli %s\n", e.form)
	}
	if len(e.desc) > 0 {
		fmt.Fprintf(&b, "\n%s\n", strings.Join(e.desc, "\n"))
	}
	sp := specs[name]
	if len(sp.flags) > 0 {
		b.WriteString("\nflags:\n")
		for _, f := range flagNames(name) {
			arg := ""
			if sp.flags[f[2:]] {
				arg = " VALUE"
			}
			fmt.Fprintf(&b, "  %s%s\n", f, arg)
		}
	}
	b.WriteString("\nglobal flags: --socket PATH, --json, -h/--help (ainka-cli --help lists every command)\n")
	return b.String()
}
