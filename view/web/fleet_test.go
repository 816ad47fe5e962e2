package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ainka/ainka/view"
	"github.com/ainka/ainka/view/web"
)

// vmAnswer is a VictoriaMetrics instant-query answer, one sample per
// "host=value" (extra labels after a comma: "h1=3,tuner=cpu").
func vmAnswer(samples ...string) string {
	var rs []string
	for _, s := range samples {
		labels, v, _ := strings.Cut(s, "=")
		m := map[string]string{"host": labels}
		if h, extra, ok := strings.Cut(labels, ","); ok {
			m["host"] = h
			k, val, _ := strings.Cut(extra, ":")
			m[k] = val
		}
		b, _ := json.Marshal(m)
		rs = append(rs, fmt.Sprintf(`{"metric":%s,"value":[1764312000,%q]}`, b, v))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(rs, ",") + `]}}`
}

// fakeStore answers /api/v1/query as VictoriaMetrics does for a fleet of
// two hosts; every query fleet/query makes has its canned answer.
func fakeStore(t *testing.T, queries *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.Error(w, "unsupported path "+r.URL.Path, http.StatusBadRequest)
			return
		}
		queries.Add(1)
		q := r.URL.Query().Get("query")
		var a string
		switch {
		case strings.Contains(q, "ainka_push_snapshots_total"):
			a = vmAnswer("web-1=1764311990", "db-1=1764311995")
		case strings.Contains(q, "ainka_engine_state"):
			a = vmAnswer("web-1=1", "db-1=2")
		case strings.Contains(q, "ainka_joint_anomaly_score"):
			a = vmAnswer("web-1=0.12", "db-1=0.87")
		case strings.Contains(q, "ainka_events_total"):
			a = vmAnswer("web-1=120000", "db-1=450000")
		case strings.Contains(q, "ainka_decisions_total"):
			a = vmAnswer("web-1=3", "db-1=7")
		case strings.Contains(q, "ainka_tuner_gain_pct"):
			a = vmAnswer("db-1,tuner:cpu=12.5")
		default: // drops, push losses, knob changes: none
			a = vmAnswer()
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, a)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func fleetServer(t *testing.T, fleetURL string) string {
	t.Helper()
	rec := view.NewRecorder(view.Sources{Mode: "replay"})
	s, err := web.Listen(web.Options{Addr: "127.0.0.1:0", Snapshot: rec.Snapshot, Timeline: rec.Timeline, FleetURL: fleetURL})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(t.Context())
	return "http://" + s.Addr()
}

type fleetJSON struct {
	Store string `json:"store"`
	Hosts []struct {
		Host  string             `json:"host"`
		State string             `json:"state"`
		Joint float64            `json:"joint_anomaly_score"`
		Gain  map[string]float64 `json:"tuner_gain_pct"`
	} `json:"hosts"`
	Error string `json:"error"`
}

func getFleet(t *testing.T, base string) (int, fleetJSON, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/fleet")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var f fleetJSON
	json.Unmarshal(body, &f)
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "default-src 'self'" {
		t.Errorf("/api/fleet's CSP %q, want default-src 'self'", csp)
	}
	return resp.StatusCode, f, string(body)
}

// The fleet page's data: the daemon reads the hosts from the store
// (VictoriaMetrics' query API, answered here by a fake with its JSON),
// once per 10 s however many viewers ask; the page is read-only.
func TestFleetAPI(t *testing.T) {
	var queries atomic.Int64
	store := fakeStore(t, &queries)
	base := fleetServer(t, "http://user:secret@"+strings.TrimPrefix(store.URL, "http://"))
	code, f, body := getFleet(t, base)
	if code != http.StatusOK || f.Error != "" || len(f.Hosts) != 2 {
		t.Fatalf("HTTP %d: %s; want 2 hosts", code, body)
	}
	db, w := f.Hosts[0], f.Hosts[1]
	if db.Host != "db-1" || db.State != "anomaly_detection" || db.Joint != 0.87 || db.Gain["cpu"] != 12.5 ||
		w.Host != "web-1" || w.State != "optimizing" {
		t.Errorf("hosts %+v", f.Hosts)
	}
	if strings.Contains(body, "secret") {
		t.Errorf("the store's password reaches the browser: %s", body)
	}
	n := queries.Load()
	for range 5 {
		getFleet(t, base)
	}
	if queries.Load() != n {
		t.Errorf("5 more viewers asked the store %d more times, want 0 (cached 10 s)", queries.Load()-n)
	}
	resp, err := http.Post(base+"/api/fleet", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/fleet: HTTP %d, want 405", resp.StatusCode)
	}
}

// Without fleet_url there is no fleet page (204, not an error a browser
// logs); a store that cannot be read
// is a 502 naming the store and why; a bad fleet_url is one error at
// start.
func TestFleetAPIBadStore(t *testing.T) {
	resp, err := http.Get(fleetServer(t, "") + "/api/fleet")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("X-Ainka-Fleet"), "fleet_url") {
		t.Errorf("no fleet_url: HTTP %d %q, want 204 naming fleet_url", resp.StatusCode, resp.Header.Get("X-Ainka-Fleet"))
	}
	code, f, body := getFleet(t, fleetServer(t, "http://127.0.0.1:1"))
	if code != http.StatusBadGateway || !strings.Contains(f.Error, "connection refused") || f.Store != "http://127.0.0.1:1" {
		t.Errorf("unreachable store: HTTP %d %s, want 502 naming the refusal", code, body)
	}
	if _, _, body := getFleet(t, fleetServer(t, "http://u:secret@127.0.0.1:1")); strings.Contains(body, "secret") {
		t.Errorf("the store's password reaches the browser in an error: %s", body)
	}
	wrong := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>not a store</html>", http.StatusNotFound)
	}))
	defer wrong.Close()
	if code, f, _ := getFleet(t, fleetServer(t, wrong.URL)); code != http.StatusBadGateway || !strings.Contains(f.Error, "not a Prometheus API answer") {
		t.Errorf("a server that is not a store: HTTP %d %q", code, f.Error)
	}
	_, err = web.Listen(web.Options{Addr: "127.0.0.1:0", FleetURL: "vm:8428",
		Snapshot: func() view.Snapshot { return view.Snapshot{} }, Timeline: func(uint64) []view.Event { return nil }})
	if !errors.Is(err, web.ErrFleetURL) || !strings.Contains(err.Error(), "vm:8428") {
		t.Errorf("fleet_url vm:8428: %v, want ErrFleetURL naming it", err)
	}
}

// The fleet page in a real headless Chromium: the nav shows it once the
// daemon says a store is set, and the hosts table lists the store's
// hosts, with no console error.
func TestFleetPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := chromium(t)
	var queries atomic.Int64
	base := fleetServer(t, fakeStore(t, &queries).URL)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(bin), chromedp.Headless,
		chromedp.NoSandbox, chromedp.Flag("disable-gpu", true))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	consoleErrors := watchConsole(ctx)
	wait, cancelW := context.WithTimeout(ctx, 60*time.Second)
	defer cancelW()
	ready := `!document.querySelector("#nav-fleet").hidden &&
		[...document.querySelectorAll("#fleet tr.host")].map(r => r.dataset.host).join() === "db-1,web-1" &&
		document.querySelector('#fleet tr[data-host="db-1"]').textContent.includes("cpu +12.5 %")`
	_, err := chromedp.Run(wait, chromedp.Steps(chromedp.Navigate(base+"/#fleet"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](ready, chromedp.WithPollingInterval(200*time.Millisecond))(ctx, tg)
			return err
		})))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		t.Fatalf("the fleet page did not list the hosts: %v\n%s", err, text)
	}
	if bad := consoleErrors(); len(bad) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(bad, "\n"))
	}
}
