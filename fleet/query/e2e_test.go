package query_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ainka/ainka/config"
	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/daemon"
	"github.com/ainka/ainka/fleet/query"
)

// vmServer is a real VictoriaMetrics single-node server on a loopback
// port with its own data directory.
type vmServer struct {
	bin, addr, dir string
	cmd            *exec.Cmd
	log            bytes.Buffer
}

func startVM(t *testing.T, s *vmServer) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "-httpListenAddr="+s.addr, "-storageDataPath="+s.dir, "-retentionPeriod=1d",
		"-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.bin, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + s.addr + "/health"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("victoria-metrics did not answer /health in 20 s:\n%s", s.log.String())
}

func (s *vmServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// syncBuf is a log several goroutines write.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// host is one daemon replaying one trace, pushing with its host label.
type host struct {
	name, trace, socket string
	bufferKB            int
	log                 syncBuf
	done                chan error
}

// outage is how long the store is stopped mid-run, as the issue asks.
const outage = 30 * time.Second

func (h *host) start(ctx context.Context, t *testing.T, pushURL string, hold time.Duration) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Daemon.SocketPath = filepath.Join(dir, "s")
	cfg.Daemon.PIDFile, cfg.ML.ModelPath, cfg.Tuners.ModelPath = "", "", ""
	cfg.Telemetry.PushURL, cfg.Telemetry.PushIntervalMS = pushURL, 200
	cfg.Telemetry.PushLabels = map[string]string{"host": h.name, "role": "e2e"}
	cfg.Telemetry.PushBufferKB = h.bufferKB
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h.socket, h.done = cfg.Daemon.SocketPath, make(chan error, 1)
	o := daemon.Options{Config: cfg, PolicyFile: "../../policies/default.toml", Tuners: "act", Duration: hold,
		Stdout: &h.log, Stderr: &h.log}
	// Paced as captured (2 s a pass), 25 passes (50 s): the input runs through
	// the outage and ends before the last check, then the daemon holds.
	go func() {
		h.done <- daemon.Replay(ctx, o, daemon.ReplayOptions{Path: "../../testdata/traces/" + h.trace, Speed: 1, Repeat: 25, Hold: true})
	}()
}

// own reads the daemon's own figures from its control socket.
func (h *host) own(t *testing.T) map[string]float64 {
	t.Helper()
	c := control.NewClient(h.socket)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := c.Metrics(ctx)
	if err != nil {
		t.Fatalf("%s: metrics: %v", h.name, err)
	}
	return sumFamilies(text)
}

