package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/view"
)

// bindExplain is `explain KNOB`: every change AINKA made to the knob since
// the daemon started, with the policy and the reason, and what it holds.
func (inv *invocation) bindExplain() error {
	knob := inv.pos[0]
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		return withTimeout(ctx, func(ctx context.Context) error {
			e, err := c.Explain(ctx, knob)
			if err != nil {
				return err
			}
			if out.json {
				return out.printJSON(e)
			}
			return out.explanation(e)
		})
	}
	return nil
}

func (o *output) explanation(e view.Explanation) error {
	if e.Held != nil {
		fmt.Fprintf(o.w, "%s: held at %s (was %s) by %s since %s\n  because %s\n", e.Knob, e.Held.Value, e.Held.Original,
			e.Held.Policy, e.Held.Since, e.Held.Why)
	} else {
		fmt.Fprintf(o.w, "%s: AINKA holds no change of it now\n", e.Knob)
	}
	if len(e.Changes) == 0 {
		return nil
	}
	fmt.Fprintln(o.w)
	tw := o.table()
	fmt.Fprintln(tw, "WHEN (EVENT TIME)\tOUTCOME\tOLD → NEW\tPOLICY\tWHY")
	for _, c := range e.Changes {
		when := "now"
		if e.EventTimeNs > c.TimeNs {
			when = time.Duration(e.EventTimeNs-c.TimeNs).Round(100*time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\n", when, c.Status, c.Old, c.New, c.Policy, c.Why)
	}
	return tw.Flush()
}
