package genl

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestClientContract runs one table over the Client interface against
// the fake (everywhere) and the real module (inside the VM, where
// ainka_core is loaded): both must give the same answers. Requests the
// module would refuse for their values never reach it: the module's own
// count of rejected requests does not move.
func TestClientContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		f := NewFake()
		t.Cleanup(func() { f.Close() })
		contract(t, f)
	})
	t.Run("module", func(t *testing.T) { contract(t, dialVM(t)) })
}

// contractCase is one request and the error both clients must return
// (nil: success); errno, when set, must be wrapped too.
type contractCase struct {
	name  string
	call  func(ctx context.Context, c Client) error
	want  error
	errno syscall.Errno
}

func contractCases() []contractCase {
	ok := Policy{ID: 0xA1CE0, Metric: MetricMemAvailableKB, Cmp: CmpLT, Threshold: 1, Action: ActionNotify}
	var cs []contractCase
	bad := func(name string, m func(*Policy)) {
		p := ok
		m(&p)
		cs = append(cs, contractCase{name: "SetPolicy " + name, want: ErrInvalid,
			call: func(ctx context.Context, c Client) error { return c.SetPolicy(ctx, p) }})
	}
	bad("id 0", func(p *Policy) { p.ID = 0 })
	bad("metric 0", func(p *Policy) { p.Metric = 0 })
	bad("metric 99", func(p *Policy) { p.Metric = 99 })
	bad("cmp 7", func(p *Policy) { p.Cmp = 7 })
	bad("action restore", func(p *Policy) { p.Action = ActionRestore })
	bad("for 2h", func(p *Policy) { p.For = 2 * time.Hour })
	bad("priority 70000", func(p *Policy) { p.Priority = 70000 })
	bad("state 6", func(p *Policy) { p.TargetState = 6 })
	bad("key with a space", func(p *Policy) { p.RecKey = "a b"; p.RecValue = 1 })
	bad("key of 34 bytes", func(p *Policy) { p.RecKey = strings.Repeat("k", 34); p.RecValue = 1 })
	bad("nice 20", func(p *Policy) { p.Action = ActionRenice; p.ActValue = 20 })
	bad("ra_pages -1", func(p *Policy) { p.Action = ActionReadahead; p.ActValue = -1 })
	act := func(name string, a Actuation, want error, errno syscall.Errno) {
		cs = append(cs, contractCase{name: "Actuate " + name, want: want, errno: errno,
			call: func(ctx context.Context, c Client) error { _, err := c.Actuate(ctx, a); return err }})
	}
	act("nice -21", Actuation{Kind: ActionRenice, PID: 1, Value: -21}, ErrInvalid, 0)
	act("nice 20", Actuation{Kind: ActionRenice, PID: 1, Value: 20}, ErrInvalid, 0)
	act("ra_pages 65537", Actuation{Kind: ActionReadahead, Dev: 1, Value: 65537}, ErrInvalid, 0)
	act("kind 0", Actuation{}, ErrInvalid, 0)
	act("kind 9", Actuation{Kind: 9, Value: 1}, ErrInvalid, 0)
	act("missing pid", Actuation{Kind: ActionRenice, PID: 0x3ffffff0, Value: 1}, ErrNoProcess, syscall.ESRCH)
	act("kernel thread", Actuation{Kind: ActionRenice, PID: 2, Value: 1}, ErrDenied, syscall.EPERM)
	cs = append(cs,
		contractCase{"SetState 0", func(ctx context.Context, c Client) error { return c.SetState(ctx, 0) }, ErrInvalid, 0},
		contractCase{"SetState 99", func(ctx context.Context, c Client) error { return c.SetState(ctx, 99) }, ErrInvalid, 0},
		contractCase{"SetRecommendation empty key", func(ctx context.Context, c Client) error { return c.SetRecommendation(ctx, "", 1) }, ErrInvalid, 0},
		contractCase{"SetRecommendation bad key", func(ctx context.Context, c Client) error { return c.SetRecommendation(ctx, "a/b", 1) }, ErrInvalid, 0},
		contractCase{"DelPolicy unknown", func(ctx context.Context, c Client) error { return c.DelPolicy(ctx, 0xA1CE1) }, ErrNotFound, syscall.ENOENT},
		contractCase{"Policy unknown", func(ctx context.Context, c Client) error { _, err := c.Policy(ctx, 0xA1CE1); return err }, ErrNotFound, syscall.ENOENT},
		contractCase{"DelRecommendation unknown", func(ctx context.Context, c Client) error { return c.DelRecommendation(ctx, "ainka.contract.none") }, ErrNotFound, syscall.ENOENT},
		contractCase{"Recommendation unknown", func(ctx context.Context, c Client) error {
			_, err := c.Recommendation(ctx, "ainka.contract.none")
			return err
		}, ErrNotFound, syscall.ENOENT},
		contractCase{"SetPolicy valid", func(ctx context.Context, c Client) error { return c.SetPolicy(ctx, ok) }, nil, 0},
		contractCase{"Policy valid", func(ctx context.Context, c Client) error {
			p, err := c.Policy(ctx, ok.ID)
			if err == nil && (p.Metric != ok.Metric || p.Threshold != ok.Threshold) {
				return errors.New("policy read back differs")
			}
			return err
		}, nil, 0},
		contractCase{"DelPolicy valid", func(ctx context.Context, c Client) error { return c.DelPolicy(ctx, ok.ID) }, nil, 0},
		contractCase{"SetRecommendation valid", func(ctx context.Context, c Client) error { return c.SetRecommendation(ctx, "ainka.contract", -7) }, nil, 0},
		contractCase{"Recommendation valid", func(ctx context.Context, c Client) error {
			v, err := c.Recommendation(ctx, "ainka.contract")
			if err == nil && v != -7 {
				return errors.New("recommendation read back differs")
			}
			return err
		}, nil, 0},
		contractCase{"DelRecommendation valid", func(ctx context.Context, c Client) error { return c.DelRecommendation(ctx, "ainka.contract") }, nil, 0},
	)
	return cs
}

func contract(t *testing.T, c Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range contractCases() {
		before, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = tc.call(ctx, c)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v, want success", tc.name, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		case tc.errno != 0 && !errors.Is(err, tc.errno):
			t.Errorf("%s: %v, want it to wrap %v", tc.name, err, tc.errno)
		}
		// ErrInvalid is caught before sending: the module never saw it.
		if after, _ := c.Status(ctx); tc.want == ErrInvalid && after.Rejected != before.Rejected {
			t.Errorf("%s: sent to the module (rejected %d -> %d), not caught by the client", tc.name, before.Rejected, after.Rejected)
		}
	}
}
