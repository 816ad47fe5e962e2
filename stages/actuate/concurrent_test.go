package actuate

import (
	"sync"
	"testing"

	"github.com/ainka/ainka/stages/decide"
)

// Control methods run on other goroutines than Process; run with -race.
func TestControlWhileActuating(t *testing.T) {
	_, cfg := fakeSys(t)
	cfg.MaxWritesPerS = 1 << 20
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds := []decide.Decision{dec(t, "sysctl vm.swappiness -= 1"), dec(t, "readahead fake0 += 1")}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			s.Process(ds, nil)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			s.Changes()
			s.RollbackCommands()
			if i%20 == 0 {
				s.Rollback()
			}
		}
	}()
	wg.Wait()
	s.Rollback()
	if n := len(s.Changes()); n != 0 {
		t.Errorf("%d changes open after rollback", n)
	}
}
