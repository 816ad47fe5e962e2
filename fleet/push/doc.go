// Package push sends the daemon's metrics to a time-series store that
// many hosts share (VictoriaMetrics single-node or cluster, vmagent, or
// anything that accepts Prometheus text with timestamps at
// /api/v1/import/prometheus), so that a fleet is seen in one place.
//
// Every interval a Snapshot of the metrics is taken, stamped with the
// wall clock, labelled (host and the configured extra labels),
// gzip-compressed and put in a bounded buffer; a sender goroutine posts
// the buffer's oldest snapshot until the buffer is empty. A failed post
// is retried with exponential backoff; when the store is down for longer
// than the buffer holds, the oldest snapshots are dropped and counted
// (ainka_push_dropped_total), so memory stays bounded by
// Config.BufferBytes and nothing ever waits for the network but the
// sender itself. Because every sample carries the time it was taken, a
// snapshot delivered late lands at the right place in the store: an
// outage shorter than the buffer leaves no gap.
//
// Errors are classified (refused, lost, timeout, dns, tls, http_4xx,
// http_5xx, other), counted by reason (ainka_push_errors_total) and logged at most
// once a minute with the reason, so an unreachable or wrong URL is loud
// but never floods the log. A 4xx answer means the store will never take
// that snapshot (a wrong path, a rejected label): it is dropped at once
// (reason "rejected") rather than retried.
package push
