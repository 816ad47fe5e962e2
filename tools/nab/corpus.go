package nab

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the CSV reader; each is wrapped with the line number.
var (
	ErrEmpty     = errors.New("empty file")
	ErrHeader    = errors.New("bad header, want \"timestamp,value\"")
	ErrTimestamp = errors.New("bad timestamp")
	ErrValue     = errors.New("bad value")
	ErrColumns   = errors.New("want 2 columns")
	ErrNoRows    = errors.New("no data rows")
	ErrWindow    = errors.New("window limit not found among the timestamps")
)

// timeLayout is NAB's timestamp format; windows add ".000000".
const timeLayout = "2006-01-02 15:04:05"

// ParseTime parses a NAB timestamp ("2014-04-10 07:15:00", optionally with
// fractional seconds).
func ParseTime(s string) (time.Time, error) {
	return time.Parse(timeLayout+".999999999", s)
}

// Series is one CSV file in NAB's format.
type Series struct {
	// Raw keeps the timestamp text so that output rows repeat it exactly.
	Raw    []string
	Times  []time.Time
	Values []float64
}

// ReadSeries reads "timestamp,value" CSV. Errors name the 1-based line.
func ReadSeries(r io.Reader) (*Series, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	s := &Series{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
			if strings.ReplaceAll(text, " ", "") != "timestamp,value" {
				return nil, fmt.Errorf("line 1: %w, got %q", ErrHeader, text)
			}
			continue
		}
		if text == "" {
			continue
		}
		ts, val, ok := strings.Cut(text, ",")
		if !ok || strings.Contains(val, ",") {
			return nil, fmt.Errorf("line %d: %w, got %q", line, ErrColumns, text)
		}
		ts, val = strings.TrimSpace(ts), strings.TrimSpace(val)
		t, err := ParseTime(ts)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w %q", line, ErrTimestamp, ts)
		}
		v, err := parseValue(val)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w %q", line, ErrValue, val)
		}
		s.Raw = append(s.Raw, ts)
		s.Times = append(s.Times, t)
		s.Values = append(s.Values, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if line == 0 {
		return nil, fmt.Errorf("line 1: %w", ErrEmpty)
	}
	if len(s.Values) == 0 {
		return nil, fmt.Errorf("line %d: %w", line, ErrNoRows)
	}
	return s, nil
}

// parseValue reads a value cell. An empty cell is a missing value (NaN);
// NaN and ±Inf are read as such: Score skips and counts them, so one bad
// row does not refuse a whole series. Anything else that is not a number
// is an error.
func parseValue(cell string) (float64, error) {
	if cell == "" {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(cell, 64)
}

// Window is a labelled anomaly window as inclusive row indices.
type Window struct{ Start, End int }

// File is one labelled series of the corpus.
type File struct {
	Name     string // "CATEGORY/file.csv", the key of the label files
	Category string
	Series   *Series
	Windows  []Window
	Labels   int // number of labelled anomalies (NAB's "perfect" counts these)
}

// Corpus is the labelled data set.
type Corpus struct {
	Files []*File
}

// LoadCorpus reads dir/combined_windows.json, dir/combined_labels.json and
// every series they name under dir/data.
func LoadCorpus(dir string) (*Corpus, error) {
	var windows map[string][][2]string
	var labels map[string][]string
	if err := readJSON(filepath.Join(dir, "combined_windows.json"), &windows); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "combined_labels.json"), &labels); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(windows))
	for n := range windows {
		names = append(names, n)
	}
	sort.Strings(names)
	c := &Corpus{}
	for _, name := range names {
		path := filepath.Join(dir, "data", filepath.FromSlash(name))
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("load corpus: %w", err)
		}
		s, err := ReadSeries(fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("load corpus: %s: %w", name, err)
		}
		f := &File{Name: name, Category: filepath.Dir(filepath.FromSlash(name)), Series: s, Labels: len(labels[name])}
		for _, w := range windows[name] {
			a, err := s.index(w[0])
			if err != nil {
				return nil, fmt.Errorf("load corpus: %s: %w", name, err)
			}
			b, err := s.index(w[1])
			if err != nil {
				return nil, fmt.Errorf("load corpus: %s: %w", name, err)
			}
			f.Windows = append(f.Windows, Window{a, b})
		}
		c.Files = append(c.Files, f)
	}
	if len(c.Files) == 0 {
		return nil, fmt.Errorf("load corpus: %s: no files listed", dir)
	}
	return c, nil
}

func (s *Series) index(limit string) (int, error) {
	t, err := ParseTime(limit)
	if err != nil {
		return 0, fmt.Errorf("%w %q", ErrTimestamp, limit)
	}
	for i, x := range s.Times {
		if x.Equal(t) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: %s", ErrWindow, limit)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load corpus: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("load corpus: %s: %w", path, err)
	}
	return nil
}

// ReadResults reads a detector's scores for f from a CSV with header
// "timestamp,value,anomaly_score" (or NAB's results files, whose first
// three columns are these), checking that the rows match f's.
func ReadResults(r io.Reader, f *File) ([]float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var out []float64
	line := 0
	col := -1
	for sc.Scan() {
		line++
		cells := strings.Split(strings.TrimRight(sc.Text(), "\r"), ",")
		if line == 1 {
			for i, c := range cells {
				if strings.TrimSpace(c) == "anomaly_score" {
					col = i
				}
			}
			if col < 0 || strings.TrimSpace(cells[0]) != "timestamp" {
				return nil, fmt.Errorf("line 1: %w, want timestamp,...,anomaly_score", ErrHeader)
			}
			continue
		}
		if len(cells) <= col {
			return nil, fmt.Errorf("line %d: %w", line, ErrColumns)
		}
		i := len(out)
		if i >= len(f.Series.Times) {
			return nil, fmt.Errorf("line %d: more rows than %s has", line, f.Name)
		}
		t, err := ParseTime(strings.TrimSpace(cells[0]))
		if err != nil || !t.Equal(f.Series.Times[i]) {
			return nil, fmt.Errorf("line %d: %w: %q is not row %d of %s", line, ErrTimestamp, cells[0], i, f.Name)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(cells[col]), 64)
		if err != nil || math.IsNaN(v) {
			return nil, fmt.Errorf("line %d: %w %q", line, ErrValue, cells[col])
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(out) != len(f.Series.Values) {
		return nil, fmt.Errorf("%d rows, %s has %d: %w", len(out), f.Name, len(f.Series.Values), ErrScores)
	}
	return out, nil
}
