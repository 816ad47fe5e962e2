package expr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Error is a parse or check error at a position of the source text.
// Line and Col are 1-based; Col counts bytes.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber   // plain number, val set
	tDuration // number with a time unit, dur set
	tOp       // operator or punctuation, text set
)

type token struct {
	kind      tokKind
	text      string
	val       float64
	dur       time.Duration
	line, col int
	off       int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tIdent:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits src into tokens. Whitespace, including newlines of a
// multi-line condition, separates tokens.
func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			adv(1)
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case isIdentStart(c):
			j := i
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			// PLUGIN.NAME: a plugin's feature or score is one name.
			if j+1 < len(src) && src[j] == '.' && isIdentStart(src[j+1]) {
				for j++; j < len(src) && isIdentPart(src[j]); j++ {
				}
			}
			toks = append(toks, token{kind: tIdent, text: src[i:j], line: line, col: col, off: i})
			adv(j - i)
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			t, err := lexNumber(src, i, line, col)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			adv(len(t.text))
		default:
			op := ""
			for _, o := range []string{">=", "<=", "==", "!=", "&&", "||", ">", "<", "!", "+", "-", "*", "/", "(", ")", ","} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				if c == '=' {
					return nil, &Error{line, col, `"=" is not a comparison; use "=="`}
				}
				return nil, &Error{line, col, fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{kind: tOp, text: op, line: line, col: col, off: i})
			adv(len(op))
		}
	}
	toks = append(toks, token{kind: tEOF, line: line, col: col, off: len(src)})
	return toks, nil
}

// lexNumber reads the number at src[i:], with its unit (a duration) or a
// decorative percent sign.
func lexNumber(src string, i, line, col int) (token, error) {
	j := i
	for j < len(src) && (isDigit(src[j]) || src[j] == '.' || src[j] == '_') {
		j++
	}
	// exponent
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') && j+1 < len(src) &&
		(isDigit(src[j+1]) || ((src[j+1] == '-' || src[j+1] == '+') && j+2 < len(src) && isDigit(src[j+2]))) {
		j += 2
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	num := src[i:j]
	k := j
	for k < len(src) && isIdentPart(src[k]) {
		k++
	}
	unit := src[j:k]
	v, err := strconv.ParseFloat(strings.ReplaceAll(num, "_", ""), 64)
	if err != nil {
		return token{}, &Error{line, col, fmt.Sprintf("bad number %q", num)}
	}
	t := token{kind: tNumber, text: src[i:k], val: v, line: line, col: col, off: i}
	if unit != "" {
		d, ok := unitDuration(unit)
		if !ok {
			return token{}, &Error{line, col + (j - i), fmt.Sprintf("unknown unit %q after %s (durations use ms, s, m, h)", unit, num)}
		}
		t.kind = tDuration
		t.dur = time.Duration(v * float64(d))
	} else if k < len(src) && src[k] == '%' {
		// "cpu>90%": a percent sign after a number is only decoration,
		// features in percent are already 0..100.
		k++
		t.text = src[i:k]
	}
	return t, nil
}

func unitDuration(u string) (time.Duration, bool) {
	switch u {
	case "ns":
		return time.Nanosecond, true
	case "us":
		return time.Microsecond, true
	case "ms":
		return time.Millisecond, true
	case "s", "sec":
		return time.Second, true
	case "m", "min":
		return time.Minute, true
	case "h":
		return time.Hour, true
	}
	return 0, false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
