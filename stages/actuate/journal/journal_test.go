package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	j, open, err := Open(p)
	if err != nil || len(open) != 0 {
		t.Fatal(err, open)
	}
	j.Intent("a", "file", "/x/a", "1", "2", "pol", "why")
	j.Applied("a", "2")
	j.Intent("a", "file", "/x/a", "2", "3", "pol", "why") // orig stays 1
	j.Intent("b", "file", "/x/b", "7", "8", "pol", "why")
	j.Restored("b")
	j.Close()
	// crash: a torn last line is dropped
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":99,"op":"set","key":"c","orig":"5`)
	f.Close()

	j, open, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Key != "a" || open[0].Orig != "1" || open[0].Written != "3" || open[0].Path != "/x/a" {
		t.Fatalf("open = %+v", open)
	}
	j.Yielded("a")
	if st, _ := os.Stat(p); st.Size() != 0 {
		t.Errorf("journal not compacted: %d bytes", st.Size())
	}
	j.Intent("d", "file", "/x/d", "1", "2", "", "")
	j.Close()
	_, open, _ = Open(p)
	if len(open) != 1 || open[0].Key != "d" {
		t.Errorf("after compaction: %+v", open)
	}
}

func TestCorrupt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "j")
	os.WriteFile(p, []byte("{\"op\":\"set\"}\nnot json\n{}\n"), 0o600)
	_, _, err := Open(p)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v", err)
	}
	if _, _, err := Open(filepath.Join(p, "sub", "j")); err == nil {
		t.Error("journal under a file opened")
	}
}
