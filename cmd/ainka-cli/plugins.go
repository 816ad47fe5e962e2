package main

import (
	"context"
	"fmt"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/plugins/plugintable"
)

// bindPlugins is `plugins`: the daemon's logic plugins (loaded, disabled
// and why, refused and why, with their calls, outputs and CPU time) and
// probe plugins (with their records seen, emitted, lost and dropped).
func (inv *invocation) bindPlugins() {
	inv.run = query(func(ctx context.Context, c *control.Client) ([]control.Plugin, error) { return c.Plugins(ctx) },
		func(out *output, ps []control.Plugin) error { return out.plugins(ps) })
}

func (o *output) plugins(ps []control.Plugin) error {
	if o.json {
		return o.printJSON(ps)
	}
	if len(ps) == 0 {
		fmt.Fprintln(o.w, "no plugins (plugin_dirs holds no *.wasm and no probe plugin directory)")
		return nil
	}
	return plugintable.Write(o.w, ps, true)
}
