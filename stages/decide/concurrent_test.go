package decide

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ainka/ainka/stages/features"
	"github.com/ainka/ainka/stages/predict"
)

// The control methods run on the control API's goroutines while the
// pipeline calls Process; run with -race.
func TestControlWhileProcessing(t *testing.T) {
	s := newStage(t, Config{}, Policy{Name: "base", Condition: "cpu > 50", Action: "notify", Enabled: true})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		out := make([]Decision, 0, 8)
		for i := uint64(1); i <= 2000; i++ {
			out = s.Process([]predict.Output{win(i*sec, map[features.ID]float64{features.CPUBusyPct: float64(i % 100)}, 0.1)}, out[:0])
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			name := fmt.Sprintf("p%d", i)
			if err := s.AddPolicy(Policy{Name: name, Condition: "cpu > 10", Action: "notify", Enabled: true}); err != nil {
				t.Error(err)
				return
			}
			s.Policies()
			s.State()
			s.SetEmergency(i%2 == 0)
			s.Optimize(uint64(i + 1))
			if err := s.RemovePolicy(name); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	if n := len(s.Policies()); n != 1 {
		t.Errorf("%d policies left", n)
	}
}
