package tomlguard

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	nest := func(n int, open, close string) string {
		return "x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n"
	}
	for _, c := range []struct {
		name, text string
		line       int
		want       error
	}{
		{"tables at the limit", nest(MaxDepth-1, "{a = ", "}"), 0, nil},
		{"tables over", "[daemon]\n" + nest(MaxDepth+1, "{a = ", "}"), 2, ErrTooNested},
		{"arrays over", "# c\n\n" + nest(MaxDepth+1, "[", "]"), 3, ErrTooNested},
		{"arrays at the limit", nest(MaxDepth, "[", "]"), 0, nil},
		{"headers do not nest", strings.Repeat("[[policy]]\nname = 'a'\n[t]\n", 100), 0, nil},
		{"brackets in strings", "a = \"" + strings.Repeat("{[", 100) + "\"\nb = '" + strings.Repeat("[", 100) + "'\n", 0, nil},
		{"brackets in multi-line strings", "a = \"\"\"\n" + strings.Repeat("{\n", 100) + "\"\"\"\nb = '''" + strings.Repeat("[", 100) + "'''\n", 0, nil},
		{"brackets in comments", "a = 1 # " + strings.Repeat("{", 100) + "\n", 0, nil},
		{"escaped quote", `a = "\"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"` + "\n", 0, nil},
		{"line after a multi-line string", "a = \"\"\"x\ny\"\"\"\n" + nest(MaxDepth+1, "[", "]"), 3, ErrTooNested},
		{"multi-line array", "x = [\n" + strings.Repeat("[", MaxDepth) + "\n", 2, ErrTooNested},
		{"unterminated string", "a = \"{{{{\nb = 1\n", 0, nil},
		{"too large", strings.Repeat("#", MaxSize+1), 0, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Check([]byte(c.text))
			if !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
				t.Fatalf("Check: %v, want %v", err, c.want)
			}
			var ge *Error
			if c.want != nil && (!errors.As(err, &ge) || ge.Line != c.line) {
				t.Errorf("error %v at line %d, want line %d", err, ge.Line, c.line)
			}
		})
	}
}

// FuzzCheck: Check never panics and never reads past the text.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"x = {a = [1, {b = 2}]}", "a = \"\"\"\n{\n\"\"\"", "a = '''x''''", "a = \"\\", "[t]\nx = [[[", "#\n'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Check([]byte(s))
		var ge *Error
		if err != nil && (!errors.As(err, &ge) || ge.Line < 0 || ge.Line > strings.Count(s, "\n")+1) {
			t.Fatalf("Check(%q): %v", s, err)
		}
	})
}
