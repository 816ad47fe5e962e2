// Command ainka-cli drives a running AINKA daemon through its control API
// on a unix socket: status, metrics, logs, policies, an immediate
// optimisation cycle, emergency mode, reset and rollback.
//
// Exit codes: 0 success; 1 the daemon answered with an error (or refused
// us); 2 bad usage; 3 the daemon is not running.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ainka/ainka/control"
)

const (
	exitOK         = 0
	exitDaemon     = 1
	exitUsage      = 2
	exitNotRunning = 3
)

const usageText = `usage: ainka-cli [--socket PATH] [--json] COMMAND [ARGS]

commands (each also has the flag form shown on the right):
  status                                  --status
      state, uptime, per-stage rates and drops, ring buffer losses,
      kernel module, emergency and dry-run flags
  top [--once] [--interval D]
      what the daemon sees, thinks and changes, redrawn like top on a
      terminal (q quits); --once (or not a terminal) prints it once
  explain KNOB
      every change AINKA made to KNOB (sysctl:vm.swappiness, or
      vm.swappiness) since it started: when, outcome, old → new, policy,
      why; and the change it holds now
  plugins
      the daemon's plugins: loaded, disabled and why, refused and why;
      logic plugins' calls, outputs and CPU time, probe plugins' programs
      and records seen, emitted, lost and dropped (docs/plugins.md)
  tuners
      each tuner's mode, state, target, class with its confidence and the
      features behind it, trials, gain measured; the entities followed;
      the settings kept per workload regime
  fleet status|changes|anomalies --url URL [--window D]
      every host that pushes to the store at URL (VictoriaMetrics):
      state, losses, anomaly scores, knobs changed original → current
      by which policy or tuner, tuners' gains (docs/fleet.md)
  completion bash|zsh
      a shell completion script, generated from these definitions
  man
      the manual page ainka-cli(1), in roff
  version
      this binary's version, commit and Go toolchain, and the daemon's
  metrics [--raw]                         --metrics
      a readable summary; --raw prints the Prometheus text
  logs [-f] [--since D]                   --logs
      the daemon's recent structured log; -f follows it
  policy add NAME --condition EXPR --action ACTION [--priority N]
             [--cooldown D] [--objective FEATURE]
                                          --add-policy NAME --condition ... --action ...
  policy list                             --list-policies
  policy remove NAME                      --remove-policy NAME
  optimize                                --optimize
      run one evaluation cycle now and print what it decided and did
  emergency-mode on|off                   --emergency-mode [on|off]
  reset                                   --reset
      clear learned state and revert AINKA's changes
  rollback [--print]                      --rollback
      restore every knob AINKA changed; --print shows the commands instead

global flags:
  --socket PATH   control socket (default $AINKA_SOCKET, else /run/ainka/ainka.sock)
  --json          print the answer as JSON (logs: one JSON object per line)
  -h, --help      this help

exit codes: 0 ok, 1 the daemon answered with an error or refused access,
            2 bad usage, 3 the daemon is not running
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// globals are the flags valid before or after the command.
type globals struct {
	socket string
	json   bool
	help   bool
}

// run parses args, runs the command and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g, rest, err := parseGlobals(args)
	if err == nil && (g.help || len(rest) == 0) {
		if g.help {
			if name := commandName(rest); name != "" {
				fmt.Fprint(stdout, commandHelp(name))
			} else {
				fmt.Fprint(stdout, usageText)
			}
			return exitOK
		}
		err = usagef("no command given")
	}
	var inv *invocation
	if err == nil {
		inv, err = parseCommand(rest)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ainka-cli: %v\nRun 'ainka-cli --help' for usage.\n", err)
		return exitUsage
	}
	if inv.name == "help" {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	c := control.NewClient(g.socket)
	defer c.Close()
	err = inv.run(ctx, c, &output{w: stdout, json: g.json})
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "ainka-cli: %v\n", err)
		return exitUsage
	case errors.Is(err, control.ErrNotRunning):
		fmt.Fprintf(stderr, "%v\n", err)
		return exitNotRunning
	default:
		fmt.Fprintf(stderr, "ainka-cli %s: %v\n", inv.name, err)
		return exitDaemon
	}
}

func parseGlobals(args []string) (globals, []string, error) {
	g := globals{socket: control.SocketFromEnv()}
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			return g, rest, nil
		case a == "--json" || a == "-json":
			g.json = true
		case a == "-h" || a == "--help" || a == "-help":
			g.help = true
		case a == "--socket" || a == "-socket":
			if i+1 >= len(args) || args[i+1] == "" {
				return g, nil, usagef("--socket needs a path")
			}
			i++
			g.socket = args[i]
		case strings.HasPrefix(a, "--socket="):
			g.socket = strings.TrimPrefix(a, "--socket=")
			if g.socket == "" {
				return g, nil, usagef("--socket needs a path")
			}
		default:
			rest = append(rest, a)
		}
	}
	return g, rest, nil
}

// invocation is a parsed command.
type invocation struct {
	name  string // canonical: "status", "policy add", ...
	pos   []string
	flags map[string]string
	run   func(ctx context.Context, c *control.Client, out *output) error
}

// flagForms maps the design's flag spellings to the command words they
// stand for.
var flagForms = map[string][]string{
	"--status":         {"status"},
	"--metrics":        {"metrics"},
	"--logs":           {"logs"},
	"--add-policy":     {"policy", "add"},
	"--list-policies":  {"policy", "list"},
	"--remove-policy":  {"policy", "remove"},
	"--optimize":       {"optimize"},
	"--emergency-mode": {"emergency-mode"},
	"--reset":          {"reset"},
	"--rollback":       {"rollback"},
}

// spec is a command's flags: name → takes a value. Aliases map to the
// canonical name.
type spec struct {
	flags   map[string]bool
	aliases map[string]string
	minPos  int
	maxPos  int
	posHelp string
}

var specs = map[string]spec{
	"status":         {},
	"metrics":        {flags: map[string]bool{"raw": false}},
	"logs":           {flags: map[string]bool{"follow": false, "since": true}, aliases: map[string]string{"f": "follow"}},
	"policy add":     {flags: map[string]bool{"condition": true, "action": true, "priority": true, "cooldown": true, "objective": true}, minPos: 1, maxPos: 1, posHelp: "NAME"},
	"policy list":    {},
	"policy remove":  {minPos: 1, maxPos: 1, posHelp: "NAME"},
	"optimize":       {},
	"emergency-mode": {minPos: 1, maxPos: 1, posHelp: "on|off"},
	"reset":          {},
	"rollback":       {flags: map[string]bool{"print": false}},
	"top":            {flags: map[string]bool{"once": false, "interval": true}},
	"version":        {},
	"explain":        {minPos: 1, maxPos: 1, posHelp: "KNOB"},
	"plugins":        {},
	"tuners":         {},
	"completion":     {minPos: 1, maxPos: 1, posHelp: "bash|zsh"},
	"fleet":          {flags: map[string]bool{"url": true, "window": true}, minPos: 1, maxPos: 1, posHelp: "status, changes or anomalies"},
	"man":            {},
	"help":           {},
}

func parseCommand(rest []string) (*invocation, error) {
	words, rest, err := commandWords(rest)
	if err != nil {
		return nil, err
	}
	name := strings.Join(words, " ")
	sp, ok := specs[name]
	if !ok {
		if words[0] == "policy" {
			return nil, usagef("unknown policy subcommand %q: want add, list or remove", words[1])
		}
		return nil, usagef("unknown command %q", name)
	}
	inv := &invocation{name: name, flags: map[string]string{}}
	if err := inv.parseArgs(sp, rest); err != nil {
		return nil, err
	}
	if len(inv.pos) < sp.minPos || len(inv.pos) > sp.maxPos {
		if sp.maxPos == 0 {
			return nil, usagef("%s takes no arguments (got %q)", name, strings.Join(inv.pos, " "))
		}
		return nil, usagef("%s needs %s", name, sp.posHelp)
	}
	if err := inv.bind(); err != nil {
		return nil, err
	}
	return inv, nil
}

// commandWords finds the command (its words) in the arguments, in either
// spelling, and returns the arguments left.
func commandWords(rest []string) (words, left []string, err error) {
	switch {
	case rest[0] == "policy":
		if len(rest) < 2 {
			return nil, nil, usagef("policy needs a subcommand: add, list or remove")
		}
		words, rest = rest[:2], rest[2:]
	default:
		// The command word first, or a flag form anywhere.
		idx := -1
		for i, a := range rest {
			name, _, _ := strings.Cut(a, "=")
			if _, ok := flagForms[name]; ok {
				idx = i
				break
			}
		}
		switch {
		case idx >= 0:
			name, val, hasVal := strings.Cut(rest[idx], "=")
			words = flagForms[name]
			r := append(append([]string(nil), rest[:idx]...), rest[idx+1:]...)
			if hasVal {
				r = append([]string{val}, r...)
			}
			rest = r
			if name == "--emergency-mode" && !hasPositional(rest) {
				rest = append(rest, "on") // the design's bare flag turns it on
			}
		case strings.HasPrefix(rest[0], "-"):
			return nil, nil, usagef("unknown flag %s (or a command is missing)", rest[0])
		default:
			words, rest = rest[:1], rest[1:]
		}
	}
	return words, rest, nil
}

// parseArgs reads the command's flags and positional arguments.
func (inv *invocation) parseArgs(sp spec, rest []string) error {
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			inv.pos = append(inv.pos, rest[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			inv.pos = append(inv.pos, a)
			continue
		}
		fname, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if alias, ok := sp.aliases[fname]; ok {
			fname = alias
		}
		takes, ok := sp.flags[fname]
		if !ok {
			return usagef("%s: unknown flag %s", inv.name, a)
		}
		if takes && !hasVal {
			if i+1 >= len(rest) {
				return usagef("%s: flag --%s needs a value", inv.name, fname)
			}
			i++
			val = rest[i]
		}
		if !takes {
			if hasVal {
				return usagef("%s: flag --%s takes no value", inv.name, fname)
			}
			val = "true"
		}
		inv.flags[fname] = val
	}
	return nil
}

func hasPositional(args []string) bool {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

// requestTimeout bounds one request; the daemon answers within 100 ms, so
// this only catches a daemon that is wedged.
const requestTimeout = 10 * time.Second

func withTimeout(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	return f(ctx)
}
