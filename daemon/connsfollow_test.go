package daemon

import (
	"testing"

	"github.com/ainka/ainka/config"
)

// TestConnsFollowOnlyWhenActing: a congestion-control change moves open
// connections (and the TCP tuner counts on it) only in a live daemon
// that acts; a dry run and a replay change nothing and measure as if
// connections kept theirs.
func TestConnsFollowOnlyWhenActing(t *testing.T) {
	for _, c := range []struct {
		name       string
		live, dry  bool
		wantFollow bool
	}{{"live", true, false, true}, {"dry run", true, true, false}, {"replay", false, false, false}} {
		cfg := config.Default()
		cfg.Daemon.WorkDir, cfg.Daemon.DryRun = t.TempDir(), c.dry
		s, err := stageConfigs(ChainOptions{Live: c.live, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Actuate.OpenConns != nil; got != c.wantFollow || s.Tune.ConnsFollow != c.wantFollow {
			t.Errorf("%s: open connections switched %v, tuner told %v; want %v", c.name, got, s.Tune.ConnsFollow, c.wantFollow)
		}
	}
}
