package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
)

// Arm names.
const (
	ArmUntuned  = "untuned"
	ArmTuned    = "tuned"
	ArmAinka    = "ainka"
	ArmPolicies = "ainka+policies"
	ArmOracle   = "oracle"
)

// Arms lists every arm, in the order runs interleave them.
var Arms = []string{ArmUntuned, ArmTuned, ArmAinka, ArmPolicies, ArmOracle}

// ErrUnknown is returned for an unknown scenario or arm name.
var ErrUnknown = errors.New("unknown")

// daemon is what an arm runs beside the workload.
type daemon interface {
	start(ctx context.Context, spec Spec, dir string) error
	stop() error
}

// tunedDaemon is Debian's tuned, run as a real daemon with the
// scenario's profile, without D-Bus; it rolls its changes back when it
// stops (SIGTERM), which the suite verifies.
type tunedDaemon struct {
	bg  *background
	log string
}

func (t *tunedDaemon) start(ctx context.Context, spec Spec, dir string) error {
	t.log = filepath.Join(dir, "tuned.log")
	c := command("tuned", "--no-dbus", "--no-socket", "--profile", spec.TunedProfile, "--log", t.log, "--pid", filepath.Join(dir, "tuned.pid"))
	bg, err := startBackground(c)
	if err != nil {
		return err
	}
	t.bg = bg
	// tuned logs this line once every plugin has applied the profile.
	return waitFor(ctx, 30*time.Second, bg, func() bool {
		b, _ := os.ReadFile(t.log)
		return strings.Contains(string(b), "static tuning from profile")
	}, "tuned to apply profile "+spec.TunedProfile)
}

func (t *tunedDaemon) stop() error {
	if t.bg == nil {
		return nil
	}
	t.bg.stop()
	if err := <-t.bg.done; err != nil && !isSignalExit(err) {
		return fmt.Errorf("tuned: %w: %s", err, tail(t.bg.errb.String(), 300))
	}
	return nil
}

// ainkaDaemon is `ainka run` as a user starts it: the configuration is
// the installed service's (packaging/config.toml, or --ainka-config), with
// only its paths moved into the suite's directory so that the suite never
// touches /var/lib/ainka or /run/ainka.
type ainkaDaemon struct {
	bin      string
	userCfg  string // "" = defaults
	policies string // "" = no policy file
	stateDir string // kept across runs of one arm: the learned model persists
	bg       *background
	logPath  string
}

func (a *ainkaDaemon) start(ctx context.Context, spec Spec, dir string) error {
	cfgPath := filepath.Join(dir, "ainka.toml")
	sock := filepath.Join(dir, "ainka.sock")
	if err := a.writeConfig(cfgPath, sock, dir); err != nil {
		return err
	}
	a.logPath = filepath.Join(dir, "ainka.log")
	logf, err := os.Create(a.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	c := command(a.bin, "run", "--config", cfgPath)
	c.Stdout, c.Stderr = logf, logf
	bg, err := startBackground(c)
	if err != nil {
		return err
	}
	a.bg = bg
	return waitFor(ctx, 30*time.Second, bg, func() bool {
		_, err := os.Stat(sock)
		return err == nil
	}, "ainka to open its control socket")
}

// writeConfig writes the daemon's configuration: the user's file (if
// any) with the state, socket, pid and policy paths set by the suite.
func (a *ainkaDaemon) writeConfig(path, sock, dir string) error {
	cfg := map[string]map[string]any{}
	if a.userCfg != "" {
		if _, err := toml.DecodeFile(a.userCfg, &cfg); err != nil {
			return fmt.Errorf("ainka config %s: %w", a.userCfg, err)
		}
	}
	set := func(sec, key string, v any) {
		if cfg[sec] == nil {
			cfg[sec] = map[string]any{}
		}
		cfg[sec][key] = v
	}
	set("daemon", "pid_file", filepath.Join(dir, "ainka.pid"))
	set("daemon", "work_dir", a.stateDir)
	set("daemon", "socket_path", sock)
	set("ml", "model_path", filepath.Join(a.stateDir, "model.bin"))
	// The tuners' learned settings too: kept across the arm's runs, never
	// the host's /var/lib/ainka/tuners.model.
	set("tuners", "model_path", filepath.Join(a.stateDir, "tuners.model"))
	switch {
	case a.policies != "":
		set("policy", "policy_file", a.policies)
	case a.userCfg == "" || cfg["policy"]["policy_file"] == nil:
		set("policy", "policy_file", filepath.Join(dir, "no-policies.toml"))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return toml.NewEncoder(f).Encode(cfg)
}

func (a *ainkaDaemon) stop() error {
	if a.bg == nil {
		return nil
	}
	_ = syscall.Kill(a.bg.cmd.Process.Pid, syscall.SIGTERM) // the daemon restores its knobs on SIGTERM
	select {
	case err := <-a.bg.done:
		if err != nil {
			return fmt.Errorf("ainka exited with %w (log %s)", err, a.logPath)
		}
		return nil
	case <-time.After(20 * time.Second):
		a.bg.stop()
		return fmt.Errorf("ainka did not exit within 20 s of SIGTERM; killed (log %s)", a.logPath)
	}
}

// waitFor polls ready until it holds, the process exits, ctx ends or the
// timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, bg *background, ready func() bool, what string) error {
	deadline := time.Now().Add(timeout)
	for !ready() {
		select {
		case err := <-bg.done:
			bg.done <- err
			return fmt.Errorf("waiting for %s: the process exited (%v): %s", what, err, tail(bg.errb.String(), 300))
		case <-ctx.Done():
			bg.stop()
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			bg.stop()
			return fmt.Errorf("waiting for %s: not ready after %s", what, timeout)
		}
	}
	return nil
}

func isSignalExit(err error) bool {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
			return ws.Signaled() || ws.ExitStatus() == 143
		}
	}
	return false
}
