package genl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// How often the receive loop looks at ctx while no event arrives.
const pollInterval = 100 * time.Millisecond

func (c *client) Subscribe(ctx context.Context) (<-chan Event, error) {
	s, err := nl.Subscribe(unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("subscribe to ainka events: %w", err)
	}
	fd := s.GetFd()
	if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(c.groupID)); err != nil {
		s.Close()
		return nil, fmt.Errorf("join ainka multicast group %d: %w", c.groupID, err)
	}
	// Room for bursts: a reader that falls behind gets ENOBUFS, not stalls.
	_ = s.SetReceiveBufferSize(4<<20, true)
	tv := unix.NsecToTimeval(pollInterval.Nanoseconds())
	_ = s.SetReceiveTimeout(&tv)
	ch := make(chan Event, 1024)
	go func() {
		defer close(ch)
		defer s.Close()
		for ctx.Err() == nil {
			msgs, _, err := s.Receive()
			now := monotonicNs()
			if err != nil {
				if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
					continue
				}
				return
			}
			for _, m := range msgs {
				if m.Header.Type != c.family {
					continue
				}
				ev, err := ParseEvent(m.Data)
				if err != nil {
					continue
				}
				ev.RecvNs = now
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch, nil
}

// ParseEvent decodes the payload (genl header + attributes) of one
// AINKA_CMD_EVENT message.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) >= 1 && payload[0] != cmdEvent {
		return Event{}, fmt.Errorf("parse ainka event: command %d is not EVENT", payload[0])
	}
	a, err := parseAttrs(payload)
	if err != nil {
		return Event{}, fmt.Errorf("parse ainka event: %w", err)
	}
	if _, ok := a[attrEventType]; !ok {
		return Event{}, fmt.Errorf("parse ainka event: no EVENT_TYPE attribute")
	}
	return Event{
		Type:      EventType(u32(a, attrEventType)),
		Seq:       u64(a, attrEventSeq),
		State:     State(u32(a, attrState)),
		PrevState: State(u32(a, attrPrevState)),
		RuleID:    u32(a, attrPolicyID),
		Action:    Action(u32(a, attrPolicyAction)),
		Metric:    Metric(u32(a, attrPolicyMetric)),
		Value:     int64(u64(a, attrEventValue)),
		Threshold: int64(u64(a, attrPolicyThreshold)),
		TsNs:      u64(a, attrEventTsNs),
		Latency:   time.Duration(u64(a, attrEventLatencyNs)),
		Source:    str(a, attrEventSource),
		HorizonMs: u32(a, attrHorizonMs),
	}, nil
}

func monotonicNs() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano())
}
