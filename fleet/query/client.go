package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of the client.
var (
	ErrBadURL = errors.New("bad fleet store URL")
	ErrStore  = errors.New("fleet store")
)

// Client queries one store.
type Client struct {
	base string // scheme://host[:port][/prefix], without /api/v1/...
	http *http.Client
	// Window is how far back a host's last push is looked for.
	Window time.Duration
	// Now is the evaluation time (zero: the store's now).
	Now time.Time
}

// NewClient checks the store's URL: its root (http://vm:8428), or any URL
// under it ending in /api/v1/... (the push URL works too).
func NewClient(raw string, window time.Duration) (*Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadURL, raw, errors.Unwrap(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w %q: want http://HOST:PORT (the store's root)", ErrBadURL, raw)
	}
	if i := strings.Index(u.Path, "/api/v1/"); i >= 0 {
		u.Path = u.Path[:i]
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if window <= 0 {
		window = 5 * time.Minute
	}
	return &Client{base: u.String(), http: &http.Client{Timeout: 30 * time.Second}, Window: window}, nil
}

// Sample is one series of an instant query's answer.
type Sample struct {
	Labels map[string]string
	Value  float64
}

type apiAnswer struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	} `json:"data"`
}

// Query runs an instant query; "{W}" in expr is replaced by the window.
func (c *Client) Query(ctx context.Context, expr string) ([]Sample, error) {
	expr = strings.ReplaceAll(expr, "{W}", strconv.FormatInt(int64(c.Window/time.Second), 10)+"s")
	q := url.Values{"query": {expr}}
	if !c.Now.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(c.Now.UnixMilli())/1000, 'f', 3, 64))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/query?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadURL, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once, not with the whole query
		}
		return nil, fmt.Errorf("%w %s: %v", ErrStore, c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%w %s: read answer: %v", ErrStore, c.base, err)
	}
	var a apiAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("%w %s: HTTP %d, not a Prometheus API answer: %.200s", ErrStore, c.base, resp.StatusCode, body)
	}
	if a.Status != "success" {
		return nil, fmt.Errorf("%w %s: query %s: %s", ErrStore, c.base, expr, a.Error)
	}
	if a.Data.ResultType != "vector" {
		return nil, fmt.Errorf("%w %s: query %s: a %s, want a vector", ErrStore, c.base, expr, a.Data.ResultType)
	}
	out := make([]Sample, 0, len(a.Data.Result))
	for _, r := range a.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%w %s: query %s: value %q: %v", ErrStore, c.base, expr, s, err)
		}
		out = append(out, Sample{Labels: r.Metric, Value: v})
	}
	return out, nil
}

// byHost runs expr and keys the values by the host label.
func (c *Client) byHost(ctx context.Context, expr string) (map[string]float64, error) {
	ss, err := c.Query(ctx, expr)
	if err != nil {
		return nil, err
	}
	m := make(map[string]float64, len(ss))
	for _, s := range ss {
		m[s.Labels["host"]] = s.Value
	}
	return m, nil
}
