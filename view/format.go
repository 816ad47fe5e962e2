package view

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Style colours a rendered view's parts; Plain leaves text as it is.
type Style struct {
	Title, Head, Dim, Good, Warn, Bad func(string) string
}

func same(s string) string { return s }

// Plain is the uncoloured style: logs, pipes, tests.
var Plain = Style{Title: same, Head: same, Dim: same, Good: same, Warn: same, Bad: same}

// score colours an anomaly score: 0.5 is about a 1e-5 tail probability
// (stages/predict), worth a look; 0.3 is unusual.
func (st Style) score(n Num, text string) string {
	switch {
	case !n.Valid():
		return st.Dim(text)
	case n >= 0.5:
		return st.Bad(text)
	case n >= 0.3:
		return st.Warn(text)
	}
	return text
}

// si formats v with a k/M/G suffix in at most 6 characters.
func si(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	a := math.Abs(v)
	switch {
	case a < 0.005:
		return "0"
	case a >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case a >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func num(n Num) string { return si(float64(n)) }

// duration formats d as 1h02m, 3m04s or 5.2s.
func duration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// ago is how long before the snapshot's event time t was.
func ago(now, t uint64) string {
	if t == 0 || t > now {
		return "now"
	}
	return duration(time.Duration(now-t)) + " ago"
}

var bars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws the last width points between their own min and max; a
// missing point is a space.
func Sparkline(pts []Num, width int) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range pts[max(len(pts)-width, 0):] {
		if p.Valid() {
			lo, hi = math.Min(lo, float64(p)), math.Max(hi, float64(p))
		}
	}
	return SparklineRange(pts, width, lo, hi)
}

// SparklineRange draws the last width points on a fixed scale from lo to
// hi (scores: 0 to 1, so that noise near 0 stays flat).
func SparklineRange(pts []Num, width int, lo, hi float64) string {
	if len(pts) > width {
		pts = pts[len(pts)-width:]
	}
	var b strings.Builder
	for _, p := range pts {
		switch {
		case !p.Valid():
			b.WriteByte(' ')
		case hi <= lo:
			b.WriteRune(bars[0])
		default:
			f := math.Max(0, math.Min(1, (float64(p)-lo)/(hi-lo)))
			b.WriteRune(bars[int(f*float64(len(bars)-1)+0.5)])
		}
	}
	return b.String()
}

// cell pads or cuts s to exactly w columns (runes; the view draws no wide
// characters), aligned left or right.
func cell(s string, w int, right bool) string {
	n := utf8.RuneCountInString(s)
	if n > w {
		if w <= 1 {
			return string([]rune(s)[:w])
		}
		return string([]rune(s)[:w-1]) + "…"
	}
	pad := strings.Repeat(" ", w-n)
	if right {
		return pad + s
	}
	return s + pad
}

func left(s string, w int) string  { return cell(s, w, false) }
func right(s string, w int) string { return cell(s, w, true) }
