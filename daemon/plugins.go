package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/pipeline"
	"github.com/ainka/ainka/plugins"
	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
	"github.com/ainka/ainka/stages/tune"
)

// openPlugins loads the logic plugins of [plugins] plugin_dirs (none
// without a configuration). A plugin that does not load is refused and
// logged; only an unreadable directory fails the build.
func (c *Chain) openPlugins(o ChainOptions) error {
	if o.Config == nil {
		return nil
	}
	set, err := plugins.Open(context.Background(), plugins.Options{Dirs: o.Config.Plugins.PluginDirs,
		Act: o.Config.Plugins.Tuners == "act", Logger: o.Logger})
	if err != nil {
		return Usagef("plugins: %v", err)
	}
	c.Plugins = set
	return nil
}

// pluginWrappers put the detector plugins after the built-in detectors
// and the tuner plugins after the built-in tuners. They are there even
// when no plugin is loaded, so that a reload can add one.
func (c *Chain) pluginWrappers() []Wrapper {
	if c.Plugins == nil {
		return nil
	}
	return []Wrapper{
		WrapStage("predict", func(p pipeline.Processor[features.Vector, predict.Output]) pipeline.Processor[features.Vector, predict.Output] {
			return c.Plugins.Predict(p)
		}),
		WrapStage("tune", func(p pipeline.Processor[predict.Output, tune.Window]) pipeline.Processor[predict.Output, tune.Window] {
			return c.Plugins.Tune(p)
		}),
	}
}

// reloadPlugins is SIGHUP's reload of the plugins: a plugin whose new file
// does not load keeps running as it was.
func (c *Controller) reloadPlugins(log *slog.Logger) {
	if c.probes != nil {
		c.probes.reload(context.Background())
	}
	if c.plugins == nil {
		return
	}
	if err := c.plugins.Reload(context.Background()); err != nil {
		log.Error("plugin reload failed; the previous plugins stay loaded", "err", err)
		return
	}
	loaded, disabled, refused := c.plugins.Counts()
	log.Info("plugins reloaded", "loaded", loaded, "disabled", disabled, "refused", refused)
}

// closePlugins unloads the plugins (after the pipeline has stopped).
func (c *Chain) closePlugins() {
	if c.Plugins != nil {
		c.Plugins.Close()
	}
}

// Plugins lists the plugins (control.PluginLister): the logic plugins
// (none without a configuration), then the probe plugins.
func (c *Controller) Plugins(ctx context.Context) ([]control.Plugin, error) {
	var out []control.Plugin
	if c.plugins != nil {
		out = c.plugins.Status()
	}
	if c.probes != nil {
		return append(out, c.probes.status()...), nil
	}
	return append(out, probeStatus(c.live, c.probeRefused)...), nil
}

// writePluginMetrics publishes each plugin's calls, outputs and CPU time
// and the numbers of logic plugins loaded, disabled and refused; a probe
// plugin's calls are its programs' runs and its CPU time theirs in the
// kernel. It is a writer rather than registered counters because plugins
// come and go with reloads.
func (c *Chain) writePluginMetrics(w io.Writer) {
	var ps []control.Plugin
	if c.Plugins != nil {
		ps = c.Plugins.Status()
		writePluginStates(w, ps, c.Plugins)
	}
	if f := c.probeStatus.Load(); f != nil {
		for _, p := range (*f)() {
			if p.State == plugins.Loaded {
				ps = append(ps, p)
			}
		}
	}
	for _, f := range []struct {
		name string
		v    func(p *control.Plugin) float64
		kind string // only plugins of this kind; "" all
	}{
		{"ainka_plugin_calls_total", func(p *control.Plugin) float64 { return float64(p.Calls) }, ""},
		{"ainka_plugin_outputs_total", func(p *control.Plugin) float64 { return float64(p.Outputs) }, "logic"},
		{"ainka_plugin_cpu_seconds_total", func(p *control.Plugin) float64 { return p.CPUSec }, ""},
	} {
		if len(ps) == 0 {
			break
		}
		fmt.Fprintf(w, "# HELP %s\n# TYPE %[1]s counter\n", f.name)
		for i := range ps {
			if ps[i].Name != "" && (f.kind == "" || ps[i].Kind != plugins.ProbeKind) {
				fmt.Fprintf(w, "%s{plugin=\"%s\",kind=\"%s\"} %g\n", f.name, labelValue(ps[i].Name), ps[i].Kind, f.v(&ps[i]))
			}
		}
	}
}

// writePluginStates publishes ainka_plugins{state} and
// ainka_plugin_disabled_total of the logic plugins.
func writePluginStates(w io.Writer, ps []control.Plugin, set *plugins.Set) {
	_, disabled, _ := set.Counts()
	states := map[string]int{plugins.Loaded: 0, plugins.Disabled: 0, plugins.Refused: 0}
	for _, p := range ps {
		states[p.State]++
	}
	fmt.Fprint(w, "# HELP ainka_plugins\n# TYPE ainka_plugins gauge\n")
	for _, s := range []string{plugins.Loaded, plugins.Disabled, plugins.Refused} {
		fmt.Fprintf(w, "ainka_plugins{state=%q} %d\n", s, states[s])
	}
	fmt.Fprintf(w, "# HELP ainka_plugin_disabled_total\n# TYPE ainka_plugin_disabled_total counter\nainka_plugin_disabled_total %d\n", disabled)
}
