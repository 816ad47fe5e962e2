package expr

import (
	"errors"
	"strings"
	"testing"
)

// A hostile condition nested 400 KB deep used to overflow the goroutine
// stack (a fatal error, no exit restore); it must be an error naming the
// problem.
func TestParseBoundsNesting(t *testing.T) {
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "cpu>1" + strings.Repeat(close, n)
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"parens 400KB", deep(200_000, "(", ")"), "longer than the limit"},
		{"parens", deep(MaxDepth+1, "(", ")"), "nested more than 64 levels"},
		{"not", strings.Repeat("not ", MaxDepth+1) + "cpu>1", "nested more than 64 levels"},
		{"bang", strings.Repeat("!", MaxDepth+1) + "cpu>1", "nested more than 64 levels"},
		{"minus", strings.Repeat("-", MaxDepth+1) + "cpu>1", "nested more than 64 levels"},
		{"abs", strings.Repeat("abs(", MaxDepth+1) + "cpu" + strings.Repeat(")", MaxDepth+1) + ">1", "nested more than 64 levels"},
		{"min", strings.Repeat("min(1,", MaxDepth+1) + "cpu" + strings.Repeat(")", MaxDepth+1) + ">1", "nested more than 64 levels"},
		{"long flat", strings.Repeat("cpu>1 and ", MaxLen/10) + "cpu>1", "longer than the limit of 16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.src)
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: %v, want an *Error containing %q", err, tc.want)
			}
		})
	}
}

// The limits leave every sensible condition alone: exactly MaxDepth levels
// and a condition of exactly MaxLen bytes parse.
func TestParseAtTheLimits(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("(", MaxDepth) + "cpu>1" + strings.Repeat(")", MaxDepth),
		strings.Repeat("not ", MaxDepth) + "cpu>1",
		strings.Repeat("-", MaxDepth) + "cpu>1",
		"cpu>1" + strings.Repeat(" ", MaxLen-5),
	} {
		if _, err := Parse(src); err != nil {
			t.Errorf("Parse(%.40q…): %v", src, err)
		}
	}
	// Depth is nesting, not count: many siblings at depth 1 are fine.
	if _, err := Parse(strings.Repeat("(cpu>1) and ", 500) + "(cpu>1)"); err != nil {
		t.Errorf("siblings: %v", err)
	}
}
