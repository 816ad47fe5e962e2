package control_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ainka/ainka/control"
	"github.com/ainka/ainka/control/controltest"
)

// TestListenKeepsNonSocket: --socket PATH naming a file, a directory or a
// symlink is refused and the thing at PATH is left as it was; only a
// stale socket is replaced (issue 16, defect 7).
func TestListenKeepsNonSocket(t *testing.T) {
	dir := controltest.SocketDir(t)
	file := filepath.Join(dir, "precious")
	os.WriteFile(file, []byte("keep\n"), 0o600)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	link := filepath.Join(dir, "link")
	os.Symlink(file, link)
	for path, kind := range map[string]string{file: "regular file", sub: "directory", link: "symbolic link"} {
		s, _ := control.NewServer(controltest.NewFakeDaemon(), control.Options{SocketPath: path})
		err := s.Listen()
		if !errors.Is(err, control.ErrNotSocket) || !strings.Contains(err.Error(), kind) {
			t.Errorf("%s: Listen = %v, want ErrNotSocket naming a %s", path, err, kind)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s removed: %v", path, err)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep\n" {
		t.Errorf("file content %q", b)
	}
	// a stale socket (no one answers) is still replaced
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	s2, _ := control.NewServer(controltest.NewFakeDaemon(), control.Options{SocketPath: stale})
	if err := s2.Listen(); err != nil {
		t.Errorf("stale socket not replaced: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2.Serve(ctx) // shuts down at once, removing the socket
}
