// Package control is AINKA's control plane: the API the daemon serves on a
// unix socket for ainka-cli, its Go client, and the in-memory log ring that
// `ainka-cli logs` reads.
//
// The protocol is HTTP/1.1 with JSON bodies over the unix socket, so it can
// be driven with curl --unix-socket when the CLI is not at hand. Access is
// decided twice: the socket file's mode (0600, or 0660 with the configured
// group) and, for every connection, the peer's credentials read with
// SO_PEERCRED; a peer that is neither root, nor the daemon's own user, nor a
// member of the group gets 403 with the reason.
//
// The server calls the daemon through the Daemon interface. Handlers must
// answer within 100 ms while the pipeline runs at full load, so a Daemon
// implementation reads snapshots (atomics, copies taken under short locks)
// and never waits on a pipeline queue. Rates in Status are derived by the
// server from the cumulative counters the daemon reports, sampled once a
// second, so the daemon only counts.
//
// Endpoints (all JSON unless noted; errors are {"error": "..."}):
//
//	GET    /v1/status
//	GET    /v1/metrics                   Prometheus text
//	GET    /v1/logs?since=5m&follow=1    JSON lines (LogEntry), streamed with follow
//	GET    /v1/policies
//	POST   /v1/policies                  PolicySpec
//	DELETE /v1/policies/{name}
//	POST   /v1/optimize
//	POST   /v1/emergency                 {"on": true}
//	POST   /v1/reset
//	POST   /v1/rollback?print=1
package control
