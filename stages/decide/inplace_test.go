package decide

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// aged sets f's modification time in the past, as a file written long
// before the reload.
func aged(t *testing.T, f string) {
	t.Helper()
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(f, old, old); err != nil {
		t.Fatal(err)
	}
}

// TestReloadEmptyKeepsRunning: an empty policy file does not revert a
// running set unless it says it is meant to be empty (issue 16, defect
// 15: 176 of 243 cp+SIGHUP reloads loaded 0 policies).
func TestReloadEmptyKeepsRunning(t *testing.T) {
	f := writePolicies(t, 3)
	s, err := New(Config{PolicyFile: f, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, empty := range []string{"", "\n\n", "# comments only\n"} {
		os.WriteFile(f, []byte(empty), 0o644)
		aged(t, f)
		err := s.Reload()
		if !errors.Is(err, ErrEmptyPolicyFile) || !strings.Contains(err.Error(), EmptyMarker) || s.State().Policies != 3 {
			t.Errorf("empty file %q: err %v, %d policies; want ErrEmptyPolicyFile naming the marker, 3 kept", empty, err, s.State().Policies)
		}
	}
	os.WriteFile(f, []byte(EmptyMarker+"\n"), 0o644)
	aged(t, f)
	if err := s.Reload(); err != nil || s.State().Policies != 0 {
		t.Errorf("file with the marker: %v, %d policies", err, s.State().Policies)
	}
	// starting from an empty file needs no marker: nothing runs yet
	os.WriteFile(f, nil, 0o644)
	aged(t, f)
	if _, err := New(Config{PolicyFile: f, Logger: quiet}); err != nil {
		t.Errorf("start with an empty file: %v", err)
	}
}

// TestReloadInPlaceWrite: the file is rewritten in place (truncated, then
// written in two parts 40 ms apart, as cp of a large file does) and
// reloaded 5 ms after the truncation, 20 times: every reload loads the
// whole file, none a part of it or nothing.
func TestReloadInPlaceWrite(t *testing.T) {
	f := writePolicies(t, 4)
	aged(t, f)
	s, err := New(Config{PolicyFile: f, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	full := policyText(8)
	cut := len(full) / 2
	for i := 0; i < len(full)/2; i++ { // cut at a policy boundary: the half alone parses
		if strings.HasPrefix(string(full[cut:]), "[[policy]]") {
			break
		}
		cut++
	}
	for i := range 20 {
		w, err := os.OpenFile(f, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.Write(full[:cut])
			time.Sleep(40 * time.Millisecond)
			w.Write(full[cut:])
			w.Close()
		}()
		time.Sleep(5 * time.Millisecond)
		err = s.Reload()
		<-done
		if n := s.State().Policies; err == nil && n != 8 {
			t.Fatalf("reload %d during an in-place write loaded %d policies, want all 8 (or an error)", i, n)
		}
		os.WriteFile(f, policyText(4), 0o644) // back to 4 for the next round
		aged(t, f)
		if err := s.Reload(); err != nil || s.State().Policies != 4 {
			t.Fatalf("reset to 4: %v %d", err, s.State().Policies)
		}
	}
}
