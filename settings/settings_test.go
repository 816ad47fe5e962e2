package settings

import (
	"testing"
	"time"

	"github.com/ainka/ainka/trace"
)

func TestFromHeader(t *testing.T) {
	kinds := []trace.KindConfig{{Kind: 1, Name: "syscall", Enabled: true, SampleEvery: 4}}
	s := FromHeader(trace.Header{CollectionIntervalMs: 250, BootOffsetNs: 42, Kinds: kinds})
	if s.Interval != 250*time.Millisecond || s.BootOffsetNs != 42 || len(s.Kinds) != 1 || s.Kinds[0].SampleEvery != 4 {
		t.Errorf("FromHeader = %+v", s)
	}
	if s.Lateness != 0 || s.HostPhase != 0 {
		t.Errorf("a replay keeps the default lateness and no host phase: %+v", s)
	}
	// An old trace without an interval, and a negative boot offset
	// (a damaged header), resolve to the defaults.
	s = FromHeader(trace.Header{BootOffsetNs: -5})
	if s.IntervalOrDefault() != DefaultInterval || s.BootOffsetNs != 0 {
		t.Errorf("empty header: interval %s boot offset %d", s.IntervalOrDefault(), s.BootOffsetNs)
	}
}

func TestLive(t *testing.T) {
	for _, tc := range []struct {
		interval, want, lateness, phase time.Duration
	}{
		{0, DefaultInterval, 2 * time.Millisecond, 100 * time.Microsecond},
		{100 * time.Millisecond, 100 * time.Millisecond, 2 * time.Millisecond, 100 * time.Microsecond},
		{8 * time.Millisecond, 8 * time.Millisecond, 2 * time.Millisecond, 100 * time.Microsecond},
		// Below 8 ms the aggregator's default lateness (half the
		// interval) stays, and there is no phase.
		{5 * time.Millisecond, 5 * time.Millisecond, 0, 0},
	} {
		s := Live(tc.interval)
		if s.Interval != tc.want || s.Lateness != tc.lateness || s.HostPhase != tc.phase {
			t.Errorf("Live(%s) = %+v, want interval %s lateness %s phase %s", tc.interval, s, tc.want, tc.lateness, tc.phase)
		}
	}
}
