// Package plugins loads AINKA's logic plugins (WebAssembly detectors and
// tuners, package plugins/wasm) from the configured directories and puts
// them in the chain: detectors after the built-in ones in the predict
// stage, so that their scores travel in predict.Output (and --tap predict);
// tuners after the built-in ones in the tune stage, so that their
// proposals become ordinary decide.Decisions (policy "plugin:NAME") and
// reach actuate like every other change: allowlist, range and step
// clamps, journal, rate limits, yield, restore at exit. A plugin never
// writes anything itself.
//
// Use:
//
//	set, err := plugins.Open(ctx, plugins.Options{Dirs: dirs, Logger: log})
//	wrap := set.Wrappers()  // for the predict and tune stages' processors
//	err = set.Reload(ctx)   // SIGHUP: a plugin that fails to load keeps the old one
//	st := set.Status()      // loaded, disabled and why, refused and why, counts, CPU time
//	set.Close()
//
// A directory holds plugin files, NAME.wasm; a missing directory holds
// none. A plugin that fails to load is refused (logged, listed in Status
// with the reason); one that fails at run time is disabled (logged once,
// counted, listed with the reason), and the pipeline goes on without it.
package plugins
