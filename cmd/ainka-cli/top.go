package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/view"
	"github.com/ainka/ainka/view/tui"
)

// bindTop is `top`: the daemon's live view, redrawn every --interval on a
// terminal; with --once, --json or a stdout that is not a terminal, one
// snapshot printed as text (or JSON).
func (inv *invocation) bindTop() error {
	every := time.Second
	if v, ok := inv.flags["interval"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return usagef("top: --interval %q is not a duration of at least 100ms (e.g. 1s)", v)
		}
		every = d
	}
	once := inv.flags["once"] == "true"
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		f, isFile := out.w.(*os.File)
		if once || out.json || !isFile || !term.IsTerminal(int(f.Fd())) {
			return withTimeout(ctx, func(ctx context.Context) error {
				s, err := c.Snapshot(ctx)
				if err != nil {
					return err
				}
				if out.json {
					return out.printJSON(s)
				}
				width := 100
				if isFile {
					if w, _, err := term.GetSize(int(f.Fd())); err == nil {
						width = w
					}
				}
				_, err = fmt.Fprintln(out.w, view.Render(s, width, 0, view.Plain))
				return err
			})
		}
		// Fail before taking over the screen when there is no daemon.
		if err := withTimeout(ctx, func(ctx context.Context) error { _, err := c.Snapshot(ctx); return err }); err != nil {
			return err
		}
		_, err := tui.Run(ctx, tui.Options{Fetch: c.Snapshot, Title: "ainka-cli top " + c.SocketPath(), Interval: every, Out: f})
		return err
	}
	return nil
}
