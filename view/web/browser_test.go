package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ainka/ainka/daemon"
)

// chromium finds the browser, or skips the test naming what is missing
// (CI installs Debian's chromium: scripts/dev-packages.txt).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH: apt-get install chromium (make dev-setup installs it) to run the browser tests")
	return ""
}

// The dashboard in a real headless Chromium, against a daemon replaying a
// trace: every page loads without a console error, the charts have data
// points, the replay's decision is on the timeline, and each page is
// written as a PNG ($AINKA_SCREENSHOTS, else the test's temporary
// directory; docs/dashboard-*.png are these).
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and replays for seconds")
	}
	bin := chromium(t)
	base := startReplay(t)
	shots := screenshotDir(t)
	ctx, consoleErrors := openBrowser(t, bin, base+"/#overview")
	pages := []struct{ page, ready string }{
		{"overview", `document.querySelectorAll("#kinds tr").length > 1 && document.querySelectorAll("#stages tr").length > 1 &&
			document.querySelectorAll("#top svg.plot").length > 0`},
		{"features", `[...document.querySelectorAll("#features svg.plot")].filter(s => +s.dataset.points > 5).length >= 5`},
		{"timeline", `document.querySelectorAll('#timeline tr.ev[data-policy="busy"][data-kind="apply"]').length > 0 &&
			+document.querySelector("#tlchart svg").dataset.points > 0`},
		{"knobs", `[...document.querySelectorAll("#journal td")].some(td => td.textContent.includes("sysctl:vm.swappiness"))`},
		{"tuners", `document.querySelectorAll("#tuners tr").length > 1 && document.querySelector("#regime").textContent.includes("regime")`},
		{"policies", `document.querySelector('#policies tr[data-policy="busy"]') !== null`},
	}
	for _, p := range pages {
		showPage(t, ctx, p.page, p.ready, filepath.Join(shots, "dashboard-"+p.page+".png"))
	}
	stats, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({updates: ainka.updates,
		p99: ainka.latencies.slice().sort((a,b)=>a-b)[Math.floor(0.99*(ainka.latencies.length-1))],
		render: Math.max(...ainka.renders)})`))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("browser: %v updates, p99 latency %v ms, slowest render %.1f ms", stats["updates"], stats["p99"], stats["render"])
	if bad := consoleErrors(); len(bad) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(bad, "\n"))
	}
}

// screenshotDir is $AINKA_SCREENSHOTS, else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("AINKA_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// openBrowser starts headless Chromium (closed when the test ends) on url
// and returns its context and the console errors seen so far.
func openBrowser(t *testing.T, bin, url string) (context.Context, func() []string) {
	t.Helper()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(bin), chromedp.Headless,
		chromedp.NoSandbox, chromedp.WindowSize(1400, 1000), chromedp.Flag("disable-gpu", true))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	consoleErrors := watchConsole(ctx) // starts the browser; subscribed before the first page
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	return ctx, consoleErrors
}

// showPage opens a page of the dashboard, waits until the script ready
// is true (60 s at most) and writes a screenshot to path.
func showPage(t *testing.T, ctx context.Context, page, ready, path string) {
	t.Helper()
	wait, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err := chromedp.Run(wait, chromedp.Steps(
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[any](fmt.Sprintf("location.hash = %q", "#"+page))(ctx, tg)
			return err
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[bool](ready, chromedp.WithPollingInterval(200*time.Millisecond))(ctx, tg)
			return err
		})))
	cancel()
	if err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
		t.Fatalf("page %s: not ready (%s): %v\n%s", page, ready, err, html)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", page, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s (%d bytes)", page, path, len(png))
}

// TestDashboardShowsAnomalies replays the kernel-fault benchmark
// (testdata/faults: minutes of event time, faults injected) as fast as it
// goes and holds its end: past the detectors' learning, the features page
// must draw forecast intervals and shade the spans whose anomaly score
// reached 0.5 (the last minute holds the loopback network flood).
func TestDashboardShowsAnomalies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser and replays a 20 MB trace")
	}
	bin := chromium(t)
	base := startReplayOf(t, daemon.ReplayOptions{Path: "../../testdata/faults/faults.trace", Speed: 0, Repeat: 1, Hold: true})
	shots := screenshotDir(t)
	ctx, consoleErrors := openBrowser(t, bin, base+"/#features")
	showPage(t, ctx, "features", `!document.querySelector("header").textContent.includes("learning") &&
		document.querySelectorAll("#features svg.plot rect.anom").length > 0 &&
		document.querySelectorAll("#features svg.plot polygon.band").length >= 5`,
		filepath.Join(shots, "dashboard-anomalies.png"))
	if bad := consoleErrors(); len(bad) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(bad, "\n"))
	}
}

// watchConsole collects the page's console errors and exceptions; the
// function returned lists those seen so far.
func watchConsole(ctx context.Context) func() []string {
	var mu sync.Mutex
	var bad []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				bad = append(bad, m.String()+" at "+m.URL)
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bad...)
	}
}
