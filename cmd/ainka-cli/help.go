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

// commandHelp is one command's help: its entry of usageText (synopsis,
// flag form, what it does) and its flags, from the same definitions the
// parser uses.
func commandHelp(name string) string {
	var b strings.Builder
	lines := strings.Split(usageText, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "  "+name+" ") && lines[i] != "  "+name {
			continue
		}
		// The entry: the synopsis, maybe continued, the design's flag form
		// in the right column, and the description, indented deeper.
		synopsis, form, _ := strings.Cut(strings.TrimSpace(lines[i]), "   ")
		var desc []string
		for i++; i < len(lines) && strings.HasPrefix(lines[i], "   "); i++ {
			l := strings.TrimSpace(lines[i])
			switch {
			case strings.HasPrefix(l, "--"):
				form = l
			case strings.HasPrefix(l, "["):
				synopsis += " " + l
			default:
				desc = append(desc, l)
			}
		}
		fmt.Fprintf(&b, "usage: ainka-cli [--socket PATH] [--json] %s\n", synopsis)
		if form = strings.TrimSpace(form); form != "" {
			fmt.Fprintf(&b, "   or: ainka-cli %s\n", form)
		}
		if len(desc) > 0 {
			fmt.Fprintf(&b, "\n%s\n", strings.Join(desc, "\n"))
		}
		break
	}
	sp := specs[name]
	if len(sp.flags) > 0 {
		b.WriteString("\nflags:\n")
		flags := make([]string, 0, len(sp.flags))
		for f := range sp.flags {
			flags = append(flags, f)
		}
		sort.Strings(flags)
		for _, f := range flags {
			arg := ""
			if sp.flags[f] {
				arg = " VALUE"
			}
			fmt.Fprintf(&b, "  --%s%s\n", f, arg)
		}
	}
	b.WriteString("\nglobal flags: --socket PATH, --json, -h/--help (ainka-cli --help lists every command)\n")
	return b.String()
}
