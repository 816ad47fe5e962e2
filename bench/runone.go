package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// one runs a scenario once under an arm: verify the host, start the
// arm's daemon, setup, workload, metric, teardown, stop the daemon,
// verify the host again. Teardown and stop run whatever happened before,
// with a context of their own (ctx may be cancelled by Ctrl-C).
func (r *runner) one(ctx context.Context, spec Spec, a armValue, rep int) (*Run, error) {
	run := &Run{Scenario: spec.Name, Arm: a.arm, KnobValue: a.value, Repeat: rep, Start: time.Now()}
	if diff, err := r.verifyHost(); err != nil {
		run.Error = err.Error()
		return run, err
	} else if len(diff) > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("host differed from the baseline before the run (restored): %v", diff))
	}
	dir, err := os.MkdirTemp(r.opt.WorkDir, spec.Name+"-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dir)
	armDir := filepath.Join(r.opt.OutDir, "logs", fmt.Sprintf("%s-%s%s-%d", spec.Name, a.arm, valueSuffix(a.value), rep))
	if err := os.MkdirAll(armDir, 0o755); err != nil {
		return run, err
	}
	env := &Env{Dir: dir, Duration: r.duration(spec), Quick: r.opt.Quick, KnobValue: a.value, Self: r.opt.Self, Log: r.opt.Log,
		Baseline: r.baseline.Files}
	d := r.daemonFor(a.arm)
	tunedFiles := saveTunedFiles()
	s := spec.New()
	werr := r.measure(ctx, s, spec, env, d, armDir, run)
	if d != nil {
		if err := d.stop(); err != nil {
			run.Notes = append(run.Notes, "stop "+a.arm+": "+err.Error())
		}
	}
	var armLeft []string
	if aa, ok := s.(afterArm); ok {
		armLeft = aa.AfterArm(env)
	}
	if note := tunedFiles.restore(); note != "" {
		run.Notes = append(run.Notes, note)
	}
	run.Seconds = time.Since(run.Start).Seconds()
	if werr != nil {
		run.Error = werr.Error()
		if errors.Is(werr, context.Canceled) {
			run.Error = "interrupted"
		}
	}
	diff, err := r.verifyHost()
	run.HostDiff = append(armLeft, diff...)
	if err != nil {
		return run, err
	}
	return run, nil
}

// afterArm is implemented by scenarios whose setup changes host state
// that an arm's daemon may also change (the readahead of the loop device
// the scenario attaches): it checks what the arm left once the daemon has
// stopped, returns what it left changed, and puts the state back.
type afterArm interface {
	AfterArm(env *Env) []string
}

// measure starts the daemon and runs the scenario's four steps,
// recording the load beside it.
func (r *runner) measure(ctx context.Context, s Scenario, spec Spec, env *Env, d daemon, armDir string, run *Run) error {
	if d != nil {
		if err := d.start(ctx, spec, armDir); err != nil {
			return fmt.Errorf("start %s: %w", run.Arm, err)
		}
	}
	defer func() {
		tctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.Teardown(tctx, env); err != nil {
			run.Notes = append(run.Notes, "teardown: "+err.Error())
		}
	}()
	if err := s.Setup(ctx, env); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	run.Load.LoadAvg1Start = loadAvg1()
	before := sampleCPU()
	err := s.Workload(ctx, env)
	after := sampleCPU()
	run.Load.LoadAvg1End = loadAvg1()
	run.Load.OthersCPUPct, run.Load.Others = foreignLoad(before, after)
	run.Load.Busy = run.Load.OthersCPUPct > busyThreshold
	if err != nil {
		return fmt.Errorf("workload: %w", err)
	}
	f, err := s.Metric(env)
	if err != nil {
		return fmt.Errorf("metric: %w", err)
	}
	run.Figures = f
	return nil
}

func (r *runner) duration(spec Spec) time.Duration {
	if r.opt.Duration > 0 {
		return r.opt.Duration
	}
	if r.opt.Quick {
		return 8 * time.Second
	}
	return 30 * time.Second
}

// daemonFor returns the arm's daemon, nil for arms without one.
func (r *runner) daemonFor(arm string) daemon {
	switch arm {
	case ArmTuned:
		return &tunedDaemon{}
	case ArmAinka, ArmPolicies:
		a := r.ainka[arm]
		if a == nil {
			a = &ainkaDaemon{bin: r.opt.AinkaBin, userCfg: r.opt.AinkaConfig, stateDir: filepath.Join(r.opt.OutDir, "state", arm)}
			if arm == ArmPolicies {
				a.policies = r.opt.Policies
			}
			r.ainka[arm] = a
		}
		return &ainkaDaemon{bin: a.bin, userCfg: a.userCfg, policies: a.policies, stateDir: a.stateDir}
	}
	return nil
}

// tunedFiles are tuned's own state files (/etc/tuned/active_profile,
// profile_mode): tuned records the profile it was started with there
// and leaves it. They are not tuning, but they are the host's: the suite
// puts them back and says so.
type tunedFiles map[string][]byte

func saveTunedFiles() tunedFiles {
	t := tunedFiles{}
	for _, p := range []string{"/etc/tuned/active_profile", "/etc/tuned/profile_mode"} {
		if b, err := os.ReadFile(p); err == nil {
			t[p] = b
		}
	}
	return t
}

func (t tunedFiles) restore() string {
	var changed []string
	for p, b := range t {
		now, err := os.ReadFile(p)
		if err == nil && string(now) == string(b) {
			continue
		}
		changed = append(changed, p)
		_ = os.WriteFile(p, b, 0o644)
	}
	if len(changed) == 0 {
		return ""
	}
	return fmt.Sprintf("tuned rewrote its state files %v; put back", changed)
}
