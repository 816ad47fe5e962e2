package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ainka/ainka/internal/textdist"
	"github.com/ainka/ainka/internal/tomlguard"

	"github.com/BurntSushi/toml"
)

// Sentinel errors; every *Error wraps one of them.
var (
	ErrSyntax     = errors.New("syntax error")
	ErrUnknownKey = errors.New("unknown key")
	ErrBadValue   = errors.New("bad value")
)

// Error is one problem in a configuration file. Line is 0 when the key is
// not in a file (a Config built in code, or a default value).
type Error struct {
	Path string // the file, "" when not from a file
	Line int
	Key  string // dotted: "daemon.max_memory_mb"
	Msg  string
	Err  error // ErrSyntax, ErrUnknownKey or ErrBadValue
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads the configuration file at path over the defaults. An empty
// path, or the default path when that file does not exist, gives Default():
// the daemon runs without a file. Any other missing file is an error, since
// the operator asked for it by name. Relative paths inside the file are
// resolved against the file's directory.
//
// The returned error lists every problem found (errors.Join of *Error), each
// naming its key and line.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && path == DefaultPath {
			return Default(), nil
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// lastKeyRe extracts the line and key from the decoder's type errors, which
// are plain fmt errors rather than toml.ParseError.
var lastKeyRe = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

// Parse decodes a configuration from data over the defaults and validates
// it. path names the file in error messages and anchors relative paths.
func Parse(path string, data []byte) (*Config, error) {
	if err := tomlguard.Check(data); err != nil {
		var ge *tomlguard.Error
		errors.As(err, &ge)
		return nil, &Error{Path: path, Line: ge.Line, Msg: ge.Msg, Err: ErrSyntax}
	}
	text := string(data)
	// Syntax first, into a generic map, so a syntax error is reported as
	// such and not as a bad value.
	var raw map[string]any
	if _, err := toml.Decode(text, &raw); err != nil {
		return nil, tomlError(path, err, ErrSyntax)
	}
	cfg := Default()
	cfg.Telemetry.EventKinds = nil // a file that lists kinds replaces the list
	md, err := toml.Decode(text, cfg)
	if err != nil {
		return nil, tomlError(path, err, ErrBadValue)
	}
	if !md.IsDefined("telemetry", "event_kinds") {
		cfg.Telemetry.EventKinds = append([]string(nil), EventKinds...)
	}
	lines := keyLines(text)
	var errs []*Error
	var under toml.Key // the last unknown key reported: its children are not
	for _, k := range md.Undecoded() {
		if under != nil && hasPrefix(k, under) {
			continue
		}
		under = k
		errs = append(errs, &Error{
			Path: path, Line: lines.locate(k), Key: k.String(),
			Msg: unknownKeyMsg(k), Err: ErrUnknownKey,
		})
	}
	cfg.resolvePaths(filepath.Dir(path))
	if err := cfg.validate(); err != nil {
		for _, e := range unjoin(err) {
			var ce *Error
			if errors.As(e, &ce) {
				ce.Path = path
				ce.Line = lines.locate(strings.Split(ce.Key, "."))
				errs = append(errs, ce)
			}
		}
	}
	if len(errs) > 0 {
		return nil, joinErrors(path, errs)
	}
	return cfg, nil
}

// maxErrors bounds the problems listed: a hostile or garbled file can
// have thousands, and the first ones are what an operator acts on.
const maxErrors = 20

// joinErrors lists errs in file order, as an editor would show them, at
// most maxErrors of them.
func joinErrors(path string, errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	out := make([]error, 0, maxErrors+1)
	for i, e := range errs {
		if i == maxErrors {
			out = append(out, &Error{Path: path, Msg: fmt.Sprintf("and %d more problems", len(errs)-maxErrors), Err: e.Err})
			break
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func hasPrefix(k, prefix toml.Key) bool {
	if len(k) <= len(prefix) {
		return false
	}
	for i := range prefix {
		if k[i] != prefix[i] {
			return false
		}
	}
	return true
}

func tomlError(path string, err error, kind error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{Path: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message, Err: kind}
	}
	if m := lastKeyRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Path: path, Line: line, Key: m[2], Msg: m[3], Err: kind}
	}
	return &Error{Path: path, Msg: strings.TrimPrefix(err.Error(), "toml: "), Err: kind}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{
		&c.Daemon.PIDFile, &c.Daemon.LogFile, &c.Daemon.WorkDir, &c.Daemon.SocketPath,
		&c.ML.ModelPath, &c.Policy.PolicyFile, &c.Tuners.ModelPath, &c.ML.SeedModel,
	} {
		if *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") {
			*p = filepath.Join(dir, *p)
		}
	}
	for i, p := range c.Plugins.PluginDirs {
		if p != "" && !filepath.IsAbs(p) {
			c.Plugins.PluginDirs[i] = filepath.Join(dir, p)
		}
	}
}

