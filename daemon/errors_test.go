package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestErrorKinds: marking an error gives it a kind without changing its
// message, through any wrapping.
func TestErrorKinds(t *testing.T) {
	base := errors.New("bad flag")
	u := fmt.Errorf("run: %w", Usagef("--x: %w", base))
	if !errors.Is(u, ErrUsage) || errors.Is(u, ErrNotReady) || !errors.Is(u, base) {
		t.Errorf("usage error kinds wrong: %v", u)
	}
	if u.Error() != "run: --x: bad flag" {
		t.Errorf("message %q", u.Error())
	}
	n := NotReadyError{Err: base}
	if !errors.Is(n, ErrNotReady) || errors.Is(n, ErrUsage) || n.Error() != "bad flag" {
		t.Errorf("not-ready error wrong: %v", n)
	}
}
