package trace

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the FuzzReader seed corpus in testdata/fuzz")

// TestWriteSeeds regenerates the checked-in seed corpus with -write-seeds;
// otherwise it checks that the corpus is there so `go test` keeps running it.
func TestWriteSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	data, ends := buildTrace(t, 12)
	crc := bytes.Clone(data)
	crc[ends[3]+15] ^= 0x40
	future := bytes.Clone(data)
	binary.LittleEndian.PutUint32(future[8:], FormatVersion+1)
	var blocks bytes.Buffer
	bw, _ := NewWriter(&blocks, testHeader())
	for i := 0; i < 120; i++ {
		bw.WriteRecord(record(i))
	}
	bw.Close()
	seeds := map[string][]byte{
		"blocks":    blocks.Bytes(),
		"valid":     data,
		"truncated": data[:ends[5]+7],
		"crc":       crc,
		"future":    future,
		"header":    data[:ends[0]-76],
	}
	if !*writeSeeds {
		for name := range seeds {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Fatalf("seed corpus incomplete (run go test -run TestWriteSeeds -write-seeds ./trace): %v", err)
			}
		}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
