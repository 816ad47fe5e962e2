package expr

import (
	"errors"
	"math"
	"testing"
)

// FuzzParse: whatever the text, Parse returns a program or an *Error with
// a position inside the text, never panics and never runs out of stack;
// a program evaluates without panicking on missing and on present values.
// The seed corpus is in testdata/fuzz/FuzzParse; run longer with
// go test -run '^$' -fuzz FuzzParse ./stages/decide/expr.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cpu>90", "runq_latency_p99_us > 2000 for 5s", "forecast(cpu_busy_pct, 30s) > 90",
		"anomaly(blk_latency_p99_us) > 0.95 and not (psi_io_some_pct < 5)",
		"min(cpu, io) * 2 - -abs(mem) / 3 >= 1e3 || joint() > 0.5 && !(load != 2)",
		"((((cpu>1))))", "not not true", "forecast(cpu, 3s) > (1+2)*3", "cpu > 90%", "x =  1", "cpu >", "(", ")", "1 2", "cpu>1 # c\n and io<2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("Parse(%q): %v is not an *Error with a position", src, err)
			}
			return
		}
		if len(src) > MaxLen {
			t.Fatalf("Parse accepted %d bytes, over MaxLen", len(src))
		}
		e := newEnv()
		st := p.NewState()
		_ = p.Eval(e, st)
		for i := range e.f {
			e.f[i], e.a[i], e.fc[i] = float64(i), 0.5, math.Inf(1)
		}
		e.joint, e.now = 0.9, 1e9
		_ = p.Eval(e, st)
		for _, r := range p.Refs() {
			_ = p.Value(r, e)
		}
	})
}
