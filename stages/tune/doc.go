// Package tune is the tuners' stage, between predict and decide: AINKA
// finds by itself what to change on this host, proves by trial that it
// helps, and remembers it.
//
// For every window it
//   - follows the tasks and block devices of the feature vector in bounded
//     tables (MaxTasks, MaxDevices; the least recently active entry is
//     evicted when full) with exponentially weighted features;
//   - classifies them online with a confidence and the features that
//     decided it: batch vs latency-sensitive CPU work, sequential vs
//     random readers (classify.go);
//   - names the host's workload regime, a cluster of a few coarse
//     features, and notices when a known one returns (regime.go);
//   - runs one tuner per knob family (cpu: nice of a discovered batch hog,
//     never raising anyone's priority; readahead: read_ahead_kb of a
//     device from its access pattern). A tuner in act mode explores a
//     small discrete set of settings with UCB1 (bandit.go), measures its
//     objective over an effect window of event time, keeps what helps,
//     reverts a step that made the objective more than HarmPct worse at
//     the end of the effect window in which it was measured, and stores
//     the best setting per (regime, target) in its model file. When a
//     regime returns, its best known settings are applied at once. In
//     advise mode a tuner only says what it would change and why.
//     Readahead's trials belong to the device's access pattern (its
//     phase, phase.go): a phase that ends pauses its trial, the model
//     file keeps it (trial.go), and the phase's return, in this daemon
//     or the next, goes on with it.
//
// Its changes are decide.Decisions (policy "tuner:NAME") that travel with
// the window to the decide stage (see WithDecide) and on to actuate, so
// they get the journal, rate limits, step bounds and yield of every other
// change. All time is event time, so a replay tunes as the live run did.
package tune
