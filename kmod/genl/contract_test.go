package genl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestClientContract runs one table over the Client interface against
// the fake (everywhere) and the real module (inside the VM, where
// ainka_core is loaded): both must give the same answers, errno included.
// Requests the module would refuse for their values never reach it: the
// module's own count of rejected requests does not move. The module is
// then sent the same table with the client's validation bypassed, so the
// errors the validation promises are the module's own.
func TestClientContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		f := NewFake()
		t.Cleanup(func() { f.Close() })
		contract(t, f, true)
	})
	t.Run("module", func(t *testing.T) { contract(t, dialVM(t), true) })
	t.Run("module unvalidated", func(t *testing.T) {
		contract(t, unvalidated{dialVM(t).(*client)}, false)
		if !t.Failed() {
			figure("client contract: %s", contractSummary())
		}
	})
}

// contractSummary counts the table's cases per expected errno.
func contractSummary() string {
	n := map[string]int{}
	cs := contractCases()
	for _, tc := range cs {
		name := "ok"
		if tc.errno != 0 {
			name = unix.ErrnoName(tc.errno)
		}
		n[name]++
	}
	return fmt.Sprintf("%d cases, same errors from the fake, the module and the module unvalidated: %v", len(cs), n)
}

// unvalidated is the real client without its checks before sending.
type unvalidated struct{ *client }

func (u unvalidated) SetPolicy(ctx context.Context, p Policy) error { return u.setPolicy(ctx, p) }
func (u unvalidated) SetState(ctx context.Context, s State) error   { return u.setState(ctx, s) }
func (u unvalidated) SetRecommendation(ctx context.Context, k string, v int64) error {
	return u.setRecommendation(ctx, k, v)
}
func (u unvalidated) Actuate(ctx context.Context, a Actuation) (ActuationResult, error) {
	return u.actuate(ctx, a)
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
	bad := func(name string, errno syscall.Errno, m func(*Policy)) {
		p := ok
		m(&p)
		cs = append(cs, contractCase{name: "SetPolicy " + name, want: ErrInvalid, errno: errno,
			call: func(ctx context.Context, c Client) error { return c.SetPolicy(ctx, p) }})
	}
	bad("id 0", syscall.ERANGE, func(p *Policy) { p.ID = 0 })
	bad("metric 0", syscall.ERANGE, func(p *Policy) { p.Metric = 0 })
	bad("metric 99", syscall.ERANGE, func(p *Policy) { p.Metric = 99 })
	bad("cmp 7", syscall.ERANGE, func(p *Policy) { p.Cmp = 7 })
	bad("action restore", syscall.ERANGE, func(p *Policy) { p.Action = ActionRestore })
	bad("for 2h", syscall.ERANGE, func(p *Policy) { p.For = 2 * time.Hour })
	bad("priority 70000", syscall.ERANGE, func(p *Policy) { p.Priority = 70000 })
	bad("state 6", syscall.ERANGE, func(p *Policy) { p.TargetState = 6 })
	bad("key with a space", syscall.EINVAL, func(p *Policy) { p.RecKey = "a b"; p.RecValue = 1 })
	bad("key of 34 bytes", syscall.EINVAL, func(p *Policy) { p.RecKey = strings.Repeat("k", 34); p.RecValue = 1 })
	bad("nice 20", syscall.ERANGE, func(p *Policy) { p.Action = ActionRenice; p.ActValue = 20 })
	bad("ra_pages -1", syscall.ERANGE, func(p *Policy) { p.Action = ActionReadahead; p.ActValue = -1 })
	act := func(name string, a Actuation, want error, errno syscall.Errno) {
		cs = append(cs, contractCase{name: "Actuate " + name, want: want, errno: errno,
			call: func(ctx context.Context, c Client) error { _, err := c.Actuate(ctx, a); return err }})
	}
	act("nice -21", Actuation{Kind: ActionRenice, PID: 1, Value: -21}, ErrInvalid, syscall.ERANGE)
	act("nice 20", Actuation{Kind: ActionRenice, PID: 1, Value: 20}, ErrInvalid, syscall.ERANGE)
	act("ra_pages 65537", Actuation{Kind: ActionReadahead, Dev: 1, Value: 65537}, ErrInvalid, syscall.ERANGE)
	act("kind 0", Actuation{}, ErrInvalid, syscall.ERANGE)
	act("kind 9", Actuation{Kind: 9, Value: 1}, ErrInvalid, syscall.ERANGE)
	act("missing pid", Actuation{Kind: ActionRenice, PID: 0x3ffffff0, Value: 1}, ErrNoProcess, syscall.ESRCH)
	act("kernel thread", Actuation{Kind: ActionRenice, PID: 2, Value: 1}, ErrDenied, syscall.EPERM)
	cs = append(cs,
		contractCase{"SetState 0", func(ctx context.Context, c Client) error { return c.SetState(ctx, 0) }, ErrInvalid, syscall.ERANGE},
		contractCase{"SetState 99", func(ctx context.Context, c Client) error { return c.SetState(ctx, 99) }, ErrInvalid, syscall.ERANGE},
		contractCase{"SetRecommendation empty key", func(ctx context.Context, c Client) error { return c.SetRecommendation(ctx, "", 1) }, ErrInvalid, syscall.EINVAL},
		contractCase{"SetRecommendation bad key", func(ctx context.Context, c Client) error { return c.SetRecommendation(ctx, "a/b", 1) }, ErrInvalid, syscall.EINVAL},
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
		fillCase("SetPolicy table full", MaxPolicies, func(s Status) uint32 { return s.Policies },
			func(ctx context.Context, c Client, i int) error {
				p := ok
				p.ID = 0xA2000000 + uint32(i)
				return c.SetPolicy(ctx, p)
			},
			func(ctx context.Context, c Client, i int) error { return c.DelPolicy(ctx, 0xA2000000+uint32(i)) }),
		fillCase("SetRecommendation table full", MaxRecs, func(s Status) uint32 { return s.Recommendations },
			func(ctx context.Context, c Client, i int) error {
				return c.SetRecommendation(ctx, fmt.Sprintf("ainka.fill.%d", i), int64(i))
			},
			func(ctx context.Context, c Client, i int) error {
				return c.DelRecommendation(ctx, fmt.Sprintf("ainka.fill.%d", i))
			}),
	)
	return cs
}

