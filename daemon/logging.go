package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/kmod/genl"
	"github.com/ainka/ainka/pipeline"
)

// NewLogger builds the daemon's structured logger: JSON to log_file (or
// text to stderr, JSON with jsonLogs), every record also kept in the ring
// for `ainka-cli logs`.
func NewLogger(cfg *config.Config, stderr io.Writer, jsonLogs bool) (*slog.Logger, *control.LogRing, func() error, error) {
	out, closeLog, err := cfg.Daemon.OpenLogOutput(stderr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open log_file: %w", err)
	}
	opts := &slog.HandlerOptions{Level: cfg.Daemon.SlogLevel()}
	var h slog.Handler = slog.NewTextHandler(out, opts)
	if cfg.Daemon.LogFile != "" || jsonLogs {
		h = slog.NewJSONHandler(out, opts)
	}
	ring := control.NewLogRing(0)
	return slog.New(ring.Handler(h)), ring, closeLog, nil
}

// DialKernel connects to the kernel module. Not loaded is a normal state:
// the daemon says so and actuates from user space (nil).
func DialKernel(log *slog.Logger) genl.Client {
	c, err := genl.Dial()
	if err != nil {
		if errors.Is(err, genl.ErrNotLoaded) {
			log.Info("kernel module not loaded: actuating from user space")
		} else {
			log.Warn("kernel module unreachable: actuating from user space", "err", err)
		}
		return nil
	}
	log.Info("kernel module connected")
	return c
}

// detailLogger logs each JSON line a tap writes (enable_detailed_logging:
// every window's features and every decision) as one structured record.
type detailLogger struct {
	log  *slog.Logger
	msg  string
	mu   sync.Mutex
	rest []byte
}

func (w *detailLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rest = append(w.rest, p...)
	for {
		i := bytes.IndexByte(w.rest, '\n')
		if i < 0 {
			break
		}
		line := bytes.Clone(w.rest[:i])
		w.rest = w.rest[i+1:]
		w.log.Info(w.msg, "data", json.RawMessage(line))
	}
	return len(p), nil
}

// TapDetails subscribes the detail logger to features and decide.
func TapDetails(p *pipeline.Pipeline, log *slog.Logger, lossless bool) error {
	for stage, msg := range map[string]string{"features": "window", "decide": "decision"} {
		if err := p.Tap(stage, &detailLogger{log: log, msg: msg}, pipeline.TapOptions{Lossless: lossless}); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown saves what was learned and puts back every knob AINKA changed.
func (c *Chain) Shutdown(log *slog.Logger) error {
	var errs []error
	if c.Predict.Config().ModelPath != "" {
		if err := c.Predict.Save(); err != nil {
			errs = append(errs, fmt.Errorf("save model: %w", err))
		} else {
			log.Info("model saved", "path", c.Predict.Config().ModelPath)
		}
	}
	if err := c.Tune.Save(); err != nil {
		errs = append(errs, fmt.Errorf("save tuner model: %w", err))
	}
	if err := c.Actuate.Close(); err != nil {
		errs = append(errs, fmt.Errorf("restore knobs: %w", err))
	}
	c.closePlugins()
	return errors.Join(errs...)
}
