// Package pipeline is the stage runtime of AINKA: a chain of typed stages
// joined by bounded, named queues that carry recycled batches.
//
// A pipeline is built completely before it runs: AddSource and AddStage
// declare every stage and queue, Tap subscribes to a stage's output, and Run
// validates the graph, starts one goroutine per stage in a conc pool and
// returns when the source has ended and every stage has drained what was in
// flight. Cancelling Run's context stops the source; the stages downstream
// still finish the batches already queued, so a SIGINT loses nothing that
// was read.
//
// Back-pressure stops at the source. A live source uses Emitter.TrySend,
// which never blocks and counts what it could not hand over, so the kernel
// is never slowed by a slow stage; a replay source uses Emitter.Send, which
// blocks, so a replay is lossless and deterministic. Taps copy a stage's
// output; a lossy tap drops and counts when its reader falls behind.
//
// The runtime never reads the wall clock on behalf of a stage: time inside
// the pipeline is the event time that the items carry. It measures only its
// own processing time, for metrics.
package pipeline
