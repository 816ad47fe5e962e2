// Package settings is the one resolved value of the pipeline's timing and
// capture settings: the collection interval, how long a window waits for
// late events, when host samples are taken, how each kind was captured and
// the wall-clock offset of event time.
//
// It is resolved once — from the configuration and flags for a live run,
// from the trace header for a replay — and the daemon package hands each
// stage the part it reads. DefaultInterval is the only place the default
// collection interval is written; every stage's zero value refers to it.
//
// The package is a leaf (it imports only trace) so that stages, config and
// the daemon can all use it without import cycles.
package settings