// unknownKeyMsg says the key is unknown and suggests the closest known key
// of the same table, because most unknown keys are typos.
func unknownKeyMsg(k toml.Key) string {
	msg := "unknown key"
	if len(k) == 1 {
		if _, ok := knownKeys[k[0]]; !ok {
			return "unknown section or key (sections: daemon, ml, policy, telemetry, tuners, ui, plugins)"
		}
		return msg
	}
	if k[0] == "telemetry" && len(k) == 3 && k[1] == "sampling" {
		return fmt.Sprintf("unknown event kind (kinds: %s)", strings.Join(EventKinds, ", "))
	}
	known, ok := knownKeys[k[0]]
	if !ok {
		return "unknown section (sections: daemon, ml, policy, telemetry, tuners, ui, plugins)"
	}
	best, bestD := "", 4
	for _, cand := range known {
		if d := textdist.Distance(k[len(k)-1], cand); d < bestD {
			best, bestD = cand, d
		}
	}
	if best != "" {
		return fmt.Sprintf("%s (did you mean %s?)", msg, best)
	}
	return msg
}

var knownKeys = map[string][]string{
	"daemon":    tomlKeys(Daemon{}),
	"ml":        tomlKeys(ML{}),
	"policy":    tomlKeys(Policy{}),
	"telemetry": tomlKeys(Telemetry{}),
	"tuners":    tomlKeys(Tuners{}),
	"ui":        tomlKeys(UI{}),
	"plugins":   tomlKeys(Plugins{}),
}

// keyIndex maps every key the lines of a TOML text define ([table]
// headers and key = value lines, dotted or under a table) to its first
// line. It is built in one pass; finding each error's key by scanning the
// text again was quadratic in the errors, and cubic in the depth of nested
// inline tables (10 KB: 43 s).
type keyIndex struct {
	line  map[string]int
	depth int // the most parts of an indexed key
}

// keyLines indexes text. It understands [table] headers and dotted keys,
// which is what configuration files use.
func keyLines(text string) keyIndex {
	idx := keyIndex{line: map[string]int{}}
	add := func(k string, n int) {
		if _, ok := idx.line[k]; !ok {
			idx.line[k] = n
			idx.depth = max(idx.depth, strings.Count(k, ".")+1)
		}
	}
	table := ""
	for i, line := range strings.Split(text, "\n") {
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' {
			continue
		}
		if s[0] == '[' {
			if end := strings.LastIndex(s, "]"); end >= 0 {
				table = normKey(strings.Trim(s[:end+1], "[]"))
				add(table, i+1)
			}
			continue
		}
		eq := strings.Index(s, "=")
		if eq <= 0 {
			continue
		}
		k := normKey(s[:eq])
		if table != "" {
			k = table + "." + k
		}
		add(k, i+1)
	}
	return idx
}

// locate finds the line that defines key, trying shorter prefixes when
// the key itself is inside an inline table or an array; 0 means not found.
// Only prefixes as deep as an indexed key can match.
func (idx keyIndex) locate(key []string) int {
	for n := min(len(key), idx.depth); n > 0; n-- {
		if line, ok := idx.line[strings.Join(key[:n], ".")]; ok {
			return line
		}
	}
	return 0
}

func normKey(s string) string {
	parts := strings.Split(s, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
