package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/ainka/ainka/view"
	"github.com/ainka/ainka/view/web"
)

// viewer reads n updates of the event stream at url and returns each one's
// latency: receipt minus the server's publication time.
func viewer(ctx context.Context, url string, n int) ([]time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		return nil, fmt.Errorf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	var lat []time.Duration
	first := true
	for sc.Scan() && len(lat) < n {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if first { // the first is written at connection, not published: check it whole
			first = false
			var u struct {
				Snapshot view.Snapshot `json:"snapshot"`
				Events   []view.Event  `json:"events"`
			}
			if err := json.Unmarshal([]byte(data), &u); err != nil {
				return nil, fmt.Errorf("first update: %w", err)
			}
			continue
		}
		// Only the publication time: 50 decoders of the whole snapshot on
		// the daemon's own two cores would measure the test, not the server.
		var u struct {
			SentMs int64 `json:"sent_ms"`
		}
		if err := json.Unmarshal([]byte(data), &u); err != nil {
			return nil, fmt.Errorf("update: %w", err)
		}
		if u.SentMs == 0 { // the server's fallback when a snapshot did not encode
			return lat, fmt.Errorf("an update without sent_ms: %.200s", data)
		}
		lat = append(lat, time.Since(time.UnixMilli(u.SentMs)))
	}
	if len(lat) < n {
		return lat, fmt.Errorf("stream ended after %d updates: %v", len(lat), sc.Err())
	}
	return lat, nil
}

// 50 browsers watch a daemon replaying a trace: every update reaches every
// one of them, p99 within 200 ms of its publication.
func TestFiftyViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("replays for seconds")
	}
	base := startReplay(t)
	const viewers, updates = 50, 5
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	for range viewers {
		wg.Go(func() {
			lat, err := viewer(ctx, base, updates)
			if err != nil {
				errs <- err
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a viewer: %v", err)
	}
	slices.Sort(all)
	p99 := all[(len(all)-1)*99/100]
	t.Logf("%d viewers, %d updates: p50 %v, p99 %v, max %v", viewers, len(all), all[len(all)/2], p99, all[len(all)-1])
	if p99 > 200*time.Millisecond && !raceEnabled {
		t.Errorf("p99 update latency %v, want ≤ 200 ms", p99)
	}
}

// A browser that stops reading never slows the updates of the others: its
// updates are dropped and counted, and the reading viewer gets them all.
func TestStalledViewerDropsNotBlocks(t *testing.T) {
	big := bigSnapshot()
	set := metrics.NewSet()
	s, ctx := serve(t, web.Options{Interval: 5 * time.Millisecond, Metrics: set,
		Snapshot: func() view.Snapshot { return big }})
	// The stalled browser: connects, asks for the stream, never reads.
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
	dropped := set.GetOrCreateCounter("ainka_ui_updates_dropped_total")
	deadline := time.Now().Add(30 * time.Second)
	for dropped.Get() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if dropped.Get() == 0 {
		t.Fatal("30 s of updates to a browser that does not read, none dropped")
	}
	// Meanwhile a reading viewer gets its updates at the publishing pace.
	vctx, vcancel := context.WithTimeout(ctx, 10*time.Second)
	defer vcancel()
	lat, err := viewer(vctx, "http://"+s.Addr(), 50)
	if err != nil {
		t.Fatalf("the reading viewer, beside a stalled one: %v", err)
	}
	slices.Sort(lat)
	t.Logf("dropped for the stalled viewer: %d; the reading viewer got its %d updates", dropped.Get(), len(lat))
}

// serve runs a dashboard of o on a free loopback port until the test
// ends; the context ends with it.
func serve(t *testing.T, o web.Options) (*web.Server, context.Context) {
	t.Helper()
	o.Addr = "127.0.0.1:0"
	if o.Timeline == nil {
		o.Timeline = func(uint64) []view.Event { return nil }
	}
	s, err := web.Listen(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	return s, ctx
}

// bigSnapshot is a snapshot with every feature's history full, as a
// daemon's after a minute (~40 KB of JSON).
func bigSnapshot() view.Snapshot {
	s := view.Snapshot{Mode: "live", Engine: view.Engine{State: "optimizing"}}
	for i := range 26 {
		f := view.Feature{Name: fmt.Sprintf("feature_%d", i)}
		for j := range 60 {
			v := view.Num(float64(i*j) * 1.2345)
			f.History, f.Scores, f.LoHist, f.HiHist = append(f.History, v), append(f.Scores, 0.1), append(f.LoHist, v-1), append(f.HiHist, v+1)
		}
		s.Features = append(s.Features, f)
	}
	return s
}

// Only loopback addresses unless remote viewers are allowed; bad
// addresses and busy ports are one clear error each.
func TestListenAddresses(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		addr   string
		remote bool
		want   error
		msg    string
	}{
		{"0.0.0.0:0", false, web.ErrRemote, "ui_allow_remote = true"},
		{":0", false, web.ErrRemote, "127.0.0.1 or ::1 only"},
		{"192.0.2.1:80", false, web.ErrRemote, "not a loopback address"},
		{"nope", false, web.ErrAddr, "missing port"},
		{"127.0.0.1:http", false, web.ErrAddr, `port "http"`},
		{"127.0.0.1:70000", true, web.ErrAddr, "0..65535"},
		{busy.Addr().String(), false, nil, "address already in use"},
	} {
		s, err := web.Listen(web.Options{Addr: c.addr, AllowRemote: c.remote})
		if err == nil {
			s.Close()
			t.Errorf("%s: listened", c.addr)
			continue
		}
		if (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v with %q", c.addr, err, c.want, c.msg)
		}
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		if err := web.CheckAddr(ok, false); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if err := web.CheckAddr("0.0.0.0:0", true); err != nil {
		t.Errorf("0.0.0.0:0 with ui_allow_remote: %v", err)
	}
}

// The dashboard changes nothing: every method but GET and HEAD is refused.
func TestReadOnly(t *testing.T) {
	s, _ := serve(t, web.Options{Snapshot: bigSnapshot})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		req, _ := http.NewRequest(m, "http://"+s.Addr()+"/api/snapshot", strings.NewReader("{}"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", m, resp.StatusCode)
		}
	}
	for path, want := range map[string]int{"/": 200, "/app.js": 200, "/api/snapshot": 200, "/api/timeline?after=3": 200,
		"/api/timeline?after=x": 400, "/nothing": 404} {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
