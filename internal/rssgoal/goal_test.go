package rssgoal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// mapping is one /proc/PID/smaps entry, sizes in kB.
type mapping struct {
	name      string
	rss, anon int64
}

// smaps writes entries the way Linux 6.x does (the fields the parser skips
// included).
func smaps(ms ...mapping) string {
	var b strings.Builder
	for i, m := range ms {
		fmt.Fprintf(&b, "%x-%x r-xp 00000000 fe:00 %d                     %s\n", 0x400000+i*0x100000, 0x4ff000+i*0x100000, 1000+i, m.name)
		fmt.Fprintf(&b, "Size:               %4d kB\nKernelPageSize:        4 kB\nRss:               %4d kB\nPss:               %4d kB\n", m.rss*2, m.rss, m.rss)
		fmt.Fprintf(&b, "Pss_Dirty:             0 kB\nShared_Clean:          0 kB\nPrivate_Dirty:      %4d kB\nAnonymous:         %4d kB\n", m.anon, m.anon)
		b.WriteString("AnonHugePages:         0 kB\nTHPeligible:           0\nVmFlags: rd ex mr mw me \n")
	}
	return b.String()
}

// daemonSmaps is the daemon's memory as measured in a soak (rounded): the
// binary's text and rodata, its written data, the ring, libc, the Go heap.
var daemonSmaps = smaps(
	mapping{"/usr/bin/ainka", 5532, 0},
	mapping{"/usr/bin/ainka", 5712, 0},
	mapping{"/usr/bin/ainka", 476, 120},
	mapping{"", 11396, 11396},
	mapping{"anon_inode:bpf-map", 16388, 0},
	mapping{"/usr/lib/x86_64-linux-gnu/libc.so.6", 828, 12},
	mapping{"[stack]", 132, 132},
	mapping{"[vdso]", 8, 0},
)

func TestParseSmaps(t *testing.T) {
	u, err := ParseSmaps(strings.NewReader(daemonSmaps))
	if err != nil {
		t.Fatal(err)
	}
	want := Usage{Anon: (120 + 11396 + 12 + 132) << 10, Fixed: (5532 + 5712 + 476 - 120 + 828 - 12 + 8) << 10, BPF: 16388 << 10}
	if u != want {
		t.Fatalf("got %+v, want %+v", u, want)
	}
	if u.Total() != (5532+5712+476+11396+16388+828+132+8)<<10 {
		t.Fatalf("Total %d is not the sum of Rss", u.Total())
	}
}

func TestParseSmapsBad(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", "no mappings"},
		{"field first", "Rss: 4 kB\n", "Rss before any mapping"},
		{"no Rss", "400000-401000 r-xp 00000000 fe:00 1 /x\nAnonymous: 0 kB\n", "Rss -1"},
		{"no Anonymous", "400000-401000 r-xp 00000000 fe:00 1 /x\nRss: 4 kB\n", "Anonymous -1"},
		{"anon over rss", "400000-401000 r-xp 00000000 fe:00 1 /x\nRss: 4 kB\nAnonymous: 8 kB\n", "Rss 4096, Anonymous 8192"},
		{"unit", "400000-401000 r-xp 00000000 fe:00 1 /x\nRss: 4 MB\n", `"4 MB" is not a size in kB`},
		{"number", "400000-401000 r-xp 00000000 fe:00 1 /x\nRss: -4 kB\n", `"-4" is not a size in kB`},
		{"huge", "400000-401000 r-xp 00000000 fe:00 1 /x\nRss: 99999999999999999 kB\n", "not a size"},
	} {
		_, err := ParseSmaps(strings.NewReader(c.text))
		if !errors.Is(err, ErrSmaps) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrSmaps saying %q", c.name, err, c.want)
		}
	}
}

