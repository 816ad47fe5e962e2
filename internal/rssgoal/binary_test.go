package rssgoal

import "testing"

// TestDropBinaryPages: the test binary's read-only pages leave its RSS,
// and the code keeps running (it faults back what it uses).
func TestDropBinaryPages(t *testing.T) {
	before, err := ReadSelf()
	if err != nil {
		t.Fatal(err)
	}
	n, err := DropBinaryPages()
	if err != nil || n == 0 {
		t.Fatalf("dropped %d bytes of mappings: %v", n, err)
	}
	after, err := ReadSelf()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fixed part %s before, %s after (%s of read-only mappings)", mib(before.Fixed), mib(after.Fixed), mib(n))
	if after.Fixed > before.Fixed*3/4 {
		t.Errorf("fixed part %s after the drop, %s before: not a quarter less", mib(after.Fixed), mib(before.Fixed))
	}
}

func TestReadOnlyMapping(t *testing.T) {
	const exe = "/usr/bin/ainka"
	for _, c := range []struct {
		line string
		ok   bool
	}{
		{"00400000-00a6f000 r-xp 00000000 fe:00 1 /usr/bin/ainka", true},
		{"00a6f000-01200000 r--p 0066f000 fe:00 1 /usr/bin/ainka", true},
		{"01200000-01300000 rw-p 00e00000 fe:00 1 /usr/bin/ainka", false}, // data: written
		{"7f00000-7f10000 r-xp 00000000 fe:00 2 /usr/lib/libc.so.6", false},
		{"7f00000-7f10000 r--p 00000000 00:00 0 ", false},
		{"zz-7f10000 r--p 00000000 fe:00 1 /usr/bin/ainka", false},
		{"7f10000-7f00000 r--p 00000000 fe:00 1 /usr/bin/ainka", false},
	} {
		if _, _, ok := readOnlyMapping(c.line, exe); ok != c.ok {
			t.Errorf("%q: %v, want %v", c.line, ok, c.ok)
		}
	}
}
