package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ainka/ainka/config"
)

// DefaultSocketPath is where the daemon listens and the CLI connects when
// neither --socket nor AINKA_SOCKET says otherwise.
const DefaultSocketPath = "/run/ainka/ainka.sock"

// ErrAlreadyListening is returned by Listen when a live daemon answers on
// the socket path.
var ErrAlreadyListening = errors.New("another ainka daemon is already listening")

// ErrNotSocket is returned by Listen when the socket path holds something
// other than a socket, which Listen never removes.
var ErrNotSocket = errors.New("not a socket")

func typeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsRegular():
		return "regular file"
	}
	return "special file"
}

// Options configure a Server.
type Options struct {
	// SocketPath is the socket to create (DefaultSocketPath when "").
	SocketPath string
	// Group is a group name or gid whose members may use the API besides
	// root ([daemon] socket_group); "" allows root and the daemon's own
	// user only.
	Group string
	// Logs serves /v1/logs; nil answers it with an empty log.
	Logs *LogRing
	// Logger receives the server's own messages (slog.Default when nil).
	Logger *slog.Logger
	// Timeout bounds each Daemon call (default 2s).
	Timeout time.Duration
	// MaxConns is how many connections are served at once
	// (DefaultMaxConns when 0); more are answered 503 and closed.
	MaxConns int
	// ReadTimeout bounds reading a request (DefaultReadTimeout when 0).
	ReadTimeout time.Duration
}

// Server serves the control API on a unix socket.
type Server struct {
	d    Daemon
	opt  Options
	gid  int // -1 when no group
	log  *slog.Logger
	ln   net.Listener
	http *http.Server

	rates rateSampler
}

// NewServer returns a server for d. It resolves opt.Group now, so a group
// that does not exist is an error before anything listens.
func NewServer(d Daemon, opt Options) (*Server, error) {
	if opt.SocketPath == "" {
		opt.SocketPath = DefaultSocketPath
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	if opt.MaxConns <= 0 {
		opt.MaxConns = DefaultMaxConns
	}
	if opt.ReadTimeout <= 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	s := &Server{d: d, opt: opt, gid: -1, log: opt.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opt.Group != "" {
		gid, err := config.LookupGroup(opt.Group)
		if err != nil {
			return nil, fmt.Errorf("control socket group: %w", err)
		}
		s.gid = gid
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/metrics", s.metrics)
	mux.HandleFunc("GET /v1/snapshot", s.snapshot)
	mux.HandleFunc("GET /v1/explain", s.explain)
	mux.HandleFunc("GET /v1/plugins", s.plugins)
	mux.HandleFunc("GET /v1/tuners", s.tuners)
	mux.HandleFunc("GET /v1/logs", s.logs)
	mux.HandleFunc("GET /v1/policies", s.listPolicies)
	mux.HandleFunc("POST /v1/policies", s.addPolicy)
	mux.HandleFunc("DELETE /v1/policies/{name}", s.removePolicy)
	mux.HandleFunc("POST /v1/optimize", s.optimize)
	mux.HandleFunc("POST /v1/emergency", s.emergency)
	mux.HandleFunc("POST /v1/reset", s.reset)
	mux.HandleFunc("POST /v1/rollback", s.rollback)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	s.http = &http.Server{
		Handler:           s.authorize(mux),
		ConnContext:       peerContext,
		ReadHeaderTimeout: min(5*time.Second, opt.ReadTimeout),
		ReadTimeout:       opt.ReadTimeout, // a body never finished frees its connection
		IdleTimeout:       3 * opt.ReadTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// SocketPath returns the path the server listens on.
func (s *Server) SocketPath() string { return s.opt.SocketPath }

// Listen creates the socket: its directory (0755) if missing, a stale
// socket file replaced, mode 0600, or 0660 owned by the group. A socket on
// which a daemon still answers is left alone and ErrAlreadyListening
// returned. Call it before starting the pipeline, so a daemon that cannot
// be controlled does not start.
func (s *Server) Listen() error {
	path := s.opt.SocketPath
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create control socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			// Only a stale socket is ours to remove; anything else at
			// this path is someone's file.
			return fmt.Errorf("control socket %s: %w: it exists and is a %s, not a socket; remove it yourself or choose another --socket path", path, ErrNotSocket, typeName(fi.Mode()))
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("control socket %s: %w", path, ErrAlreadyListening)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove stale control socket: %w", err)
		}
	}
	// Created 0600 from the start (umask), then widened for the group:
	// there is no window in which others can connect.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("listen on control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if s.gid >= 0 {
		if err := os.Chown(path, -1, s.gid); err != nil {
			ln.Close()
			return fmt.Errorf("control socket group: %w", err)
		}
		if err := os.Chmod(path, 0o660); err != nil {
			ln.Close()
			return fmt.Errorf("control socket mode: %w", err)
		}
	}
	s.ln = ln
	return nil
}

// Serve answers requests until ctx ends, then stops: open requests get a
// second to finish, log followers are ended, and the socket is removed.
// It calls Listen first if that has not been done.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.http.BaseContext = func(net.Listener) context.Context { return ctx }
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.rates.run(ctx, s.d, s.opt.Timeout)
	}()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(&limitListener{Listener: s.ln, max: s.opt.MaxConns}) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.http.Shutdown(sctx)
		cancel()
		err = <-errc
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if _, statErr := os.Lstat(s.opt.SocketPath); statErr == nil {
		if rmErr := os.Remove(s.opt.SocketPath); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			s.log.Warn("remove control socket", "err", rmErr)
		}
	}
	if err != nil {
		return fmt.Errorf("serve control API: %w", err)
	}
	return nil
}

