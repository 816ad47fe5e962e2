package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ainka/ainka/control"
	fleetquery "github.com/ainka/ainka/fleet/query"
)

// bindFleet is `fleet --url URL status|changes|anomalies`: the fleet's
// table from the store the daemons push to (package fleet/query).
func (inv *invocation) bindFleet() error {
	url := inv.flags["url"]
	if url == "" {
		url = os.Getenv("AINKA_FLEET_URL")
	}
	if url == "" {
		return usagef("fleet: --url URL of the store the daemons push to is required (or AINKA_FLEET_URL)")
	}
	window := 5 * time.Minute
	if w, ok := inv.flags["window"]; ok {
		d, err := time.ParseDuration(w)
		if err != nil || d < time.Second {
			return usagef("fleet: --window %q: want a duration of at least 1s, like 5m", w)
		}
		window = d
	}
	view := inv.pos[0]
	if !slices.Contains(fleetquery.Views, view) {
		return usagef("fleet: unknown view %q: want %s", view, strings.Join(fleetquery.Views, ", "))
	}
	c, err := fleetquery.NewClient(url, window)
	if err != nil {
		return usagef("fleet: %v", err)
	}
	inv.run = func(ctx context.Context, _ *control.Client, out *output) error {
		return c.Print(ctx, out.w, view, out.json)
	}
	return nil
}
