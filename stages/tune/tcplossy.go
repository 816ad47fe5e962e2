package tune

// What the TCP tuner knows of lossy links before it measures them.

// lossBasedSpread bounds how far apart two loss-based congestion
// controls (every one of the allowlist's but bbr: cubic, reno, htcp and
// dctcp back their window off at each loss) can be on one lossy link.
// Under random loss p a loss-based sender keeps about C/√p segments in
// flight (Mathis et al., 1997: C ≈ 1.2 for Reno); CUBIC's own growth at
// this host's small bandwidth-delay products stays within a small factor
// of it (its TCP-friendly region), so one loss-based algorithm gets at
// most about twice another's rate there: reno measured +83 % over cubic
// in tcp-lossy-cubic's first run, +349 % once (bench-history.md) on a
// step that also straddled a connection's start. Where bbr has measured
// lossBasedSpread times the loss-based original, a loss-based arm not
// yet measured would have to beat the original by that much to tie.
const lossBasedSpread = 4

// lossTolerant is the allowlist's algorithm that does not back off at a
// loss: it paces at the bandwidth it measures.
const lossTolerant = "bbr"

// dominated: on a lossy link, once the original (loss-based) and bbr
// have been measured and bbr beat the original lossBasedSpread times
// over, the loss-based arms not measured yet cannot win: the trial
// settles without them. Each would have cost an effect window at a
// fraction of bbr's rate (tcp-lossy-cubic's first run: reno for 2 s at
// about a quarter of it, on every open connection). The factor is twice
// the spread the loss-based algorithms can have, which is the margin
// for noise: the original measured right after bbr (the connections
// switched back mid-flight) is too noisy for the bandit's three
// standard errors (a first run with bbr at +482 % still tried reno).
// Wrong, it costs nothing against the original: bbr is kept.
// The original must be measured: a model bound in its place (Mathis
// et al.'s MSS/RTT x 1.22/sqrt(p) from the loss and RTT) is 3-8x above
// what cubic does at tcp-lossy-cubic's 10 % loss, and bbr never measured
// even twice it (docs/bench.md, session 8).
func (tcpFamily) dominated(tg *target, arms []string, b *bandit) bool {
	if tg.class != Lossy || tg.cur == lossTolerant || b.pulls[0] == 0 {
		return false
	}
	lead := -1
	for i := 1; i < b.n && i < len(arms); i++ {
		if arms[i] == lossTolerant {
			lead = i
		}
	}
	if lead < 0 || b.pulls[lead] == 0 || b.mean(lead) < reward(lossBasedSpread-1) {
		return false
	}
	return true
}
