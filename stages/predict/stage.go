package predict

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict/alarm"
	"github.com/ainka/ainka/stages/predict/anomaly"
	"github.com/ainka/ainka/stages/predict/forecast"
)

// Stage is the predict stage. Process, Save, Load and Reset may be called
// from different goroutines: a mutex is held per batch.
type Stage struct {
	mu      sync.Mutex
	cfg     Config
	horizon int
	det     [features.Count]anomaly.Detector
	fc      [features.Count]forecast.Forecaster
	// nn are the neural forecasters beside fc: each gives its forecast
	// only while its recent error beats fc's (forecast.Net).
	nn     [features.Count]forecast.Net
	joint  joint
	probes probeModels
	host   alarm.Host
	// Event time of the last commit of the likelihood distributions.
	lastCommitNs uint64
	firstDone    bool
	processed    uint64
	loadErr      error
	// lastEndNs is the end of the last window processed (0: none yet);
	// skippedWindows counts the windows that did not end after it.
	lastEndNs      uint64
	skippedWindows int64
}

// Skipped counts the input the stage did not learn from since the start
// (or the last Reset): per feature, NaN and ±Inf values (a missing source,
// such as PSI on a kernel without it, counts every window); and whole
// windows that did not end after the previous one (event time going
// backwards), which are scored NaN.
type Skipped struct {
	Values  [features.Count]int64
	Windows int64
}

// New builds the stage. An invalid configuration is an error. When
// cfg.ModelPath names a model file it is loaded; a missing file is a fresh
// start, and a corrupted or incompatible one (another format version) is
// also a fresh start: the file is set aside as PATH.unusable, so that the
// next save does not destroy it, and the reason is kept for LoadError so
// that the daemon can log it and run on.
func New(cfg Config) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Stage{cfg: cfg, horizon: cfg.horizon()}
	s.init()
	if cfg.ModelPath != "" {
		if err := s.Load(cfg.ModelPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.loadErr = setAside(cfg.ModelPath, err)
		}
	}
	return s, nil
}

// setAside moves an unusable model file out of the way and says so in err.
// Only files that could be read but not used are moved (a file that could
// not be read at all, say for permissions, is left alone).
func setAside(path string, err error) error {
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncompatible) {
		return err
	}
	aside := path + ".unusable"
	if rerr := os.Rename(path, aside); rerr != nil {
		return fmt.Errorf("%w (could not set it aside: %v)", err, rerr)
	}
	return fmt.Errorf("%w (set aside as %s; learning afresh)", err, aside)
}

func (s *Stage) init() {
	dp := anomaly.StageParams()
	dp.Alpha = s.cfg.LearningRate
	dp.Deferred = s.cfg.TrainingIntervalSec > 0
	fp := forecast.DefaultParams(s.horizon)
	fp.Lambda = 1 - s.cfg.LearningRate/24
	fp.Batch = s.cfg.BatchSize
	freeze := !s.cfg.EnableOnlineLearning
	for i := range s.det {
		s.det[i].Init(dp)
		s.det[i].Freeze(freeze)
		s.fc[i].Init(fp)
		s.fc[i].Freeze(freeze)
		s.nn[i].Init(s.horizon, fp.Cover)
		s.nn[i].Freeze(freeze)
	}
	s.probes.init(dp, fp, freeze, s.horizon)
	jp := jointParams(s.cfg.LearningRate)
	jp.Deferred = dp.Deferred
	s.joint = joint{}
	s.joint.Det.Init(jp)
	s.joint.Det.Freeze(freeze)
	s.host.Init(alarm.DefaultParams())
	s.host.Freeze(freeze)
	s.lastCommitNs = 0
	s.firstDone = false
	s.processed = 0
	s.lastEndNs = 0
	s.skippedWindows = 0
}

// Skipped reports what the stage skipped (see Skipped).
func (s *Stage) Skipped() Skipped {
	s.mu.Lock()
	defer s.mu.Unlock()
	sk := Skipped{Windows: s.skippedWindows}
	for i := range s.det {
		sk.Values[i] = s.det[i].Skipped()
	}
	return sk
}

// Config returns the configuration the stage runs with.
func (s *Stage) Config() Config { return s.cfg }

// LoadError is why New could not resume from Config.ModelPath (nil when it
// resumed or there was no file).
func (s *Stage) LoadError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr
}

// Reset forgets everything learned (the control plane's reset).
func (s *Stage) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
}

// Processed is the number of windows processed since the start (or the
// model's creation, when it was loaded).
func (s *Stage) Processed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.processed
}

// Process appends one Output per input vector to out and returns it. It
// does not allocate when out has room.
func (s *Stage) Process(in []features.Vector, out []Output) []Output {
	s.mu.Lock()
	defer s.mu.Unlock()
	learn := s.cfg.EnableOnlineLearning
	intervalNs := uint64(s.cfg.TrainingIntervalSec * 1e9)
	hns := uint64(s.horizon) * uint64(s.cfg.Window.Nanoseconds())
	for k := range in {
		v := &in[k]
		out = append(out, Output{Vector: *v, HorizonNs: hns})
		o := &out[len(out)-1]
		if s.lastEndNs != 0 && v.EndNs <= s.lastEndNs {
			// A window from the past would teach the time-of-week
			// baseline the wrong hour and the forecasters a false
			// sequence: score nothing, learn nothing, count it.
			s.skippedWindows++
			o.skip()
			continue
		}
		s.lastEndNs = v.EndNs
		b := s.cfg.bucket(v.EndNs)
		for i := range v.Values {
			x := v.Values[i]
			o.Score[i] = s.det[i].UpdateAt(x, b)
			o.Forecast[i] = s.nn[i].Update(x, s.fc[i].Update(x))
		}
		s.probes.update(o, b)
		cluster := s.joint.update(v, learn)
		o.Alarm = s.host.Update(&v.Values)
		o.Joint = jointScore(o.Alarm.Joint, cluster)
		attribute(v, &o.Alarm, &o.Entities)
		s.processed++
		// Re-estimate the calibration once per training interval of event
		// time. The first window starts the clock, and until the first
		// interval has passed the calibration follows every window (there
		// is nothing older to score against).
		if intervalNs > 0 && learn {
			if s.lastCommitNs == 0 || v.EndNs < s.lastCommitNs {
				s.lastCommitNs = v.EndNs // start (or, after a time jump, restart) the clock
			}
			due := v.EndNs-s.lastCommitNs >= intervalNs
			if due {
				s.firstDone = true
				s.lastCommitNs = v.EndNs
			}
			if due || !s.firstDone {
				for i := range s.det {
					s.det[i].Commit()
				}
				s.probes.commit()
				s.joint.Det.Commit()
			}
		}
	}
	return out
}

// Flush is a no-op (the stage keeps no partial window); it exists for the
// pipeline's end-of-input call.
func (s *Stage) Flush(out []Output) []Output { return out }
