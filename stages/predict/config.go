package predict

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ainka/ainka/settings"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// DefaultModelPath is where the daemon keeps the model unless configured.
const DefaultModelPath = "/var/lib/ainka/model.bin"

// Config is the [ml] section of the configuration plus the window length.
type Config struct {
	// Window is the feature window length (collection_interval_ms).
	Window time.Duration
	// LearningRate is the weight of a new window in the per-feature and
	// joint baselines (0 < rate <= 1); the forecasters forget with factor
	// 1 - LearningRate/24.
	LearningRate float64
	// BatchSize is how many windows of training pairs the forecasters
	// accumulate before updating their coefficients.
	BatchSize int
	// TrainingIntervalSec is how often, in event time, the learned
	// likelihood distributions become the ones scored against; 0 makes
	// them current after every window.
	TrainingIntervalSec float64
	// PredictionWindowSec is the forecast horizon.
	PredictionWindowSec float64
	// EnableOnlineLearning false freezes all models: windows are scored and
	// forecast but nothing is learned.
	EnableOnlineLearning bool
	// BootOffsetNs is wall-clock minus event time (CLOCK_REALTIME −
	// CLOCK_MONOTONIC, as in a trace header's boot_offset_ns, or measured
	// at the start of a live run). When it is set, wall time = window end
	// + BootOffsetNs and every feature's detector also compares the window
	// with what is usual at that half hour of a weekday or weekend day
	// (UTC, so that a replay gives the same scores on any host). 0 means
	// unknown: no time-of-week baseline.
	BootOffsetNs int64
	// ModelPath is the model file for Save and for New to resume from; ""
	// disables persistence.
	ModelPath string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Window:               settings.DefaultInterval,
		LearningRate:         0.12,
		BatchSize:            1,
		TrainingIntervalSec:  60,
		PredictionWindowSec:  1,
		EnableOnlineLearning: true,
		ModelPath:            "",
	}
}

// ErrConfig reports an invalid setting; the message names the key.
var ErrConfig = errors.New("invalid predict configuration")

// Validate checks every setting and names the first bad one.
func (c Config) Validate() error {
	switch {
	case c.Window <= 0:
		return fmt.Errorf("%w: collection_interval_ms must be > 0", ErrConfig)
	case !(c.LearningRate > 0 && c.LearningRate <= 1):
		return fmt.Errorf("%w: learning_rate %v not in (0,1]", ErrConfig, c.LearningRate)
	case c.BatchSize < 1 || c.BatchSize > forecast.MaxBatch:
		return fmt.Errorf("%w: batch_size %d not in [1,%d]", ErrConfig, c.BatchSize, forecast.MaxBatch)
	case !(c.TrainingIntervalSec >= 0) || math.IsInf(c.TrainingIntervalSec, 0):
		return fmt.Errorf("%w: training_interval_sec %v must be >= 0", ErrConfig, c.TrainingIntervalSec)
	case c.BootOffsetNs < 0:
		return fmt.Errorf("%w: boot_offset_ns %d < 0 (wall clock before 1970)", ErrConfig, c.BootOffsetNs)
	case !(c.PredictionWindowSec > 0):
		return fmt.Errorf("%w: prediction_window_sec %v must be > 0", ErrConfig, c.PredictionWindowSec)
	}
	if h := c.horizon(); h > forecast.MaxHorizon {
		return fmt.Errorf("%w: prediction_window_sec %v is %d windows, more than %d", ErrConfig, c.PredictionWindowSec, h, forecast.MaxHorizon)
	}
	return nil
}

// horizon is the prediction window in windows (at least 1).
func (c Config) horizon() int {
	h := int(math.Ceil(c.PredictionWindowSec*1e9/float64(c.Window.Nanoseconds()) - 1e-9))
	if h < 1 {
		h = 1
	}
	return h
}

// bucket is the time-of-week bucket of a window ending at event time
// endNs, or -1 without a wall clock.
func (c Config) bucket(endNs uint64) int32 {
	if c.BootOffsetNs == 0 {
		return -1
	}
	return anomaly.Bucket(time.Unix(0, int64(endNs)+c.BootOffsetNs).UTC())
}
