package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/fleet/warm"
)

// SeedModel merges [ml] seed_model into the model files before predict
// and the tuners resume from them. A seed that cannot be fetched or is
// refused (another kernel series, CPU count or feature schema, damaged)
// is logged with the reason and the daemon starts without it: a seed
// only saves learning time, it is never worth not running.
func SeedModel(conf *config.Config, log *slog.Logger) {
	if conf == nil || conf.ML.SeedModel == "" {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b, err := warm.Load(context.Background(), conf.ML.SeedModel)
	if err == nil {
		var r warm.Report
		r, err = warm.Import(b, warm.Paths{Predict: conf.ML.ModelPath, Tuners: conf.Tuners.ModelPath}, warm.HostFacts())
		if err == nil {
			log.Info("seed model merged", "seed", conf.ML.SeedModel, "report", r.String())
			return
		}
	}
	log.Error("seed model refused; starting from what this host has learned", "seed", conf.ML.SeedModel, "err", err)
}

// RetireModel applies metrics_retention_hours to the saved model before
// predict resumes from it; log may be nil.
func RetireModel(conf *config.Config, log *slog.Logger) error {
	if conf == nil {
		return nil
	}
	retired, err := RetireStaleModel(conf.ML.ModelPath, conf.Telemetry.Retention(), time.Now())
	if err != nil {
		return err
	}
	if retired && log != nil {
		log.Warn("saved model older than metrics_retention_hours: moved aside, learning afresh",
			"path", conf.ML.ModelPath+".stale", "retention", conf.Telemetry.Retention())
	}
	return nil
}

// RetireStaleModel keeps learned history no longer than
// metrics_retention_hours: a saved model last written before that is moved
// aside (PATH.stale) and learning starts afresh, so a daemon that was off
// for days does not score today's host against a stale baseline.
func RetireStaleModel(path string, retention time.Duration, now time.Time) (retired bool, err error) {
	if path == "" || retention <= 0 {
		return false, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		// Absent or unreadable: predict reports it (LoadError) and
		// learns afresh; there is nothing to retire.
		return false, nil
	}
	if now.Sub(st.ModTime()) <= retention {
		return false, nil
	}
	if err := os.Rename(path, path+".stale"); err != nil {
		return false, fmt.Errorf("retire stale model: %w", err)
	}
	return true, nil
}

// CheckPolicyFile checks a policy file named on the command line. decide
// treats a missing file as "no policies yet" (a daemon waits for it);
// asked for on the command line, it is a mistake.
func CheckPolicyFile(path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return Usagef("--policy: %v", err)
	}
	return nil
}
