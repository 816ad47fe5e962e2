package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Client errors, besides *APIError for an error answered by the daemon.
var (
	// ErrNotRunning: no socket file, or nothing listening on it.
	ErrNotRunning = errors.New("ainka daemon is not running")
	// ErrPermission: the socket file's mode or the daemon refused us.
	ErrPermission = errors.New("permission denied")
)

// APIError is an error the daemon answered.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Is maps the status back to the sentinel the daemon wrapped.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInvalid:
		return e.Status == http.StatusBadRequest
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrPermission:
		return e.Status == http.StatusForbidden
	}
	return false
}

// Client talks to the control API over a unix socket.
type Client struct {
	socket string
	hc     *http.Client
}

// SocketFromEnv returns the socket path a CLI should use when --socket is
// not given: $AINKA_SOCKET, else DefaultSocketPath.
func SocketFromEnv() string {
	if s := os.Getenv("AINKA_SOCKET"); s != "" {
		return s
	}
	return DefaultSocketPath
}

// NewClient returns a client for the daemon listening on socketPath.
func NewClient(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns: 2,
	}
	return &Client{socket: socketPath, hc: &http.Client{Transport: tr}}
}

// SocketPath returns the socket the client connects to.
func (c *Client) SocketPath() string { return c.socket }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
	}
	return nil
}

// send performs a request and returns the response of a 2xx answer; other
// answers become *APIError and connection failures name the socket.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://ainka"+path, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.dialError(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb errorBody
	msg := string(bytes.TrimSpace(b))
	if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
		msg = eb.Error
	}
	if msg == "" {
		msg = resp.Status
	}
	return nil, &APIError{Status: resp.StatusCode, Message: msg}
}

func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%w (no socket at %s): start it with 'ainka run'", ErrNotRunning, c.socket)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (nothing listens on %s): start it with 'ainka run'", ErrNotRunning, c.socket)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w on %s: run as root or as a member of the daemon's socket_group", ErrPermission, c.socket)
	}
	return fmt.Errorf("talk to the daemon on %s: %w", c.socket, err)
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

// Metrics returns the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.send(ctx, http.MethodGet, "/v1/metrics", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read metrics: %w", err)
	}
	return string(b), nil
}

// Logs calls fn for each log entry of the last since (0 = all the daemon
// holds), then, with follow, for each new entry until ctx ends or fn
// returns an error (which Logs returns).
func (c *Client) Logs(ctx context.Context, since time.Duration, follow bool, fn func(LogEntry) error) error {
	q := url.Values{}
	if since > 0 {
		q.Set("since", since.String())
	}
	if follow {
		q.Set("follow", "1")
	}
	path := "/v1/logs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("decode log entry: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}

// AddPolicy adds a run-time policy.
func (c *Client) AddPolicy(ctx context.Context, p PolicySpec) error {
	return c.do(ctx, http.MethodPost, "/v1/policies", p, nil)
}

// Policies lists the policies.
func (c *Client) Policies(ctx context.Context) ([]Policy, error) {
	var ps []Policy
	err := c.do(ctx, http.MethodGet, "/v1/policies", nil, &ps)
	return ps, err
}

// RemovePolicy removes a policy by name.
func (c *Client) RemovePolicy(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/policies/"+url.PathEscape(name), nil, nil)
}

// Optimize runs one evaluation cycle now.
func (c *Client) Optimize(ctx context.Context) (OptimizeResult, error) {
	var r OptimizeResult
	err := c.do(ctx, http.MethodPost, "/v1/optimize", nil, &r)
	return r, err
}

// SetEmergency turns emergency mode on or off.
func (c *Client) SetEmergency(ctx context.Context, on bool) error {
	return c.do(ctx, http.MethodPost, "/v1/emergency", EmergencyRequest{On: on}, nil)
}

// Reset clears learned state and reverts actuations.
func (c *Client) Reset(ctx context.Context) (ResetResult, error) {
	var r ResetResult
	err := c.do(ctx, http.MethodPost, "/v1/reset", nil, &r)
	return r, err
}

// Rollback restores every changed knob, or with printOnly returns the
// commands that would.
func (c *Client) Rollback(ctx context.Context, printOnly bool) (RollbackResult, error) {
	var r RollbackResult
	err := c.do(ctx, http.MethodPost, "/v1/rollback?print="+strconv.FormatBool(printOnly), nil, &r)
	return r, err
}
