package bench

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

// Bad arguments to a helper workload: exit code 1 and a message naming
// the argument, before any work starts.
func TestHelperBadArgs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // Helper sets 1
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "missing helper name"},
		{[]string{"nope"}, `unknown helper "nope"`},
		{[]string{"grow", "10"}, "grow RATE_MIB_S PROGRESS_FILE [MAX_MIB]"},
		{[]string{"grow", "10", "f", "1", "x"}, "grow RATE_MIB_S PROGRESS_FILE [MAX_MIB]"},
		{[]string{"grow", "-3", "f"}, `bad rate "-3"`},
		{[]string{"grow", "10", "f", "2"}, `bad MAX_MIB "2" (at least 4)`},
		{[]string{"grow", "10", "f", "lots"}, `bad MAX_MIB "lots"`},
		{[]string{"touch", "0", "10", "1s"}, "touch: bad arguments"},
	} {
		var out, errb bytes.Buffer
		if rc := Helper(c.args, &out, &errb); rc != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, %q; want 1 and %q", c.args, rc, errb.String(), c.want)
		}
	}
}
