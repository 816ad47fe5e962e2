package genl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// rawConn is a bare generic netlink socket for crafting messages the
// client would never send.
type rawConn struct {
	fd     int
	family uint16
	seq    uint32
}

func openRaw(t testing.TB) *rawConn {
	t.Helper()
	fam, err := netlink.GenlFamilyGet(FamilyName)
	if err != nil {
		t.Fatalf("family lookup: %v", err)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_GENERIC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	tv := unix.NsecToTimeval((2 * time.Second).Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	t.Cleanup(func() { unix.Close(fd) })
	return &rawConn{fd: fd, family: fam.ID}
}

type reply struct {
	errno  int32 // 0: ack or data
	extack string
	any    bool
}

// roundTrip sends b as is and reads until the answer to its sequence.
func (r *rawConn) roundTrip(b []byte, seq uint32) (reply, error) {
	if err := unix.Sendto(r.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return reply{}, err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(r.fd, buf, 0)
		if err != nil {
			return reply{}, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return reply{}, err
		}
		for _, m := range msgs {
			if m.Header.Seq != seq {
				continue
			}
			if m.Header.Type != unix.NLMSG_ERROR {
				if m.Header.Flags&unix.NLM_F_MULTI == 0 {
					return reply{any: true}, nil
				}
				continue
			}
			rep := reply{any: true, errno: int32(binary.NativeEndian.Uint32(m.Data))}
			rest := m.Data[4:]
			if len(rest) >= unix.SizeofNlMsghdr {
				hl := int(binary.NativeEndian.Uint32(rest))
				if m.Header.Flags&unix.NLM_F_CAPPED != 0 || hl > len(rest) {
					hl = unix.SizeofNlMsghdr
				}
				rest = rest[(hl+3)&^3:]
				for len(rest) >= 4 {
					l := int(binary.NativeEndian.Uint16(rest))
					if l < 4 || l > len(rest) {
						break
					}
					if binary.NativeEndian.Uint16(rest[2:]) == unix.NLMSGERR_ATTR_MSG {
						rep.extack = strings.TrimRight(string(rest[4:l]), "\x00")
					}
					rest = rest[(l+3)&^3:]
				}
			}
			return rep, nil
		}
	}
}

// msg builds a request; hdrLen overrides nlmsg_len when non-zero.
func (r *rawConn) msg(cmd uint8, flags uint16, attrs []byte) ([]byte, uint32) {
	r.seq++
	b := make([]byte, 16+4, 16+4+len(attrs))
	binary.NativeEndian.PutUint32(b[0:], uint32(20+len(attrs)))
	binary.NativeEndian.PutUint16(b[4:], r.family)
	binary.NativeEndian.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(b[8:], r.seq)
	b[16] = cmd
	b[17] = Version
	return append(b, attrs...), r.seq
}

type rawAttr struct {
	typ  uint16
	data []byte
	len  int // nla_len override when non-zero
}

func enc(as []rawAttr) []byte {
	var b []byte
	for _, a := range as {
		l := 4 + len(a.data)
		if a.len != 0 {
			l = a.len
		}
		h := make([]byte, 4)
		binary.NativeEndian.PutUint16(h, uint16(l))
		binary.NativeEndian.PutUint16(h[2:], a.typ)
		b = append(b, h...)
		b = append(b, a.data...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func le32(v uint32) []byte { b := make([]byte, 4); binary.NativeEndian.PutUint32(b, v); return b }
func le64(v int64) []byte {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, uint64(v))
	return b
}
func cstr(s string) []byte { return append([]byte(s), 0) }

type template struct {
	cmd      uint8
	attrs    []rawAttr
	required []uint16           // attributes whose absence is an error
	ranges   map[uint16][]int64 // values out of range for that attribute
}

// mutations of one valid request, each of which must be refused.
func malformedCases(rng *rand.Rand, tp template, foreign []uint16) [][]rawAttr {
	clone := func() []rawAttr { return append([]rawAttr(nil), tp.attrs...) }
	var out [][]rawAttr
	for _, req := range tp.required { // missing
		var as []rawAttr
		for _, a := range tp.attrs {
			if a.typ != req {
				as = append(as, a)
			}
		}
		out = append(out, as)
	}
	for i := range tp.attrs {
		as := clone() // duplicate
		out = append(out, append(as, tp.attrs[i]))
		if len(tp.attrs[i].data) > 1 { // wrong length: short
			as = clone()
			a := as[i]
			a.data = a.data[:rng.IntN(len(a.data))]
			as[i] = a
			out = append(out, as)
		}
		as = clone() // wrong length: long
		a := as[i]
		if a.typ == attrRecKey {
			a.data = append([]byte(strings.Repeat("k", 32+rng.IntN(40))), 0)
		} else {
			a.data = append(append([]byte(nil), a.data...), make([]byte, 1+rng.IntN(7))...)
		}
		as[i] = a
		out = append(out, as)
		as = clone() // nla_len past the end of the message
		as = append(as, rawAttr{typ: tp.attrs[i].typ, data: tp.attrs[i].data, len: 4 + len(tp.attrs[i].data) + 64})
		out = append(out, as)
	}
	for typ, vals := range tp.ranges { // out of range
		for _, v := range vals {
			as := clone()
			for j := range as {
				if as[j].typ == typ {
					if len(as[j].data) == 4 {
						as[j].data = le32(uint32(v))
					} else {
						as[j].data = le64(v)
					}
				}
			}
			out = append(out, as)
		}
	}
	for k := 0; k < 4; k++ { // unknown attribute types
		typ := uint16(attrMax + 1 + rng.IntN(300))
		out = append(out, append(clone(), rawAttr{typ: typ, data: le32(rng.Uint32())}))
	}
	out = append(out, append(clone(), rawAttr{typ: 0, data: le32(1)}))
	for _, f := range foreign { // valid elsewhere, not here
		out = append(out, append(clone(), rawAttr{typ: f, data: le32(1)}))
	}
	return out
}

func TestVMMalformedMessagesRejected(t *testing.T) {
	c := dialVM(t)
	ctx := ctxT(t, 120*time.Second)
	r := openRaw(t)
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	spid := uint32(sleeper.Process.Pid)

	templates := []template{
		{cmd: cmdSetPolicy, attrs: []rawAttr{{typ: attrPolicyID, data: le32(9000)}, {typ: attrPolicyMetric, data: le32(1)},
			{typ: attrPolicyCmp, data: le32(1)}, {typ: attrPolicyThreshold, data: le64(-1)}, {typ: attrPolicyAction, data: le32(1)},
			{typ: attrPolicyForMs, data: le32(5)}, {typ: attrPolicyPriority, data: le32(3)}, {typ: attrPolicyTarget, data: le32(2)},
			{typ: attrRecKey, data: cstr("ok.key")}, {typ: attrRecValue, data: le64(1)}},
			required: []uint16{attrPolicyID, attrPolicyMetric, attrPolicyCmp, attrPolicyThreshold, attrPolicyAction, attrRecKey, attrRecValue},
			ranges: map[uint16][]int64{attrPolicyID: {0}, attrPolicyMetric: {0, 8, 1 << 31}, attrPolicyCmp: {0, 7, 99},
				attrPolicyAction: {0, 4, 5, 1 << 30}, attrPolicyForMs: {3600001, 1<<32 - 1}, attrPolicyPriority: {65536, 1 << 31},
				attrPolicyTarget: {6, 100}}},
		{cmd: cmdSetPolicy, attrs: []rawAttr{{typ: attrPolicyID, data: le32(9001)}, {typ: attrPolicyMetric, data: le32(3)},
			{typ: attrPolicyCmp, data: le32(3)}, {typ: attrPolicyThreshold, data: le64(1 << 40)}, {typ: attrPolicyAction, data: le32(2)},
			{typ: attrActPID, data: le32(spid)}, {typ: attrActValue, data: le64(4)}},
			required: []uint16{attrPolicyID, attrActValue},
			ranges:   map[uint16][]int64{attrActValue: {-21, 20, 1 << 40, -1 << 40}}},
		{cmd: cmdSetPolicy, attrs: []rawAttr{{typ: attrPolicyID, data: le32(9002)}, {typ: attrPolicyMetric, data: le32(3)},
			{typ: attrPolicyCmp, data: le32(3)}, {typ: attrPolicyThreshold, data: le64(1 << 40)}, {typ: attrPolicyAction, data: le32(3)},
			{typ: attrActDev, data: le32(DevT(1, 0))}, {typ: attrActValue, data: le64(32)}},
			required: []uint16{attrActDev, attrActValue},
			ranges:   map[uint16][]int64{attrActValue: {-1, RAPagesMax + 1, 1 << 50}}},
		{cmd: cmdSetRecommendation, attrs: []rawAttr{{typ: attrRecKey, data: cstr("fuzz.key")}, {typ: attrRecValue, data: le64(5)}},
			required: []uint16{attrRecKey, attrRecValue}},
		{cmd: cmdSetState, attrs: []rawAttr{{typ: attrState, data: le32(2)}},
			required: []uint16{attrState}, ranges: map[uint16][]int64{attrState: {0, 6, 255, 1 << 31}}},
		{cmd: cmdActuate, attrs: []rawAttr{{typ: attrActKind, data: le32(2)}, {typ: attrActPID, data: le32(spid)}, {typ: attrActValue, data: le64(3)}},
			required: []uint16{attrActKind, attrActValue},
			ranges:   map[uint16][]int64{attrActKind: {0, 1, 5, 77}, attrActValue: {-21, 20, 1 << 33}}},
		{cmd: cmdDelPolicy, attrs: []rawAttr{{typ: attrPolicyID, data: le32(424242)}},
			required: []uint16{attrPolicyID}, ranges: map[uint16][]int64{attrPolicyID: {0}}},
		{cmd: cmdGetRecommendation, attrs: []rawAttr{{typ: attrRecKey, data: cstr("absent.key")}},
			required: []uint16{attrRecKey}},
	}
	foreign := []uint16{attrVersion, attrSamples, attrPolicyHits, attrEventType, attrHorizonMs, attrActPrev}
	rng := rand.New(rand.NewPCG(1, 2))
	rejected, total, withMsg := 0, 0, 0
	errnos := map[int32]int{}
	send := func(cmd uint8, flags uint16, attrs []byte, needMsg bool, what string) {
		b, seq := r.msg(cmd, flags, attrs)
		rep, err := r.roundTrip(b, seq)
		if err != nil {
			t.Fatalf("%s: no answer: %v", what, err)
		}
		total++
		if rep.errno == 0 {
			t.Fatalf("%s: accepted (cmd %d, attrs %x)", what, cmd, attrs)
		}
		rejected++
		errnos[-rep.errno]++
		if rep.extack != "" {
			withMsg++
		} else if needMsg {
			t.Fatalf("%s: refused with errno %d but no extended-ack message (attrs %x)", what, -rep.errno, attrs)
		}
	}
	// Rounds of every mutation of every template, with fresh random
	// lengths and types each round.
	for round := 0; round < 12; round++ {
		for ti, tp := range templates {
			for ci, as := range malformedCases(rng, tp, foreign) {
				send(tp.cmd, 0, enc(as), true, fmt.Sprintf("template %d case %d", ti, ci))
			}
		}
	}
	// Wrong and missing headers: the genetlink core refuses these.
	for i := 0; i < 200; i++ {
		cmd := uint8(cmdMax + 1 + rng.IntN(255-cmdMax))
		send(cmd, 0, nil, false, fmt.Sprintf("unknown command %d", cmd))
		send(cmdUnspec, 0, nil, false, "command 0")
	}
	for i := 0; i < 100; i++ { // genl header cut short
		b, seq := r.msg(cmdGetStatus, 0, nil)
		n := 16 + rng.IntN(4)
		binary.NativeEndian.PutUint32(b, uint32(n))
		rep, err := r.roundTrip(b[:n], seq)
		if err != nil || rep.errno == 0 {
			t.Fatalf("short genl header (%d bytes): %+v, %v", n, rep, err)
		}
		total++
		rejected++
	}
	// Dumps with bad attributes are validated too.
	for i := 0; i < 50; i++ {
		send(cmdGetPolicy, unix.NLM_F_DUMP, enc([]rawAttr{{typ: attrPolicyID, data: le32(0)}}), true, "dump with id 0")
		send(cmdGetRecommendation, unix.NLM_F_DUMP, enc([]rawAttr{{typ: attrState, data: le32(1)}}), true, "dump with a foreign attribute")
	}
	// Random payloads: the module must answer each and survive; they are
	// not all invalid, so only the answer is required.
	safe := []uint8{cmdGetStatus, cmdGetPolicy, cmdDelPolicy, cmdSetRecommendation, cmdGetRecommendation, cmdDelRecommendation, cmdSetPolicy}
	for i := 0; i < 2000; i++ {
		p := make([]byte, rng.IntN(96))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		b, seq := r.msg(safe[rng.IntN(len(safe))], 0, p)
		if _, err := r.roundTrip(b, seq); err != nil {
			t.Fatalf("random payload %x: no answer: %v", p, err)
		}
	}
	figure("hostile input: %d malformed requests, %d rejected (%d with an extack message), errnos %v; 2000 random payloads answered",
		total, rejected, withMsg, errnos)

	// Healthy after: same policies, counters moved, requests still served.
	after, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("module unhealthy after hostile input: %v", err)
	}
	if after.Policies != before.Policies || after.Samples <= before.Samples || after.Rejected <= before.Rejected {
		t.Fatalf("status after hostile input: %+v (before %+v)", after, before)
	}
	if recs, err := c.Recommendations(ctx); err == nil {
		for k := range recs {
			c.DelRecommendation(ctx, k)
		}
	}
	if err := c.SetPolicy(ctx, Policy{ID: 9100, Metric: MetricNrRunning, Cmp: CmpGT, Threshold: 1 << 40, Action: ActionNotify}); err != nil {
		t.Fatalf("valid request refused after hostile input: %v", err)
	}
	if err := c.DelPolicy(ctx, 9100); err != nil {
		t.Fatal(err)
	}
}

// unprivChild runs as uid 65534 without capabilities: every command and
// the events group must be refused.
func unprivChild() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "unprivileged: "+format+"\n", args...)
		return 1
	}
	if os.Getuid() == 0 {
		return fail("still root")
	}
	c, err := Dial()
	if err != nil {
		return fail("Dial: %v", err)
	}
	defer c.Close()
	ctx := ctxBackground()
	if _, err := c.Status(ctx); !errors.Is(err, syscall.EPERM) {
		return fail("GET_STATUS = %v, want EPERM", err)
	}
	if err := c.SetPolicy(ctx, Policy{ID: 1, Metric: 1, Cmp: 1, Action: 1}); !errors.Is(err, syscall.EPERM) {
		return fail("SET_POLICY = %v, want EPERM", err)
	}
	if err := c.SetState(ctx, StateEmergency); !errors.Is(err, syscall.EPERM) {
		return fail("SET_STATE = %v, want EPERM", err)
	}
	if _, err := c.Actuate(ctx, Actuation{Kind: ActionRenice, PID: 1, Value: 19}); !errors.Is(err, syscall.EPERM) {
		return fail("ACTUATE = %v, want EPERM", err)
	}
	if _, err := c.Policies(ctx); !errors.Is(err, syscall.EPERM) {
		return fail("GET_POLICY dump = %v, want EPERM", err)
	}
	if _, err := c.Subscribe(ctx); err == nil {
		return fail("joined the events group")
	}
	if err := os.WriteFile("/proc/ainka", []byte("emergency"), 0); err == nil {
		return fail("wrote /proc/ainka")
	}
	return 0
}

func TestVMUnprivilegedRefused(t *testing.T) {
	c := dialVM(t)
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), childEnv+"=unpriv")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged child: %v\n%s", err, out)
	}
	st, err := c.Status(ctxT(t, 5*time.Second))
	if err != nil || st.State == StateEmergency {
		t.Fatalf("state after the unprivileged attempts: %v, %v", st.State, err)
	}
	figure("non-CAP_NET_ADMIN sender (uid 65534): every command, the events group and /proc/ainka refused")
}
