package genl

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const requestTimeout = 5 * time.Second

type client struct {
	mu      sync.Mutex
	family  uint16
	groupID uint32
	socks   map[int]*nl.SocketHandle
	closed  bool
}

// Dial finds the "ainka" family and opens a request socket with extended
// acks on, so that errors carry the module's message. ErrNotLoaded when
// the family does not exist.
func Dial() (Client, error) {
	fam, err := netlink.GenlFamilyGet(FamilyName)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil, ErrNotLoaded
		}
		return nil, fmt.Errorf("look up generic netlink family %q: %w", FamilyName, err)
	}
	if fam.Version != Version {
		return nil, fmt.Errorf("%w: module v%d, client v%d", ErrVersion, fam.Version, Version)
	}
	c := &client{family: fam.ID}
	for _, g := range fam.Groups {
		if g.Name == EventsGroup {
			c.groupID = g.ID
		}
	}
	if c.groupID == 0 {
		return nil, fmt.Errorf("family %q has no %q multicast group", FamilyName, EventsGroup)
	}
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("open generic netlink socket: %w", err)
	}
	tv := unix.NsecToTimeval(requestTimeout.Nanoseconds())
	if err := errors.Join(s.SetExtAck(true), s.SetSendTimeout(&tv), s.SetReceiveTimeout(&tv)); err != nil {
		s.Close()
		return nil, fmt.Errorf("configure generic netlink socket: %w", err)
	}
	c.socks = map[int]*nl.SocketHandle{unix.NETLINK_GENERIC: {Socket: s}}
	return c, nil
}

func (c *client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.socks[unix.NETLINK_GENERIC].Close()
	}
	return nil
}

var cmdNames = map[uint8]string{
	cmdGetStatus: "GET_STATUS", cmdSetPolicy: "SET_POLICY", cmdDelPolicy: "DEL_POLICY",
	cmdGetPolicy: "GET_POLICY", cmdSetRecommendation: "SET_RECOMMENDATION",
	cmdGetRecommendation: "GET_RECOMMENDATION", cmdDelRecommendation: "DEL_RECOMMENDATION",
	cmdSetState: "SET_STATE", cmdActuate: "ACTUATE",
}

// request sends one command and returns the attributes of each reply
// message. flags: unix.NLM_F_ACK for commands without a reply,
// unix.NLM_F_DUMP for dumps.
func (c *client) request(ctx context.Context, cmd uint8, flags int, attrs ...*nl.RtAttr) ([]map[uint16][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ainka %s: %w", cmdNames[cmd], err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	req := nl.NewNetlinkRequest(int(c.family), flags)
	req.Sockets = c.socks
	req.AddData(genlHeader{cmd: cmd})
	for _, a := range attrs {
		req.AddData(a)
	}
	msgs, err := req.Execute(unix.NETLINK_GENERIC, c.family)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, moduleErr(errno, "ainka "+cmdNames[cmd]+": "+err.Error())
		}
		return nil, fmt.Errorf("ainka %s: %w", cmdNames[cmd], err)
	}
	out := make([]map[uint16][]byte, 0, len(msgs))
	for _, m := range msgs {
		a, err := parseAttrs(m)
		if err != nil {
			return nil, fmt.Errorf("ainka %s reply: %w", cmdNames[cmd], err)
		}
		out = append(out, a)
	}
	return out, nil
}

// parseAttrs reads a generic netlink payload (genl header + attributes).
func parseAttrs(msg []byte) (map[uint16][]byte, error) {
	if len(msg) < nl.SizeofGenlmsg {
		return nil, fmt.Errorf("message of %d bytes has no genl header", len(msg))
	}
	b := msg[nl.SizeofGenlmsg:]
	attrs := map[uint16][]byte{}
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & nl.NLA_TYPE_MASK
		if l < 4 || l > len(b) {
			return nil, fmt.Errorf("attribute %d: length %d exceeds the %d bytes left", typ, l, len(b))
		}
		attrs[typ] = b[4:l]
		al := (l + 3) &^ 3
		if al > len(b) {
			al = len(b)
		}
		b = b[al:]
	}
	return attrs, nil
}

func u32(a map[uint16][]byte, t uint16) uint32 {
	if v := a[t]; len(v) >= 4 {
		return binary.NativeEndian.Uint32(v)
	}
	return 0
}

func u64(a map[uint16][]byte, t uint16) uint64 {
	if v := a[t]; len(v) >= 8 {
		return binary.NativeEndian.Uint64(v)
	}
	return 0
}

