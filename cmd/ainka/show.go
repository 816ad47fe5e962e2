package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/view"
	"github.com/ainka/ainka/view/tui"
)

// viewFlags choose what a person sees while run or replay works.
type viewFlags struct {
	mode      string        // auto, on, off
	summary   time.Duration // text summary period when the view is not shown
	logFormat string        // text or json
}

func (f *viewFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "view", "auto", "live terminal view: auto (on when stdout is a terminal, no --tap writes to it and logs are text), on or off")
	fs.DurationVar(&f.summary, "summary", 0, "without the terminal view, print a text summary to stdout every `D` (0 = never)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `FORMAT` on stderr: text or json (json turns the terminal view off)")
}

// show reports whether the terminal view runs: it checks the flags, so a
// bad value is a usage error before anything starts.
func (f *viewFlags) show(stdout io.Writer, taps []daemon.TapSpec) (bool, error) {
	if f.logFormat != "text" && f.logFormat != "json" {
		return false, daemon.Usagef("--log-format %q: want text or json", f.logFormat)
	}
	if f.summary < 0 {
		return false, daemon.Usagef("--summary %v: must not be negative", f.summary)
	}
	tapOut := false
	for _, t := range taps {
		tapOut = tapOut || t.Path == ""
	}
	term := isTerminal(stdout)
	switch f.mode {
	case "off":
		return false, nil
	case "auto":
		return term && !tapOut && f.logFormat == "text", nil
	case "on":
		if !term {
			return false, daemon.Usagef("--view on: stdout is not a terminal")
		}
		if tapOut {
			return false, daemon.Usagef("--view on: a --tap writes to stdout too (give it a path: --tap STAGE=PATH)")
		}
		return true, nil
	}
	return false, daemon.Usagef("--view %q: want auto, on or off", f.mode)
}

// view returns the daemon.Options.Extend that shows the chain's view: the
// terminal view (show), or a summary every --summary on stdout, or
// nothing. Quitting the terminal view calls quit, which ends the daemon as
// SIGINT would.
func (f *viewFlags) view(show bool, title string, stdout io.Writer, quit func()) func(*daemon.Chain, *daemon.Services) error {
	return func(c *daemon.Chain, svc *daemon.Services) error {
		// Rates are refreshed every second, or at each summary when
		// summaries come faster, so that every summary has rates.
		every := time.Second
		if !show && f.summary > 0 && f.summary < every {
			every = f.summary
		}
		svc.Go("view", func(ctx context.Context) error {
			go c.View.Run(ctx, every)
			switch {
			case show:
				return tui.Show(ctx, c.View, title, stdout, quit)
			case f.summary > 0:
				return view.Summarize(ctx, c.View, f.summary, stdout)
			}
			return nil
		})
		return nil
	}
}

// options are the daemon's options with the view: ctx is cancelled when
// the person quits the terminal view; show says whether it is shown. Bad
// view flags are usage errors.
func (f *viewFlags) options(ctx context.Context, pf *pipeFlags, cfg *config.Config, title string, stdout, stderr io.Writer) (_ context.Context, o daemon.Options, show bool, err error) {
	o = pf.options(cfg, stdout, stderr)
	if show, err = f.show(stdout, pf.taps); err != nil {
		return ctx, o, false, err
	}
	o.JSONLogs = f.logFormat == "json"
	if show {
		o.LogOutput = io.Discard // the view owns the screen and shows the warnings
	}
	ctx, quit := context.WithCancel(ctx)
	o.Extend = f.view(show, title, stdout, quit)
	return ctx, o, show, nil
}