// TestDeriveAtTheBoundary: the goal that leaves exactly Floor is accepted
// with the limit at Floor; one KiB less is refused, naming the goal that
// would do.
func TestDeriveAtTheBoundary(t *testing.T) {
	u, err := ParseSmaps(strings.NewReader(daemonSmaps))
	if err != nil {
		t.Fatal(err)
	}
	const ring = 16 << 20
	edge := u.BPF + u.Fixed + Margin + Floor // the ring mapped: its pages and the consumer page
	p, err := Derive(edge, ring, u)
	if err != nil || p.Limit != Floor {
		t.Fatalf("goal %d: got %+v, %v; want the limit at Floor", edge, p, err)
	}
	_, err = Derive(edge-1024, ring, u)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "raise max_memory_mb to 42") {
		t.Fatalf("goal 1 KiB under: got %v, want ErrUnreachable naming 42 MiB", err)
	}
	// The default: 48 MiB with a 16 MiB ring leaves the Go runtime
	// 48 − 16 − 12.1 − 1 = 18.9 MiB.
	p, err = Derive(48<<20, ring, u)
	if err != nil || p.Limit != 48<<20-u.BPF-u.Fixed-Margin {
		t.Fatalf("default: got %+v, %v", p, err)
	}
	if s := p.String(); !strings.Contains(s, "RSS goal 48.0 MiB = ring 16.0 MiB + binary and libraries 12.1 MiB + margin 1.0 MiB + Go memory limit 18.9 MiB") {
		t.Fatalf("plan reads %q", s)
	}
}

// TestDeriveRing: before the ring is mapped it counts whole; once mapped
// its resident pages count if they are more (other BPF maps beside it);
// a ring as large as the goal is refused.
func TestDeriveRing(t *testing.T) {
	fixed := Usage{Fixed: 10 << 20}
	early, err := Derive(64<<20, 16<<20, fixed)
	if err != nil {
		t.Fatal(err)
	}
	mapped := fixed
	mapped.BPF = 16<<20 + 4096
	late, err := Derive(64<<20, 16<<20, mapped)
	if err != nil || late.Limit != early.Limit-4096 {
		t.Fatalf("mapped ring: limit %d, want %d (%v)", late.Limit, early.Limit-4096, err)
	}
	_, err = Derive(48<<20, 64<<20, fixed)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "the ring (64.0 MiB)") {
		t.Fatalf("ring over the goal: %v", err)
	}
}

// TestGovernorFollowsTheFixedPart: as more of the binary becomes resident
// the limit goes down; past what the goal holds it stays at Floor and says
// so once; Stop gives back the previous limit.
func TestGovernorFollowsTheFixedPart(t *testing.T) {
	fixed := []int64{8 << 20, 8<<20 + 100<<10, 12 << 20, 40 << 20, 40 << 20}
	i := 0
	read := func() (Usage, error) { return Usage{Fixed: fixed[min(i, len(fixed)-1)]}, nil }
	var set []int64
	cur := int64(1 << 62)
	setLimit := func(n int64) int64 { set = append(set, n); old := cur; cur = n; return old }
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g := &Governor{goal: 48 << 20, ring: 16 << 20, read: read, set: setLimit, log: log, now: time.Now}
	if err := g.start(time.Hour); err != nil {
		t.Fatal(err)
	}
	for i = 1; i < len(fixed); i++ {
		g.update()
	}
	g.Stop()
	want := []int64{48<<20 - 16<<20 - 8<<20 - Margin, 48<<20 - 16<<20 - 12<<20 - Margin, Floor, 1 << 62}
	if fmt.Sprint(set) != fmt.Sprint(want) {
		t.Fatalf("limits set %v, want %v (100 KiB is under a step)", set, want)
	}
	if n := strings.Count(logs.String(), "memory goal unreachable"); n != 1 {
		t.Fatalf("warned %d times, want once:\n%s", n, logs.String())
	}
}

func TestStartRefusesUnreachable(t *testing.T) {
	read := func() (Usage, error) { return Usage{Fixed: 12 << 20}, nil }
	called := false
	g := &Governor{goal: 32 << 20, ring: 16 << 20, read: read, set: func(int64) int64 { called = true; return 0 },
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now}
	err := g.start(time.Hour)
	if !errors.Is(err, ErrUnreachable) || called {
		t.Fatalf("got %v (limit set: %v), want ErrUnreachable before any limit is set", err, called)
	}
}

