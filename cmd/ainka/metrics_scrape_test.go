package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics and parses it with Prometheus' own text parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("Prometheus cannot parse /metrics: %v", err)
	}
	return fams
}

// The daemon's /metrics as Prometheus reads it: every family has help
// text and a type, the batch durations are a Prometheus histogram, and
// the decisions, actuations, scores, forecasts and state are there.
func TestMetricsScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	startReplayDaemon(t, "--policy", busyPolicy(t), "--metrics-addr", addr)
	var fams map[string]*dto.MetricFamily
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for fams = scrape(t, addr); fams["ainka_decisions_total"] == nil; fams = scrape(t, addr) {
		if ctx.Err() != nil {
			t.Fatalf("no ainka_decisions_total after 30 s; families: %d", len(fams))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, f := range fams {
		switch {
		case f.GetHelp() == "":
			t.Errorf("%s has no help text", name)
		case strings.HasPrefix(name, "ainka_") && strings.HasPrefix(f.GetHelp(), "AINKA metric "):
			t.Errorf("%s has no help of its own (daemon/metrichelp.go): %q", name, f.GetHelp())
		case f.GetType() == dto.MetricType_UNTYPED:
			t.Errorf("%s has no type", name)
		}
	}
	h := fams["ainka_stage_batch_duration_seconds"]
	if h.GetType() != dto.MetricType_HISTOGRAM || len(h.Metric[0].GetHistogram().GetBucket()) < 10 {
		t.Errorf("batch durations: type %v, want a histogram with le buckets", h.GetType())
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.Label {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	// The tuners' advice is counted beside the policy's change: find the
	// policy's series among them.
	find := func(family, name, value string) *dto.Metric {
		for _, m := range fams[family].GetMetric() {
			if label(m, name) == value {
				return m
			}
		}
		t.Errorf("%s has no series with %s=%q: %v", family, name, value, fams[family].GetMetric())
		return &dto.Metric{}
	}
	d := find("ainka_decisions_total", "policy", "busy")
	if label(d, "action") != "sysctl vm.swappiness += 1" || label(d, "status") != "dry_run" || d.GetCounter().GetValue() < 1 {
		t.Errorf("ainka_decisions_total %v", d)
	}
	if a := find("ainka_actuations_total", "kind", "sysctl"); label(a, "status") != "dry_run" || a.GetCounter().GetValue() < 1 {
		t.Errorf("ainka_actuations_total %v", a)
	}
	if n := len(fams["ainka_anomaly_score"].GetMetric()); n < 20 || len(fams["ainka_forecast"].GetMetric()) != n {
		t.Errorf("%d anomaly scores, %d forecasts: want one of each per feature", n, len(fams["ainka_forecast"].GetMetric()))
	}
	for name, want := range map[string]float64{"ainka_engine_state": 0, "ainka_emergency": 0, "ainka_knobs_changed": 0} {
		if f := fams[name]; f == nil || f.Metric[0].GetGauge().GetValue() != want {
			t.Errorf("%s = %v, want %v (a replay learning, advice only)", name, f, want)
		}
	}
	if fams["ainka_joint_anomaly_score"] == nil {
		t.Error("no ainka_joint_anomaly_score")
	}
}
