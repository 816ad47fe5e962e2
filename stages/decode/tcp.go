package decode

import (
	"net/netip"
	"unsafe"

	"github.com/ainka/ainka/bpf/record"
)

// KindTCP and FlagTCPRetrans re-export the tcp kind's names.
const (
	KindTCP        = record.KindTCP
	FlagTCPRetrans = record.FlagTCPRetrans
)

// Address families of a tcp record (linux/socket.h).
const (
	afInet  = 2
	afInet6 = 10
)

// TCP is the tcp record's view (valid only for KindTCP; see Event).
func (e *Event) TCP() *record.TCP { return (*record.TCP)(unsafe.Pointer(e)) }

// TCPRemote returns a tcp record's remote address, or the zero Addr for a
// family other than IPv4 and IPv6 (a damaged record).
func TCPRemote(r *record.TCP) netip.Addr {
	switch r.Family {
	case afInet:
		return netip.AddrFrom4([4]byte(r.Daddr[:4]))
	case afInet6:
		return netip.AddrFrom16(r.Daddr)
	}
	return netip.Addr{}
}

// appendTCPJSON appends a tcp record's fields.
func appendTCPJSON(dst []byte, e *Event) []byte {
	s := e.TCP()
	dst = appendBool(dst, `,"retransmit":`, e.Flags&FlagTCPRetrans != 0)
	dst = appendUint(dst, `,"netns":`, uint64(s.Netns))
	dst = appendUint(dst, `,"sock_cookie":`, s.SockCookie)
	dst = append(dst, `,"remote":"`...)
	if a := TCPRemote(s); a.IsValid() {
		dst = a.AppendTo(dst)
	}
	dst = append(dst, '"')
	dst = appendUint(dst, `,"sport":`, uint64(s.Sport))
	dst = appendUint(dst, `,"dport":`, uint64(s.Dport))
	dst = appendUint(dst, `,"state":`, uint64(s.State))
	dst = appendUint(dst, `,"srtt_us":`, uint64(s.SrttUs))
	dst = appendUint(dst, `,"snd_cwnd":`, uint64(s.SndCwnd))
	dst = appendUint(dst, `,"bytes_acked":`, s.BytesAcked)
	dst = appendUint(dst, `,"bytes_received":`, s.BytesReceived)
	dst = appendUint(dst, `,"segs_out":`, uint64(s.SegsOut))
	return appendUint(dst, `,"total_retrans":`, uint64(s.TotalRetrans))
}