// sumFamilies sums each family's samples (the ledger's series counted by
// status instead).
func sumFamilies(text string) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.Lines(text) {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		name, _, _ := strings.Cut(f[0], "{")
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		switch {
		case name == "ainka_knob_change" && !strings.Contains(f[0], `status="restored"`):
			m["knobs"]++
		case strings.HasPrefix(f[0], `ainka_push_errors_total{reason="refused"}`):
			m["refused"] += v
		}
		m[name] += v
	}
	return m
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Three daemons replaying three traces push to a real VictoriaMetrics;
// the fleet view shows the three with their own figures; the store is
// stopped mid-run and the daemons go on, buffer, drop (the small buffer)
// and count, and resume pushing when it returns.
func TestFleetAgainstVictoriaMetrics(t *testing.T) {
	bin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		t.Skip("victoria-metrics is not installed (Debian package victoria-metrics; make dev-setup installs it)")
	}
	if testing.Short() {
		t.Skip("-short: runs a store and three daemons for about a minute")
	}
	vm := &vmServer{bin: bin, addr: freeAddr(t), dir: t.TempDir()}
	startVM(t, vm)
	defer vm.stop()
	pushURL := "http://" + vm.addr + "/api/v1/import/prometheus"
	hosts := []*host{
		{name: "h-cpu", trace: "cpu.trace", bufferKB: 4096},
		{name: "h-seqread", trace: "fio-seqread.trace", bufferKB: 4096},
		{name: "h-net", trace: "net-loopback.trace", bufferKB: 16}, // a few snapshots: the outage overflows it
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, h := range hosts {
		h.start(ctx, t, pushURL, 80*time.Second)
	}
	client, err := query.NewClient(pushURL, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three hosts in the fleet view", 15*time.Second, func() error { return hostsSeen(client, hosts) })

	// The outage: the store goes away for 30 s while the replays go on.
	before := make([]map[string]float64, len(hosts))
	for i, h := range hosts {
		before[i] = h.own(t)
	}
	vm.stop()
	down := time.Now()
	time.Sleep(outage)
	for i, h := range hosts {
		now := h.own(t)
		if now["ainka_events_total"] <= before[i]["ainka_events_total"] {
			t.Errorf("%s: decoded %v events before the outage and %v during it: the pipeline stalled",
				h.name, before[i]["ainka_events_total"], now["ainka_events_total"])
		}
		if now["refused"] == 0 || now["ainka_push_buffered_snapshots"] == 0 {
			t.Errorf("%s: during the outage %v refused posts counted, %v snapshots buffered; want both > 0", h.name, now["refused"], now["ainka_push_buffered_snapshots"])
		}
	}
	if d := hosts[2].own(t)["ainka_push_dropped_total"]; d == 0 {
		t.Errorf("%s: a 16 KiB buffer through a %v outage at 200 ms dropped nothing", hosts[2].name, outage)
	}
	startVM(t, vm)
	up := time.Now()
	checkResumed(t, hosts)
	checkFigures(t, client, hosts)
	checkGap(t, client, hosts, down, up)
	checkDashboard(t, client)
	cancel()
	for _, h := range hosts {
		if err := <-h.done; err != nil {
			t.Errorf("%s: replay: %v\n%s", h.name, err, h.log.String())
		}
	}
}

func hostsSeen(c *query.Client, hosts []*host) error {
	st, err := c.Status(context.Background())
	if err != nil {
		return err
	}
	if len(st) != len(hosts) {
		return fmt.Errorf("fleet status has %d hosts: %+v", len(st), st)
	}
	return nil
}

// checkResumed: every daemon empties its buffer once the store is back,
// says so once in its log, and logged the failure once (not per post).
func checkResumed(t *testing.T, hosts []*host) {
	t.Helper()
	waitFor(t, "every buffer emptied after the store returned", 20*time.Second, func() error {
		for _, h := range hosts {
			if n := h.own(t)["ainka_push_buffered_snapshots"]; n > 0 {
				return fmt.Errorf("%s still buffers %v snapshots", h.name, n)
			}
		}
		return nil
	})
	for _, h := range hosts {
		logs := h.log.String()
		// The first failure names the outage: refused, or lost when the
		// store stopped with a post in flight.
		named := strings.Contains(logs, "reason=refused") || strings.Contains(logs, "reason=lost")
		if n := strings.Count(logs, "metrics push failing"); n != 1 || !named {
			t.Errorf("%s: %d push warnings (want 1 a minute, naming reason=refused or reason=lost):\n%s", h.name, n, logs)
		}
		if !strings.Contains(logs, "metrics push resumed") {
			t.Errorf("%s: no 'metrics push resumed' in its log", h.name)
		}
	}
}

// checkGap: the two large buffers fill the outage in the store (no gap),
// the small one cannot: its oldest snapshots were dropped.
func checkGap(t *testing.T, c *query.Client, hosts []*host, down, up time.Time) {
	t.Helper()
	mid := down.Add(up.Sub(down) / 2)
	at := *c
	at.Now, at.Window = mid, time.Second
	for i, h := range hosts {
		q := `count_over_time(ainka_push_snapshots_total{host="` + h.name + `"}[{W}])`
		if i < 2 {
			waitFor(t, h.name+"'s buffered snapshots in the store", 10*time.Second, func() error {
				if got, err := at.Query(context.Background(), q); err != nil || len(got) == 0 {
					return fmt.Errorf("no sample taken in the middle of the outage (%v)", err)
				}
				return nil
			})
			continue
		}
		if got, err := at.Query(context.Background(), q); err != nil || len(got) != 0 {
			t.Errorf("%s: samples in the middle of the outage %v (%v); its %d KiB buffer cannot hold the outage", h.name, got, err, h.bufferKB)
		}
	}
}

// checkFigures: once the replays have ended (the daemons hold their final
// state), every host's row says what the daemon itself says.
func checkFigures(t *testing.T, c *query.Client, hosts []*host) {
	t.Helper()
	for _, h := range hosts {
		waitFor(t, h.name+"'s replay ended", 30*time.Second, func() error {
			if !strings.Contains(h.log.String(), "replay input ended") {
				return fmt.Errorf("still replaying")
			}
			return nil
		})
	}
	var st []query.Host
	waitFor(t, "the fleet view matching each daemon", 10*time.Second, func() error {
		var err error
		if st, err = c.Status(context.Background()); err != nil {
			return err
		}
		for _, h := range hosts {
			own, row := h.own(t), row(st, h.name)
			want := fmt.Sprintf("%s events %v decisions %v knobs %v push_dropped %v", h.name, own["ainka_events_total"],
				own["ainka_decisions_total"], own["knobs"], own["ainka_push_dropped_total"])
			got := fmt.Sprintf("%s events %v decisions %v knobs %v push_dropped %v", row.Host, row.Events, row.Decisions, row.Knobs, row.PushDropped)
			if got != want {
				return fmt.Errorf("fleet %s, daemon %s", got, want)
			}
		}
		return nil
	})
	if len(st) != 3 || st[0].Host != "h-cpu" || st[1].Host != "h-net" || st[2].Host != "h-seqread" {
		t.Errorf("fleet status rows, by host: %+v", st)
	}
	var out bytes.Buffer
	if err := c.Print(context.Background(), &out, "changes", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "h-seqread  readahead:vda") || !strings.Contains(out.String(), "tuner:readahead") {
		t.Errorf("fleet changes lacks the seqread host's readahead change by its tuner:\n%s", out.String())
	}
	for _, view := range []string{"status", "anomalies"} {
		var b bytes.Buffer
		var rows []map[string]any
		if err := c.Print(context.Background(), &b, view, true); err != nil || json.Unmarshal(b.Bytes(), &rows) != nil || len(rows) != 3 {
			t.Errorf("fleet %s --json: %v, %d rows:\n%s", view, err, len(rows), b.String())
		}
	}
	t.Logf("fleet status:\n%v\nfleet changes:\n%s", st, out.String())
}

func row(st []query.Host, name string) query.Host {
	for _, h := range st {
		if h.Host == name {
			return h
		}
	}
	return query.Host{}
}

func waitFor(t *testing.T, what string, limit time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkDashboard runs every query of the fleet Grafana dashboard against
// the store, Grafana's variables filled in: each must be valid and answer,
// the per-host panels for the three hosts.
func checkDashboard(t *testing.T, c *query.Client) {
	t.Helper()
	type target struct{ Expr string }
	type panel struct {
		Title   string
		Targets []target
	}
	var d struct{ Panels []panel }
	if b, err := os.ReadFile("../../deploy/grafana/fleet.json"); err != nil || json.Unmarshal(b, &d) != nil {
		t.Fatalf("fleet dashboard: %v", err)
	}
	vars := strings.NewReplacer("$host", ".*", "$__rate_interval", "1m", "$__range", "5m")
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			got, err := c.Query(context.Background(), vars.Replace(tg.Expr))
			hosts := map[string]bool{}
			for _, s := range got {
				hosts[s.Labels["host"]] = true
			}
			perHost := !strings.Contains(tg.Expr, "knob_change") && !strings.Contains(tg.Expr, "decisions") && !strings.Contains(tg.Expr, "push_")
			if err != nil || len(got) == 0 || (perHost && len(hosts) != 3) {
				t.Errorf("dashboard panel %q: %s: %v, hosts %v", p.Title, tg.Expr, err, hosts)
			}
		}
	}
}
