package tomlguard

import (
	"errors"
	"fmt"
)

// Limits for the files AINKA reads.
const (
	// MaxDepth is the deepest nesting of inline tables and arrays.
	MaxDepth = 16
	// MaxSize is the largest file, in bytes.
	MaxSize = 4 << 20
)

// ErrTooNested and ErrTooLarge are wrapped by the errors of Check.
var (
	ErrTooNested = errors.New("nested too deep")
	ErrTooLarge  = errors.New("too large")
)

// Error is a limit exceeded at a line (1-based; 0 for the whole text).
type Error struct {
	Line int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}
func (e *Error) Unwrap() error { return e.Err }

// Check refuses a text larger than MaxSize or that nests inline tables and
// arrays deeper than MaxDepth. It is one pass that knows TOML's strings
// and comments, so brackets inside them do not count; anything else it
// leaves to the decoder.
func Check(data []byte) error {
	if len(data) > MaxSize {
		return &Error{0, fmt.Sprintf("%d bytes, over the limit of %d", len(data), MaxSize), ErrTooLarge}
	}
	sc := scanner{data: data, line: 1}
	for sc.i < len(data) {
		if err := sc.step(); err != nil {
			return err
		}
	}
	return nil
}

type scanner struct {
	data    []byte
	i, line int
	depth   int
	inValue bool // after "=" on this logical line, or inside brackets
}

// step consumes one token: a newline, a comment, a string or one byte.
func (sc *scanner) step() error {
	c := sc.data[sc.i]
	switch {
	case c == '\n':
		sc.line++
		if sc.depth == 0 {
			sc.inValue = false
		}
		sc.i++
	case c == '#':
		for sc.i < len(sc.data) && sc.data[sc.i] != '\n' {
			sc.i++
		}
	case c == '"' || c == '\'':
		sc.skipString(c)
	case c == '=':
		sc.inValue = true
		sc.i++
	case (c == '{' || c == '[') && (sc.inValue || sc.depth > 0):
		sc.depth++
		if sc.depth > MaxDepth {
			return &Error{sc.line, fmt.Sprintf("inline tables and arrays nested more than %d deep", MaxDepth), ErrTooNested}
		}
		sc.i++
	case (c == '}' || c == ']') && sc.depth > 0:
		sc.depth--
		sc.i++
	default:
		// "[table]" and "[[array]]" headers are not values: brackets at
		// the start of a line outside a value do not nest.
		sc.i++
	}
	return nil
}

// skipString skips a basic or literal string, single- or multi-line,
// counting the newlines inside.
func (sc *scanner) skipString(q byte) {
	d := sc.data
	multi := sc.i+2 < len(d) && d[sc.i+1] == q && d[sc.i+2] == q
	if multi {
		sc.i += 3
	} else {
		sc.i++
	}
	for sc.i < len(d) {
		c := d[sc.i]
		switch {
		case c == '\\' && q == '"':
			if sc.i+1 < len(d) && d[sc.i+1] == '\n' {
				sc.line++
			}
			sc.i += 2
			continue
		case c == '\n':
			if !multi {
				return // an unterminated string: the decoder says so
			}
			sc.line++
		case c == q && (!multi || (sc.i+2 < len(d) && d[sc.i+1] == q && d[sc.i+2] == q)):
			if multi {
				sc.i += 3
				// up to two more quotes may end a multi-line string
				for k := 0; k < 2 && sc.i < len(d) && d[sc.i] == q; k++ {
					sc.i++
				}
			} else {
				sc.i++
			}
			return
		}
		sc.i++
	}
}
