package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ainka/ainka/buildinfo"
	"github.com/ainka/ainka/control"
)

// bindVersion is `version`: this binary's build and, when a daemon
// answers, the daemon's. A daemon that does not answer is not an error.
func (inv *invocation) bindVersion() error {
	inv.run = func(ctx context.Context, c *control.Client, out *output) error {
		info := buildinfo.Read("")
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		daemon := "not reachable"
		st, err := c.Status(ctx)
		if err == nil {
			daemon = fmt.Sprintf("%s (pid %d, %s)", st.Version, st.PID, c.SocketPath())
		}
		if out.json {
			return out.printJSON(struct {
				buildinfo.Info
				Daemon string `json:"daemon"`
			}{info, daemon})
		}
		_, err = fmt.Fprintf(out.w, "%sdaemon      %s\n", info, daemon)
		return err
	}
	return nil
}
