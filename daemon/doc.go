// Package daemon is AINKA's composition root: it builds the pipeline's
// chain of stages, runs the services beside it, serves the control API and
// names the error kinds that decide the exit code. cmd/ainka only turns
// flags into options and errors into exit codes.
//
// # Running
//
// Run is the daemon on this host (a live capture), Replay the same chain
// on a recorded trace, Record a capture written to a trace file. Each takes
// Options (or RecordOptions) that cmd/ainka fills from its flags, and
// returns an error whose kind gives the exit code. Options.Extend is the
// hook for things that run beside the pipeline of a daemon — a terminal
// view, a tuner: it gets the built chain (to tap or wrap) and the
// services (to add one) before anything starts.
//
// # Building the chain
//
// Build constructs every stage first and then joins them behind the
// source (Grafana OBI's swarm idea): a stage that cannot be built fails
// before any runs. The stages read one resolved value, settings.Settings
// (interval, lateness, host phase, how each kind was captured), from which
// stageConfigs derives each stage's configuration together with the
// daemon's config.Config. ChainOptions.Adjust may change those
// configurations and ChainOptions.Wrap (WrapStage) may wrap a stage's
// processor, so tests and tools run the same chain as the daemon.
//
// # Adding a stage
//
// Everything is in chain.go: give StageConfigs a field for its
// configuration and fill it in stageConfigs, construct the stage in
// (*Chain).construct (before actuate, which holds the journal) and add it
// in (*Chain).join at its place in the flow. StageNames (--tap's names),
// taps, wrappers and the control API's stage statistics follow from join.
//
// # Services
//
// Services (the control socket, the policy file watcher, SIGHUP reloads,
// model saves, the kernel module's events) run with the pipeline in one
// github.com/sourcegraph/conc pool that cancels on the first error: a
// failing service stops the daemon with its error, and the end of the
// input stops the services. Services.Go adds one.
//
// # Errors
//
// ErrUsage (exit 2) and ErrNotReady (exit 3) are the kinds; UsageError and
// NotReadyError mark an error with a kind without changing its message.
package daemon
