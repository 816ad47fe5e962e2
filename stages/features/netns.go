package features

import (
	"math"
	"strconv"

	"github.com/ainka/ainka/stages/aggregate"
	"github.com/ainka/ainka/stages/decode"
)

// MaxNetns bounds the network namespaces of a Vector (as many as a window
// holds).
const MaxNetns = aggregate.MaxNetns

// NetnsFeatures is one network namespace's TCP in one window: what the
// TCP tuner classifies (lossy or clean links) and its objective.
type NetnsFeatures struct {
	Netns   uint32 // inode number of the namespace
	Records uint64
	// TxBytesPerS and RxBytesPerS: bytes sent and acknowledged, bytes
	// received, per second (from the sockets' counters).
	TxBytesPerS float64
	RxBytesPerS float64
	// RetransPerS are retransmission events per second.
	RetransPerS float64
	// LossPct estimates the share of segments lost: retransmitted over
	// sent, in percent (NaN when nothing was sent).
	LossPct float64
	// RTT quantiles of the smoothed RTT samples, microseconds (NaN
	// without samples).
	RTTP50Us float64
	RTTP99Us float64
}

// netnsFeatures fills v's namespace table from w.
func netnsFeatures(w *aggregate.Window, v *Vector, secs float64) {
	v.NumNetns = 0
	if secs <= 0 || !w.Enabled(decode.KindTCP) {
		return
	}
	for i := 0; i < w.NumNetns; i++ {
		ns := &w.Netns[i]
		f := &v.Netns[v.NumNetns]
		v.NumNetns++
		*f = NetnsFeatures{Netns: ns.Netns, Records: ns.Records, LossPct: math.NaN()}
		f.TxBytesPerS = float64(ns.BytesAcked) / secs
		f.RxBytesPerS = float64(ns.BytesReceived) / secs
		f.RetransPerS = float64(ns.Retransmits) * w.Scale(decode.KindTCP) / secs
		if ns.SegsOut > 0 {
			f.LossPct = 100 * float64(ns.RetransSegs) / float64(ns.SegsOut)
		}
		f.RTTP50Us = ns.RTT.Quantile(0.5) / 1e3
		f.RTTP99Us = ns.RTT.Quantile(0.99) / 1e3
	}
}

// appendNetnsJSON appends the "netns" table; nothing when it is empty,
// so that the features of traces without tcp records read as before.
func (v *Vector) appendNetnsJSON(dst []byte) []byte {
	if v.NumNetns == 0 {
		return dst
	}
	dst = append(dst, `,"netns":[`...)
	for i := 0; i < v.NumNetns; i++ {
		f := &v.Netns[i]
		dst = openRow(dst, i, "netns", uint64(f.Netns))
		dst = append(dst, `,"records":`...)
		dst = strconv.AppendUint(dst, f.Records, 10)
		dst = appendField(dst, "tx_bytes_per_s", f.TxBytesPerS)
		dst = appendField(dst, "rx_bytes_per_s", f.RxBytesPerS)
		dst = appendField(dst, "retrans_per_s", f.RetransPerS)
		dst = appendField(dst, "loss_pct", f.LossPct)
		dst = appendField(dst, "rtt_p50_us", f.RTTP50Us)
		dst = appendField(dst, "rtt_p99_us", f.RTTP99Us)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}
