package daemon

import (
	"context"
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

// Plugins lists the plugins (control.PluginLister): none without a
// configuration.
func (c *Controller) Plugins(ctx context.Context) ([]control.Plugin, error) {
	if c.plugins == nil {
		return nil, nil
	}
	return c.plugins.Status(), nil
}
