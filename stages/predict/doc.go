// Package predict is the learning stage: for every window's feature vector
// it scores each feature and the vector as a whole for anomalies, and
// forecasts each feature one prediction window ahead with an interval, all
// learned online from event time (so that replays are deterministic and
// faster than real time). Config.BootOffsetNs, the wall clock's offset from
// event time (a trace header's boot_offset_ns, or measured at the start of
// a live run), adds a time-of-week baseline derived from event time + offset
// in UTC, which keeps replays deterministic.
//
// Use:
//
//	s, err := predict.New(predict.DefaultConfig())
//	out = s.Process(vectors, out[:0]) // one Output per input Vector
//	err = s.Save()                    // crash-safe, to Config.ModelPath
//	s.Reset()                         // forget everything learned
//
// Output fields (what decide reads):
//
//	Vector     the input features.Vector, copied
//	Score[i]   anomaly score of feature i in [0,1], NaN when the feature is
//	           missing in this window; 0 during a feature's warm-up and for
//	           the rest period after it fired (one alarm per incident)
//	Forecast[i]{Value, Lo, Hi}
//	           feature i predicted for the window ending HorizonNs after
//	           Vector.EndNs, with its prediction interval (Lo/Hi are ±Inf
//	           until the forecaster has seen its own errors); NaN when missing
//	Joint      the joint anomaly score, ≥ 0, in alarm points: the
//	           root-sum-square of the host alarm's three largest lasting
//	           deviations, each over its feature's alarm point
//	           (alarm.Result.Joint), and of the cluster model's surprise
//	           (how far the standardised vector lies from the nearest of
//	           the streaming k-means centroids of past vectors, calibrated
//	           like the per-feature scores) beyond 0.5, in units of 0.15;
//	           1 is one feature at its alarm point; NaN without features
//	HorizonNs  the forecast horizon (prediction_window_sec) in nanoseconds
//	Plugin[:NPlugin]
//	           scores of detector plugins ("PLUGIN.SCORE", in [0,1] or NaN),
//	           filled by package plugins' wrapper of this stage; none
//	           without plugins
//
// Calibration: a score is Numenta's log anomaly likelihood, so a score s
// corresponds to a tail probability of about 10^(-10 s) under the
// feature's own recent behaviour (0.5 ≈ 1e-5, 0.65 ≈ 3e-7); the tuned
// detection threshold on the NAB development data is in docs/predict.md.
//
// The [ml] settings (Config) each change behaviour: LearningRate is the
// baselines' learning rate (and the forecasters' forgetting),
// BatchSize the forecasters' mini-batch, TrainingIntervalSec how often (in
// event time) the likelihood calibration is re-estimated, PredictionWindowSec
// the forecast horizon, EnableOnlineLearning false freezes every model
// (scoring continues), ModelPath where Save writes and New loads.
package predict