// fillCase fills a table to its capacity (what Status says is used counts
// against it), expects one entry more to be refused and an existing one
// to be replaced at full, and empties what it filled. Errors other than
// the last entry's are formatted with %v so that an early ErrFull cannot
// pass for the expected one.
func fillCase(name string, capacity int, used func(Status) uint32, set, del func(ctx context.Context, c Client, i int) error) contractCase {
	call := func(ctx context.Context, c Client) (err error) {
		st, err := c.Status(ctx)
		if err != nil {
			return fmt.Errorf("status: %v", err)
		}
		n := capacity - int(used(st))
		defer func() {
			del(ctx, c, n) // only there if the module took one too many
			for i := 0; i < n; i++ {
				if e := del(ctx, c, i); e != nil {
					err = fmt.Errorf("empty entry %d: %v (after %v)", i, e, err)
					return
				}
			}
		}()
		for i := 0; i < n; i++ {
			if err := set(ctx, c, i); err != nil {
				return fmt.Errorf("entry %d of %d: %v", i+1, n, err)
			}
		}
		full := set(ctx, c, n)
		if n > 0 {
			if err := set(ctx, c, 0); err != nil {
				return fmt.Errorf("replace an entry of the full table: %v", err)
			}
		}
		return full
	}
	return contractCase{name: name, call: call, want: ErrFull, errno: syscall.ENOSPC}
}

// contract runs the table on c; validated: c checks requests before
// sending them (else the module's own checks answer).
func contract(t *testing.T, c Client, validated bool) {
	// Filling the tables takes ~10k round trips, slow under the VM's TCG.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
		if after, _ := c.Status(ctx); validated && tc.want == ErrInvalid && after.Rejected != before.Rejected {
			t.Errorf("%s: sent to the module (rejected %d -> %d), not caught by the client", tc.name, before.Rejected, after.Rejected)
		}
	}
}
