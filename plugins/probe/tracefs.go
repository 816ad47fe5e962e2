package probe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TracefsDir is where tracefs is mounted (source.EnsureTracefs mounts it).
const TracefsDir = "/sys/kernel/tracing"

// Format is a tracepoint's record layout, from tracefs'
// events/GROUP/EVENT/format.
type Format struct {
	ID     int
	Fields []FormatField
}

// FormatField is one field of a tracepoint's record.
type FormatField struct {
	Decl   string // the C declaration, "int sig" or "char comm[16]"
	Name   string
	Offset int
	Size   int
	Signed bool
}

// Integer reports whether the field is an integer the generic program can
// copy: a scalar (not an array, not a __data_loc string) of 1, 2, 4 or 8
// bytes.
func (f *FormatField) Integer() bool {
	return !strings.Contains(f.Decl, "[") && !strings.HasPrefix(f.Decl, "__data_loc") &&
		(f.Size == 1 || f.Size == 2 || f.Size == 4 || f.Size == 8)
}

// Field returns the field called name.
func (f *Format) Field(name string) (*FormatField, bool) {
	for i := range f.Fields {
		if f.Fields[i].Name == name {
			return &f.Fields[i], true
		}
	}
	return nil, false
}

// ReadFormat reads the format of tracepoint "group:event" under dir (a
// tracefs mount). A tracepoint the kernel lacks is ErrNoTracept.
func ReadFormat(dir, tracepoint string) (*Format, error) {
	group, event, ok := splitTracepoint(tracepoint)
	if !ok {
		return nil, fmt.Errorf("%w: %q: want group:event", ErrNoTracept, tracepoint)
	}
	path := filepath.Join(dir, "events", group, event, "format")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %s: %s does not exist", ErrNoTracept, tracepoint, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read tracepoint format: %w", err)
	}
	f, err := ParseFormat(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseFormat parses a tracefs format file:
//
//	ID: 182
//	format:
//		field:unsigned short common_type;	offset:0;	size:2;	signed:0;
//		field:int sig;	offset:8;	size:4;	signed:1;
func ParseFormat(b []byte) (*Format, error) {
	f := &Format{ID: -1}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if id, ok := strings.CutPrefix(line, "ID:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(id))
			if err != nil {
				return nil, fmt.Errorf("bad tracepoint format: ID %q", id)
			}
			f.ID = n
			continue
		}
		if !strings.HasPrefix(line, "field:") {
			continue
		}
		fld, err := parseFormatField(line)
		if err != nil {
			return nil, err
		}
		f.Fields = append(f.Fields, fld)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read tracepoint format: %w", err)
	}
	if f.ID < 0 || len(f.Fields) == 0 {
		return nil, errors.New("bad tracepoint format: no ID or no field")
	}
	return f, nil
}

func parseFormatField(line string) (FormatField, error) {
	var fld FormatField
	attrs := map[string]string{}
	for _, part := range strings.Split(line, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		if ok {
			attrs[k] = v
		}
	}
	fld.Decl = strings.TrimSpace(attrs["field"])
	name := fld.Decl
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexAny(name, " *"); i >= 0 {
		name = name[i+1:]
	}
	fld.Name = name
	var err1, err2, err3 error
	fld.Offset, err1 = strconv.Atoi(attrs["offset"])
	fld.Size, err2 = strconv.Atoi(attrs["size"])
	signed, err3 := strconv.Atoi(attrs["signed"])
	if fld.Name == "" || err1 != nil || err2 != nil || err3 != nil || fld.Offset < 0 || fld.Size <= 0 {
		return fld, fmt.Errorf("bad tracepoint format line %q", line)
	}
	fld.Signed = signed != 0
	return fld, nil
}