func str(a map[uint16][]byte, t uint16) string {
	v := a[t]
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

func attrU32(t int, v uint32) *nl.RtAttr { return nl.NewRtAttr(t, nl.Uint32Attr(v)) }

func attrS64(t int, v int64) *nl.RtAttr {
	b := make([]byte, 8)
	binary.NativeEndian.PutUint64(b, uint64(v))
	return nl.NewRtAttr(t, b)
}

func attrStr(t int, s string) *nl.RtAttr { return nl.NewRtAttr(t, nl.ZeroTerminated(s)) }

func (c *client) Status(ctx context.Context) (Status, error) {
	r, err := c.request(ctx, cmdGetStatus, 0)
	if err != nil {
		return Status{}, err
	}
	if len(r) != 1 {
		return Status{}, fmt.Errorf("ainka GET_STATUS: %d replies, want 1", len(r))
	}
	a := r[0]
	return Status{
		Version:         u32(a, attrVersion),
		State:           State(u32(a, attrState)),
		SampleInterval:  time.Duration(u32(a, attrSampleIntervalUs)) * time.Microsecond,
		Samples:         u64(a, attrSamples),
		Decisions:       u64(a, attrDecisions),
		Rejected:        u64(a, attrRejected),
		EventsSent:      u64(a, attrEventsSent),
		EventsDropped:   u64(a, attrEventsDropped),
		LatencyP50:      time.Duration(u64(a, attrLatP50Ns)),
		LatencyP99:      time.Duration(u64(a, attrLatP99Ns)),
		LatencyMax:      time.Duration(u64(a, attrLatMaxNs)),
		LatencyCount:    u64(a, attrLatCount),
		SampleCost:      time.Duration(u64(a, attrSampleCostNs)),
		SampleCostP50:   time.Duration(u64(a, attrSampleCostP50Ns)),
		Policies:        u32(a, attrNrPolicies),
		Recommendations: u32(a, attrNrRecs),
		Actuations:      u32(a, attrNrActuations),
		Uptime:          time.Duration(u64(a, attrUptimeNs)),
	}, nil
}

func policyAttrs(p Policy) []*nl.RtAttr {
	attrs := []*nl.RtAttr{
		attrU32(attrPolicyID, p.ID),
		attrU32(attrPolicyMetric, uint32(p.Metric)),
		attrU32(attrPolicyCmp, uint32(p.Cmp)),
		attrS64(attrPolicyThreshold, p.Threshold),
		attrU32(attrPolicyAction, uint32(p.Action)),
	}
	if p.For > 0 {
		attrs = append(attrs, attrU32(attrPolicyForMs, uint32(p.For/time.Millisecond)))
	}
	if p.Priority > 0 {
		attrs = append(attrs, attrU32(attrPolicyPriority, p.Priority))
	}
	if p.TargetState != StateUnspec {
		attrs = append(attrs, attrU32(attrPolicyTarget, uint32(p.TargetState)))
	}
	if p.RecKey != "" {
		attrs = append(attrs, attrStr(attrRecKey, p.RecKey), attrS64(attrRecValue, p.RecValue))
	}
	switch p.Action {
	case ActionRenice:
		attrs = append(attrs, attrU32(attrActPID, p.ActPID), attrS64(attrActValue, p.ActValue))
	case ActionReadahead:
		attrs = append(attrs, attrU32(attrActDev, p.ActDev), attrS64(attrActValue, p.ActValue))
	}
	return attrs
}

func parsePolicy(a map[uint16][]byte) Policy {
	return Policy{
		ID:          u32(a, attrPolicyID),
		Metric:      Metric(u32(a, attrPolicyMetric)),
		Cmp:         Cmp(u32(a, attrPolicyCmp)),
		Threshold:   int64(u64(a, attrPolicyThreshold)),
		For:         time.Duration(u32(a, attrPolicyForMs)) * time.Millisecond,
		Action:      Action(u32(a, attrPolicyAction)),
		Priority:    u32(a, attrPolicyPriority),
		TargetState: State(u32(a, attrPolicyTarget)),
		RecKey:      str(a, attrRecKey),
		RecValue:    int64(u64(a, attrRecValue)),
		ActPID:      u32(a, attrActPID),
		ActDev:      u32(a, attrActDev),
		ActValue:    int64(u64(a, attrActValue)),
		Hits:        u64(a, attrPolicyHits),
		Active:      len(a[attrPolicyActive]) > 0 && a[attrPolicyActive][0] != 0,
	}
}

func (c *client) SetPolicy(ctx context.Context, p Policy) error {
	if err := ValidatePolicy(p); err != nil {
		return err
	}
	return c.setPolicy(ctx, p)
}

// setPolicy and the other unvalidated senders exist so that the contract
// test can hold the module to the errors the validation promises.
func (c *client) setPolicy(ctx context.Context, p Policy) error {
	_, err := c.request(ctx, cmdSetPolicy, unix.NLM_F_ACK, policyAttrs(p)...)
	return err
}

func (c *client) DelPolicy(ctx context.Context, id uint32) error {
	_, err := c.request(ctx, cmdDelPolicy, unix.NLM_F_ACK, attrU32(attrPolicyID, id))
	return err
}

func (c *client) Policy(ctx context.Context, id uint32) (Policy, error) {
	r, err := c.request(ctx, cmdGetPolicy, 0, attrU32(attrPolicyID, id))
	if err != nil {
		return Policy{}, err
	}
	if len(r) != 1 {
		return Policy{}, fmt.Errorf("ainka GET_POLICY: %d replies, want 1", len(r))
	}
	return parsePolicy(r[0]), nil
}

// dumpRetries bounds the retries of a dump that changes while it is read
// (the module flags it NLM_F_DUMP_INTR).
const dumpRetries = 5

func (c *client) dump(ctx context.Context, cmd uint8) ([]map[uint16][]byte, error) {
	for i := 0; ; i++ {
		r, err := c.request(ctx, cmd, unix.NLM_F_DUMP)
		if !errors.Is(err, nl.ErrDumpInterrupted) || i == dumpRetries {
			return r, err
		}
	}
}

func (c *client) Policies(ctx context.Context) ([]Policy, error) {
	r, err := c.dump(ctx, cmdGetPolicy)
	if err != nil {
		return nil, err
	}
	ps := make([]Policy, 0, len(r))
	for _, a := range r {
		ps = append(ps, parsePolicy(a))
	}
	return ps, nil
}

func (c *client) SetRecommendation(ctx context.Context, key string, value int64) error {
	if err := ValidateRecKey(key); err != nil {
		return err
	}
	return c.setRecommendation(ctx, key, value)
}

func (c *client) setRecommendation(ctx context.Context, key string, value int64) error {
	_, err := c.request(ctx, cmdSetRecommendation, unix.NLM_F_ACK, attrStr(attrRecKey, key), attrS64(attrRecValue, value))
	return err
}

func (c *client) DelRecommendation(ctx context.Context, key string) error {
	_, err := c.request(ctx, cmdDelRecommendation, unix.NLM_F_ACK, attrStr(attrRecKey, key))
	return err
}

func (c *client) Recommendation(ctx context.Context, key string) (int64, error) {
	r, err := c.request(ctx, cmdGetRecommendation, 0, attrStr(attrRecKey, key))
	if err != nil {
		return 0, err
	}
	if len(r) != 1 {
		return 0, fmt.Errorf("ainka GET_RECOMMENDATION: %d replies, want 1", len(r))
	}
	return int64(u64(r[0], attrRecValue)), nil
}

func (c *client) Recommendations(ctx context.Context) (map[string]int64, error) {
	r, err := c.dump(ctx, cmdGetRecommendation)
	if err != nil {
		return nil, err
	}
	m := make(map[string]int64, len(r))
	for _, a := range r {
		m[str(a, attrRecKey)] = int64(u64(a, attrRecValue))
	}
	return m, nil
}

func (c *client) SetState(ctx context.Context, s State) error {
	if err := ValidateState(s); err != nil {
		return err
	}
	return c.setState(ctx, s)
}

func (c *client) setState(ctx context.Context, s State) error {
	_, err := c.request(ctx, cmdSetState, unix.NLM_F_ACK, attrU32(attrState, uint32(s)))
	return err
}

func (c *client) Reset(ctx context.Context) error {
	_, err := c.request(ctx, cmdSetState, unix.NLM_F_ACK, nl.NewRtAttr(attrReset, nil))
	return err
}

func (c *client) Actuate(ctx context.Context, a Actuation) (ActuationResult, error) {
	if err := ValidateActuation(a); err != nil {
		return ActuationResult{}, err
	}
	return c.actuate(ctx, a)
}

func (c *client) actuate(ctx context.Context, a Actuation) (ActuationResult, error) {
	attrs := []*nl.RtAttr{attrU32(attrActKind, uint32(a.Kind))}
	switch a.Kind {
	case ActionRestore:
		_, err := c.request(ctx, cmdActuate, unix.NLM_F_ACK, attrs...)
		return ActuationResult{Kind: ActionRestore}, err
	case ActionRenice:
		attrs = append(attrs, attrU32(attrActPID, a.PID))
	case ActionReadahead:
		attrs = append(attrs, attrU32(attrActDev, a.Dev))
	}
	attrs = append(attrs, attrS64(attrActValue, a.Value))
	r, err := c.request(ctx, cmdActuate, 0, attrs...)
	if err != nil {
		return ActuationResult{}, err
	}
	if len(r) != 1 {
		return ActuationResult{}, fmt.Errorf("ainka ACTUATE: %d replies, want 1", len(r))
	}
	return ActuationResult{
		Kind:  Action(u32(r[0], attrActKind)),
		PID:   u32(r[0], attrActPID),
		Prev:  int64(u64(r[0], attrActPrev)),
		Value: int64(u64(r[0], attrActValue)),
	}, nil
}

// genlHeader is struct genlmsghdr with its reserved field zeroed: the
// kernel refuses a non-zero one, and nl.Genlmsg serializes 4 bytes out of
// a 2-byte struct, whatever follows it in memory.
type genlHeader struct{ cmd uint8 }

func (h genlHeader) Len() int          { return 4 }
func (h genlHeader) Serialize() []byte { return []byte{h.cmd, Version, 0, 0} }