// Peer credentials, read once per connection.

type peerKey struct{}

type peer struct {
	ucred *unix.Ucred
	err   error
}

func peerContext(ctx context.Context, c net.Conn) context.Context {
	p := peer{err: errors.New("not a unix socket connection")}
	if lc, ok := c.(*limitedConn); ok {
		c = lc.Conn
	}
	if uc, ok := c.(*net.UnixConn); ok {
		raw, err := uc.SyscallConn()
		if err != nil {
			p.err = err
		} else {
			cerr := raw.Control(func(fd uintptr) {
				p.ucred, p.err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
			})
			if cerr != nil {
				p.err = cerr
			}
		}
	}
	return context.WithValue(ctx, peerKey{}, p)
}

func (s *Server) authorize(next http.Handler) http.Handler {
	self := os.Geteuid()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := r.Context().Value(peerKey{}).(peer)
		if p.ucred == nil {
			writeError(w, http.StatusForbidden, fmt.Sprintf("permission denied: cannot read peer credentials: %v", p.err))
			return
		}
		uid := int(p.ucred.Uid)
		if uid == 0 || uid == self || (s.gid >= 0 && inGroup(p.ucred, s.gid)) {
			next.ServeHTTP(w, r)
			return
		}
		msg := fmt.Sprintf("permission denied: uid %d (pid %d) is not root", uid, p.ucred.Pid)
		if s.gid >= 0 {
			msg += fmt.Sprintf(" and not in group %s (gid %d)", s.opt.Group, s.gid)
		} else {
			msg += "; to allow a group, set [daemon] socket_group"
		}
		s.log.Warn("control API: peer refused", "uid", uid, "gid", p.ucred.Gid, "pid", p.ucred.Pid, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, msg)
	})
}

// inGroup reports whether the peer has gid as its primary or a
// supplementary group. SO_PEERCRED gives the primary group only; the
// supplementary groups come from /proc/PID/status of the connecting process.
func inGroup(c *unix.Ucred, gid int) bool {
	if int(c.Gid) == gid {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(c.Pid)) + "/status")
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "Groups:") {
			continue
		}
		for _, f := range strings.Fields(strings.TrimPrefix(line, "Groups:")) {
			if g, err := strconv.Atoi(f); err == nil && g == gid {
				return true
			}
		}
	}
	return false
}

// Handlers.

