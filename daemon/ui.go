package daemon

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ainka/ainka/view/web"
)

// uiAddr is where the dashboard is served: --ui-addr, else [ui] ui_addr,
// else nowhere.
func (o *Options) uiAddr() string {
	if o.UIAddr != "" {
		return o.UIAddr
	}
	return o.Config.UI.Addr
}

// serveUI binds the web dashboard when asked to and runs it as a service
// with the view's rates refreshed. A refused address (not loopback, not
// host:port) is a usage error; one that cannot be bound, a failure: both
// before the pipeline starts.
func (c *Chain) serveUI(o Options, svc *Services, log *slog.Logger) error {
	addr := o.uiAddr()
	if addr == "" {
		return nil
	}
	s, err := web.Listen(web.Options{Addr: addr, AllowRemote: o.Config.UI.AllowRemote, Snapshot: c.View.Snapshot,
		Timeline: c.View.Timeline, FleetURL: o.Config.UI.FleetURL, Metrics: c.Pipeline.Metrics(), Logger: log})
	if errors.Is(err, web.ErrRemote) || errors.Is(err, web.ErrAddr) || errors.Is(err, web.ErrFleetURL) {
		return UsageError{err}
	}
	if err != nil {
		return err
	}
	svc.ui = s
	svc.Go("dashboard", func(ctx context.Context) error {
		if o.Extend == nil { // else the command's view refreshes the rates
			go c.View.Run(ctx, time.Second)
		}
		return s.Serve(ctx)
	})
	log.Info("dashboard", "url", "http://"+s.Addr()+"/")
	return nil
}

// UIAddr is the dashboard's bound address, "" when it is off.
func (s *Services) UIAddr() string {
	if s == nil || s.ui == nil {
		return ""
	}
	return s.ui.Addr()
}
