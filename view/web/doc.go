// Package web is the daemon's read-only web dashboard: the same
// view.Snapshot the terminal view draws, served as pages from files
// embedded in the binary (no CDN: it works offline) and kept live with
// server-sent events.
//
// One goroutine (the hub) takes a snapshot every interval, encodes it
// once and offers it to every viewer without waiting: a viewer whose
// previous update has not been written yet (a slow or stalled browser)
// loses this one, and the loss is counted in
// ainka_ui_updates_dropped_total. The pipeline never waits for a browser;
// the recorder is read once per interval however many viewers there are.
//
// The dashboard changes nothing: changes go through ainka-cli and the
// control socket, whose permissions stay as they are. It listens on a
// loopback address unless ui_allow_remote says otherwise.
//
// Use:
//
//	s, err := web.Listen(web.Options{Addr: "127.0.0.1:9465", Snapshot: rec.Snapshot, Timeline: rec.Timeline})
//	go s.Serve(ctx)
package web
