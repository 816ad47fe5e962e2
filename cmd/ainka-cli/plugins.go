package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ainka/ainka/control"
)

// bindPlugins is `plugins`: the daemon's plugins, loaded, disabled and why,
// refused and why, with their calls, outputs and CPU time.
func (inv *invocation) bindPlugins() {
	inv.run = query(func(ctx context.Context, c *control.Client) ([]control.Plugin, error) { return c.Plugins(ctx) },
		func(out *output, ps []control.Plugin) error { return out.plugins(ps) })
}

func (o *output) plugins(ps []control.Plugin) error {
	if len(ps) == 0 {
		fmt.Fprintln(o.w, "no plugins (plugin_dirs holds no *.wasm)")
		return nil
	}
	tw := o.table()
	fmt.Fprintln(tw, "NAME\tVERSION\tKIND\tSTATE\tCALLS\tOUTPUTS\tCPU\tPATH\tREASON")
	for _, p := range ps {
		cpu := time.Duration(p.CPUSec * 1e9).Round(time.Microsecond)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", orDash(p.Name), orDash(p.Version), orDash(p.Kind), p.State,
			p.Calls, p.Outputs, cpu, p.Path, p.Reason)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
