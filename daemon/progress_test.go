package daemon

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, total: 200}
	p.draw(100, time.Second)
	got := buf.String()
	if !strings.HasPrefix(got, "\r[===============               ]  50% 100 events 0.00M/s") {
		t.Fatalf("progress line %q", got)
	}
	buf.Reset()
	p.draw(500, time.Second) // past the estimate (a damaged tail): capped
	if !strings.Contains(buf.String(), "100%") {
		t.Fatalf("progress line %q", buf.String())
	}
	if isTerminal(&buf) {
		t.Fatal("a buffer is not a terminal")
	}
}
