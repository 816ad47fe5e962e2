// Package plugintable prints plugin statuses (control.Plugin) as tables,
// the same for `ainka plugin list` and `ainka-cli plugins`, without the
// plugin runtimes: the client stays small.
package plugintable
