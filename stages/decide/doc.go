// Package decide is the policy engine: it evaluates policies over each
// prediction window and emits Decisions for the actuate stage.
//
// A policy is a condition (package expr) and an action (package action)
// with a priority, a cooldown and an objective, the feature the action
// should improve. The engine keeps the design's state machine (learning,
// optimizing, anomaly_detection, predictive_scaling, emergency), measures
// every actuation's effect on its objective and pauses policies that do
// not work, resolves conflicts by priority, and pauses the lower of two
// policies that keep undoing each other on one knob.
//
// All time inside the engine is event time, the EndNs of the windows it is
// given: "for 5s", cooldowns and effect windows mean five seconds of the
// data, so a replayed trace gives the same decisions every time. The
// control methods (AddPolicy, Reload, SetEmergency, Optimize, ...) are safe
// to call from other goroutines while Process runs; Optimize is served by
// the next Process call, so its decisions go down the pipeline too.
//
// The Stage joins parts with one job each: ruleSet (rules.go), policyFile
// (policyfile.go), machine (machine.go), history and effects (history.go,
// effect.go), flapDetector (flap.go) and requests (request.go).
package decide
