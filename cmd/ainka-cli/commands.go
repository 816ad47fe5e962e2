package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/stages/tune"
)

// bind validates the parsed flags and chooses the command's function.
func (inv *invocation) bind() error {
	switch inv.name {
	case "status":
		inv.run = query(func(ctx context.Context, c *control.Client) (control.Status, error) { return c.Status(ctx) },
			func(out *output, st control.Status) error { return out.status(st) })
	case "metrics":
		raw := inv.flags["raw"] == "true"
		inv.run = query(func(ctx context.Context, c *control.Client) (string, error) { return c.Metrics(ctx) },
			func(out *output, text string) error { return out.metrics(text, raw) })
	case "logs":
		return inv.bindLogs()
	case "policy add":
		return inv.bindPolicyAdd()
	case "policy list":
		inv.run = query(func(ctx context.Context, c *control.Client) ([]control.Policy, error) { return c.Policies(ctx) },
			func(out *output, ps []control.Policy) error { return out.policies(ps) })
	case "policy remove":
		name := inv.pos[0]
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				if err := c.RemovePolicy(ctx, name); err != nil {
					return err
				}
				return out.done(map[string]string{"removed": name}, "policy %s removed", name)
			})
		}
	case "optimize":
		inv.run = query(func(ctx context.Context, c *control.Client) (control.OptimizeResult, error) { return c.Optimize(ctx) },
			func(out *output, r control.OptimizeResult) error { return out.optimize(r) })
	case "emergency-mode":
		return inv.bindEmergency()
	case "reset":
		inv.run = query(func(ctx context.Context, c *control.Client) (control.ResetResult, error) { return c.Reset(ctx) },
			func(out *output, r control.ResetResult) error { return out.reset(r) })
	case "rollback":
		printOnly := inv.flags["print"] == "true"
		inv.run = query(func(ctx context.Context, c *control.Client) (control.RollbackResult, error) {
			return c.Rollback(ctx, printOnly)
		},
			func(out *output, r control.RollbackResult) error { return out.rollback(r, printOnly) })
	case "top":
		return inv.bindTop()
	case "version":
		return inv.bindVersion()
	case "explain":
		return inv.bindExplain()
	case "plugins":
		inv.bindPlugins()
	case "tuners":
		inv.run = query(func(ctx context.Context, c *control.Client) (tune.Status, error) { return c.Tuners(ctx) },
			func(out *output, st tune.Status) error {
				if out.json {
					return out.printJSON(st)
				}
				return st.WriteText(out.w)
			})
	case "completion":
		return inv.bindCompletion()
	case "fleet":
		return inv.bindFleet()
	case "man":
		return inv.bindMan()
	case "help":
	default:
		return fmt.Errorf("command %q has no implementation", inv.name)
	}
	return nil
}

// bindLogs reads --since and --follow.
func (inv *invocation) bindLogs() error {
	var since time.Duration
	if v, ok := inv.flags["since"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return usagef("logs: --since %q is not a positive duration (e.g. 10m, 1h)", v)
		}
		since = d
	}
	follow := inv.flags["follow"] == "true"
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		err := c.Logs(ctx, since, follow, out.logEntry)
		if ctx.Err() != nil {
			return nil // interrupted while following: a normal end
		}
		return err
	}
	return nil
}

// bindPolicyAdd checks the policy given on the command line.
func (inv *invocation) bindPolicyAdd() error {
	p := control.PolicySpec{Name: inv.pos[0], Condition: inv.flags["condition"], Action: inv.flags["action"],
		Cooldown: inv.flags["cooldown"], Objective: inv.flags["objective"]}
	if p.Condition == "" || p.Action == "" {
		return usagef("policy add %s: --condition and --action are required", p.Name)
	}
	if v, ok := inv.flags["priority"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return usagef("policy add: --priority %q is not an integer", v)
		}
		p.Priority = n
	}
	if p.Cooldown != "" {
		if d, err := time.ParseDuration(p.Cooldown); err != nil || d < 0 {
			return usagef("policy add: --cooldown %q is not a duration (e.g. 30s)", p.Cooldown)
		}
	}
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		return withTimeout(ctx, func(ctx context.Context) error {
			if err := c.AddPolicy(ctx, p); err != nil {
				return err
			}
			return out.done(p, "policy %s added", p.Name)
		})
	}
	return nil
}

// bindEmergency reads on or off.
func (inv *invocation) bindEmergency() error {
	var on bool
	switch strings.ToLower(inv.pos[0]) {
	case "on", "true", "1", "yes":
		on = true
	case "off", "false", "0", "no":
	default:
		return usagef("emergency-mode: %q is not on or off", inv.pos[0])
	}
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		return withTimeout(ctx, func(ctx context.Context) error {
			if err := c.SetEmergency(ctx, on); err != nil {
				return err
			}
			return out.done(control.EmergencyRequest{On: on}, "emergency mode %s", onOff(on))
		})
	}
	return nil
}

// query is a command that asks the daemon once and prints the answer.
func query[T any](ask func(context.Context, *control.Client) (T, error), show func(*output, T) error) func(context.Context, *control.Client, *output) error {
	return func(ctx context.Context, c *control.Client, out *output) error {
		return withTimeout(ctx, func(ctx context.Context) error {
			v, err := ask(ctx, c)
			if err != nil {
				return err
			}
			return show(out, v)
		})
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
