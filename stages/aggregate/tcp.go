package aggregate

import "github.com/ainka/ainka/stages/decode"

// Bounds of the TCP tables: network namespaces per window (Window.Netns;
// past it, NetnsOther counts the records) and sockets whose counters the
// aggregator follows across windows (the least recently seen is evicted).
const (
	MaxNetns   = 4
	MaxSockets = 128
)

// NetnsStat is one network namespace's TCP in the window, from tcp
// records. Retransmits counts retransmission events (weighted like every
// count); the byte and segment figures are differences of the sockets'
// cumulative counters between their records, so they are exact whatever
// the sampling, but a socket's first record only sets its baseline.
type NetnsStat struct {
	Netns         uint32 // the namespace's inode number
	Records       uint64
	Retransmits   uint64
	BytesAcked    uint64 // sent and acknowledged
	BytesReceived uint64
	SegsOut       uint64 // segments sent, retransmissions included
	RetransSegs   uint64 // segments retransmitted
	// RTT is the smoothed RTT of the records, in nanoseconds.
	RTT Hist
}

// sockTail is where a socket's cumulative counters stood at its last record.
type sockTail struct {
	cookie        uint64
	lastTs        uint64
	acked, recvd  uint64
	segsOut, retx uint32
}

// sockets follows TCP sockets across windows for their counters' deltas.
type sockets struct {
	tab [MaxSockets]sockTail
	n   int
}

// delta returns how far the socket of r moved since its last record
// (zero for a socket first seen) and remembers where it stands now.
func (s *sockets) delta(ts, cookie, acked, recvd uint64, segsOut, retx uint32) (dAcked, dRecvd, dSegs, dRetx uint64) {
	old := 0
	for i := 0; i < s.n; i++ {
		t := &s.tab[i]
		if t.cookie == cookie {
			if acked >= t.acked && recvd >= t.recvd {
				dAcked, dRecvd = acked-t.acked, recvd-t.recvd
				// 32-bit counters wrap: the difference modulo 2^32.
				dSegs, dRetx = uint64(segsOut-t.segsOut), uint64(retx-t.retx)
			}
			*t = sockTail{cookie, max(ts, t.lastTs), acked, recvd, segsOut, retx}
			return
		}
		if t.lastTs < s.tab[old].lastTs {
			old = i
		}
	}
	if s.n < MaxSockets {
		old = s.n
		s.n++
	}
	s.tab[old] = sockTail{cookie, ts, acked, recvd, segsOut, retx}
	return
}

// tcp folds a tcp record of weight n into w.
func (a *Stage) tcp(w *Window, e *decode.Event, n uint64) {
	r := e.TCP()
	ns := w.netns(r.Netns)
	if ns == nil {
		return
	}
	ns.Records += n
	if e.Flags&decode.FlagTCPRetrans != 0 {
		ns.Retransmits += n
	}
	if r.SrttUs > 0 {
		ns.RTT.AddN(uint64(r.SrttUs)*1000, n)
	}
	if a.noEntities {
		return
	}
	dA, dR, dS, dX := a.socks.delta(e.TsNs, r.SockCookie, r.BytesAcked, r.BytesReceived, r.SegsOut, r.TotalRetrans)
	ns.BytesAcked += dA
	ns.BytesReceived += dR
	ns.SegsOut += dS
	ns.RetransSegs += dX
}

// netns returns the namespace's entry, or nil when the table is full.
func (w *Window) netns(inum uint32) *NetnsStat {
	for i := 0; i < w.NumNetns; i++ {
		if w.Netns[i].Netns == inum {
			return &w.Netns[i]
		}
	}
	if w.NumNetns == MaxNetns {
		w.NetnsOther++
		return nil
	}
	ns := &w.Netns[w.NumNetns]
	w.NumNetns++
	ns.Netns = inum
	return ns
}

// appendNetns appends the network namespaces' TCP figures.
func (w *Window) appendNetns(dst []byte) []byte {
	dst = append(dst, `,"netns":[`...)
	for i := 0; i < w.NumNetns; i++ {
		ns := &w.Netns[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendUint(dst, `{"netns":`, uint64(ns.Netns))
		dst = appendUint(dst, `,"records":`, ns.Records)
		dst = appendUint(dst, `,"retransmits":`, ns.Retransmits)
		dst = appendUint(dst, `,"bytes_acked":`, ns.BytesAcked)
		dst = appendUint(dst, `,"bytes_received":`, ns.BytesReceived)
		dst = appendUint(dst, `,"segs_out":`, ns.SegsOut)
		dst = appendUint(dst, `,"retrans_segs":`, ns.RetransSegs)
		dst = appendHist(dst, `,"srtt":`, &ns.RTT)
		dst = append(dst, '}')
	}
	dst = appendUint(dst, `],"netns_other":`, w.NetnsOther)
	return dst
}
