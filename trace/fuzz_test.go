package trace

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic,
// never loop, and end every stream with io.EOF (only after a valid end
// frame) or a one-line error.
func FuzzReader(f *testing.F) {
	data, _ := buildTrace(f, 3)
	f.Add(data)
	f.Add(data[:len(data)-5])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if bytes.ContainsRune([]byte(err.Error()), '\n') {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		_ = r.Header()
		for i := 0; ; i++ {
			_, p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FormatError", err)
				}
				if fe.Offset < 0 || fe.Offset > int64(len(data)) {
					t.Fatalf("offset %d outside file of %d bytes", fe.Offset, len(data))
				}
				if _, _, err2 := r.Next(); err2 != err {
					t.Fatalf("error not sticky: %v then %v", err, err2)
				}
				return
			}
			if len(p) > len(data) || i > len(data) {
				t.Fatalf("frame %d of %d bytes from %d bytes of input", i, len(p), len(data))
			}
		}
	})
}
