package push

import (
	"bytes"
	"strconv"
)

// Stamp appends to dst the samples of text (Prometheus text format, one
// sample a line, no timestamps) with labels added to each and the
// timestamp tsMs (Unix milliseconds) after each value. Comment and blank
// lines are left out: the store keeps no metadata from them. labels is
// `a="x",b="y"` (empty: none added).
func Stamp(dst, text, labels []byte, tsMs int64) []byte {
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		dst = appendLabels(dst, line, labels)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, tsMs, 10)
		dst = append(dst, '\n')
	}
	return dst
}

// appendLabels appends one sample line with labels put first in its
// label set.
func appendLabels(dst, line, labels []byte) []byte {
	if len(labels) == 0 {
		return append(dst, line...)
	}
	end := bytes.IndexAny(line, "{ ")
	if end < 0 {
		return append(dst, line...) // not a sample; the store will say so
	}
	dst = append(dst, line[:end]...)
	dst = append(dst, '{')
	dst = append(dst, labels...)
	if line[end] == ' ' {
		dst = append(dst, '}')
		return append(dst, line[end:]...)
	}
	rest := line[end+1:]
	if len(rest) > 0 && rest[0] != '}' {
		dst = append(dst, ',')
	}
	return append(dst, rest...)
}
