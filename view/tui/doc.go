// Package tui shows view snapshots on a terminal, redrawn every second
// like top, with bubbletea and lipgloss: `ainka run` and `ainka replay` on
// a terminal feed it from their own recorder, `ainka-cli top` from the
// daemon's control socket.
//
// Use:
//
//	err := tui.Run(ctx, tui.Options{Fetch: fetch, Title: "ainka run"})
//
// q, Esc or Ctrl-C ends it (Run returns nil); so does cancelling ctx.
package tui
