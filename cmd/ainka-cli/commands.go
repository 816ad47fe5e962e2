package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ainka/ainka/control"
)

// bind validates the parsed flags and chooses the command's function.
func (inv *invocation) bind() error {
	switch inv.name {
	case "status":
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				st, err := c.Status(ctx)
				if err != nil {
					return err
				}
				return out.status(st)
			})
		}
	case "metrics":
		raw := inv.flags["raw"] == "true"
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				text, err := c.Metrics(ctx)
				if err != nil {
					return err
				}
				return out.metrics(text, raw)
			})
		}
	case "logs":
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
	case "policy add":
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
	case "policy list":
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				ps, err := c.Policies(ctx)
				if err != nil {
					return err
				}
				return out.policies(ps)
			})
		}
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
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				r, err := c.Optimize(ctx)
				if err != nil {
					return err
				}
				return out.optimize(r)
			})
		}
	case "emergency-mode":
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
	case "reset":
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				r, err := c.Reset(ctx)
				if err != nil {
					return err
				}
				return out.reset(r)
			})
		}
	case "rollback":
		printOnly := inv.flags["print"] == "true"
		inv.run = func(ctx context.Context, c *control.Client, out *output) error {
			return withTimeout(ctx, func(ctx context.Context) error {
				r, err := c.Rollback(ctx, printOnly)
				if err != nil {
					return err
				}
				return out.rollback(r, printOnly)
			})
		}
	case "top":
		return inv.bindTop()
	case "version":
		return inv.bindVersion()
	case "explain":
		return inv.bindExplain()
	case "help":
	default:
		return fmt.Errorf("command %q has no implementation", inv.name)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
