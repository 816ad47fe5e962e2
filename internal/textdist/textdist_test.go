package textdist

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"cpu_busy_pct", "cpu_busy_pct", 0},
		{"cpu_bsy_pct", "cpu_busy_pct", 1},   // insertion
		{"cpu_buusy_pct", "cpu_busy_pct", 1}, // deletion
		{"swapiness", "swappiness", 1},
		{"kitten", "sitting", 3}, // two substitutions and an insertion
	} {
		if got := Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := Distance(tc.b, tc.a); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, not symmetric", tc.b, tc.a, got)
		}
	}
}