func (s *Server) call(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opt.Timeout)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.call(r)
	defer cancel()
	st, err := s.d.Status(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	now := time.Now()
	if !st.StartedAt.IsZero() {
		st.UptimeSec = now.Sub(st.StartedAt).Seconds()
	}
	s.rates.fill(&st, now)
	writeJSON(w, st)
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.call(r)
	defer cancel()
	var buf bytes.Buffer
	if err := s.d.Metrics(ctx, &buf); err != nil {
		s.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	w.Write(buf.Bytes())
}

func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since=%q is not a positive duration (e.g. 5m)", v))
			return
		}
		since = time.Now().Add(-d)
	}
	follow := q.Get("follow") == "1" || q.Get("follow") == "true"
	w.Header().Set("Content-Type", "application/x-ndjson")
	if s.opt.Logs == nil {
		return
	}
	var (
		ch    <-chan LogEntry
		unsub = func() {}
	)
	if follow {
		// Subscribe before reading the backlog, so nothing falls between.
		ch, unsub = s.opt.Logs.Subscribe(1024)
	}
	defer unsub()
	backlog, last := s.opt.Logs.Since(since)
	enc := json.NewEncoder(w)
	for _, e := range backlog {
		if err := enc.Encode(e); err != nil {
			return
		}
	}
	if !follow {
		return
	}
	fl, _ := w.(http.Flusher)
	if fl != nil {
		fl.Flush()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-ch:
			if e.Seq <= last {
				continue
			}
			if err := enc.Encode(e); err != nil {
				return
			}
			// Flush when caught up, not per line, under a log burst.
			if len(ch) == 0 && fl != nil {
				fl.Flush()
			}
		}
	}
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.call(r)
	defer cancel()
	ps, err := s.d.ListPolicies(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	if ps == nil {
		ps = []Policy{}
	}
	writeJSON(w, ps)
}

func (s *Server) addPolicy(w http.ResponseWriter, r *http.Request) {
	var p PolicySpec
	if err := decodeBody(w, r, maxBodyBytes, &p); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("policy: bad JSON body: %v", err))
		return
	}
	if p.Name == "" || p.Condition == "" || p.Action == "" {
		writeError(w, http.StatusBadRequest, "policy: name, condition and action are required")
		return
	}
	if p.Cooldown != "" {
		if d, err := time.ParseDuration(p.Cooldown); err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("policy: cooldown %q is not a duration (e.g. 30s)", p.Cooldown))
			return
		}
	}
	ctx, cancel := s.call(r)
	defer cancel()
	if err := s.d.AddPolicy(ctx, p); err != nil {
		s.fail(w, err)
		return
	}
	writeJSONStatus(w, http.StatusCreated, p)
}

func (s *Server) removePolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ctx, cancel := s.call(r)
	defer cancel()
	if err := s.d.RemovePolicy(ctx, name); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, map[string]string{"removed": name})
}

func (s *Server) optimize(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.call(r)
	defer cancel()
	res, err := s.d.Optimize(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	if res.Decisions == nil {
		res.Decisions = []Decision{}
	}
	writeJSON(w, res)
}

func (s *Server) emergency(w http.ResponseWriter, r *http.Request) {
	var req EmergencyRequest
	if err := decodeBody(w, r, 1<<10, &req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`emergency: bad JSON body (want {"on": true|false}): %v`, err))
		return
	}
	ctx, cancel := s.call(r)
	defer cancel()
	if err := s.d.SetEmergency(ctx, req.On); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, req)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.call(r)
	defer cancel()
	res, err := s.d.Reset(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	if res.Cleared == nil {
		res.Cleared = []string{}
	}
	if res.Reverted == nil {
		res.Reverted = []Change{}
	}
	writeJSON(w, res)
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	printOnly := r.URL.Query().Get("print") == "1" || r.URL.Query().Get("print") == "true"
	ctx, cancel := s.call(r)
	defer cancel()
	res, err := s.d.Rollback(ctx, printOnly)
	if err != nil {
		s.fail(w, err)
		return
	}
	if res.Restored == nil {
		res.Restored = []Change{}
	}
	if printOnly && res.Commands == nil {
		res.Commands = []string{}
	}
	writeJSON(w, res)
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrConflict):
		code = http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
		err = fmt.Errorf("the daemon did not answer within %v: %w", s.opt.Timeout, err)
	}
	if code >= 500 {
		s.log.Error("control API request failed", "err", err)
	}
	writeError(w, code, err.Error())
}

type errorBody struct {
	Error string `json:"error"`
}

// decodeBody decodes a request's JSON body of at most limit bytes into v:
// one JSON value, with no unknown field and nothing after it.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the JSON value (send exactly one object)")
	}
	return nil
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(errorBody{truncate(msg, maxErrorText)})
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("encode answer: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