// TestGovernorDropsBinaryPages: a drop at start, the next once the
// startup code ran (dropAfter), later ones after a minute and a regrowth
// of a MiB; the limit counts the fixed part from before a drop until it
// settles, then what is measured; a failing drop is said once and not
// tried again.
func TestGovernorDropsBinaryPages(t *testing.T) {
	fixed := int64(12 << 20)
	clock := time.Unix(0, 0)
	drops := 0
	var logs strings.Builder
	g := &Governor{goal: 48 << 20, ring: 16 << 20, log: slog.New(slog.NewTextHandler(&logs, nil)),
		read: func() (Usage, error) { return Usage{Fixed: fixed}, nil },
		set:  func(int64) int64 { return 0 },
		drop: func() (int64, error) { drops++; fixed = 5 << 20; return 8 << 20, nil },
		now:  func() time.Time { return clock }}
	if err := g.start(time.Hour); err != nil {
		t.Fatal(err)
	}
	defer g.Stop()
	if drops != 1 || g.Limit() != 48<<20-16<<20-12<<20-Margin {
		t.Fatalf("start: %d drops, limit %s; want one, the limit from the fixed part before it (settling)", drops, mib(g.Limit()))
	}
	for _, c := range []struct {
		at    time.Duration
		fixed int64
		drops int
		limit int64
	}{
		{time.Second, 12 << 20, 1, 48<<20 - 16<<20 - 12<<20 - Margin},
		{dropAfter, 12 << 20, 2, 48<<20 - 16<<20 - 12<<20 - Margin},                               // dropped, settling
		{dropAfter + settle, 5 << 20, 2, 48<<20 - 16<<20 - 5<<20 - Margin},                        // settled
		{dropAfter + dropEvery/2, 7 << 20, 2, 48<<20 - 16<<20 - 7<<20 - Margin},                   // too soon
		{dropAfter + dropEvery, 5<<20 + 512<<10, 2, 48<<20 - 16<<20 - (5<<20 + 512<<10) - Margin}, // under a MiB regrown
		{dropAfter + 2*dropEvery, 9 << 20, 3, 48<<20 - 16<<20 - 9<<20 - Margin},
	} {
		clock, fixed = time.Unix(0, 0).Add(c.at), c.fixed
		g.update()
		if drops != c.drops || g.Limit() != c.limit {
			t.Errorf("at %v, fixed %s: %d drops, limit %s; want %d, %s", c.at, mib(c.fixed), drops, mib(g.Limit()), c.drops, mib(c.limit))
		}
	}
	g.drop = func() (int64, error) { return 0, errors.New("madvise: EINVAL") }
	for i := range 3 {
		clock, fixed = clock.Add(dropEvery), int64(20+i)<<20
		g.update()
	}
	if n := strings.Count(logs.String(), "madvise: EINVAL"); n != 1 || g.drop != nil {
		t.Errorf("a failing drop logged %d times (want once) and is still tried: %v", n, g.drop != nil)
	}
}

// TestStartAfterTheDrop: a process whose pages before the drop would not
// fit (a test binary that ran much code) starts when what is left fits,
// at the floor until the drop settles; one that does not fit even after
// the drop is refused.
func TestStartAfterTheDrop(t *testing.T) {
	for _, c := range []struct {
		after int64
		limit int64 // 0: refused
	}{{8 << 20, Floor}, {20 << 20, 0}} {
		fixed := int64(22 << 20)
		g := &Governor{goal: 48 << 20, ring: 16 << 20, log: slog.New(slog.NewTextHandler(io.Discard, nil)), now: time.Now,
			read: func() (Usage, error) { return Usage{Fixed: fixed}, nil },
			set:  func(int64) int64 { return 0 },
			drop: func() (int64, error) { fixed = c.after; return 0, nil }}
		err := g.start(time.Hour)
		if c.limit == 0 {
			if !errors.Is(err, ErrUnreachable) {
				t.Errorf("%s left after the drop: %v, want ErrUnreachable", mib(c.after), err)
			}
			continue
		}
		if err != nil || g.Limit() != c.limit {
			t.Errorf("%s left after the drop: limit %s, %v; want %s", mib(c.after), mib(g.Limit()), err, mib(c.limit))
		}
		g.Stop()
	}
}
