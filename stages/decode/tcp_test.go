package decode_test

import (
	"encoding/json"
	"testing"

	"github.com/ainka/ainka/bpf/record"
	"github.com/ainka/ainka/stages/decode"
	"github.com/ainka/ainka/stages/decode/decodetest"
)

// TestTCPRecord: a tcp record's fields reach the view and the tap's JSON,
// IPv4 and IPv6 remote addresses are printed as such, and a damaged
// family prints an empty address rather than bytes of the padding.
func TestTCPRecord(t *testing.T) {
	var e decode.Event
	if err := decode.Decode(decodetest.TCP(9, 4026532001, 77, true, 1<<20, 900, 12, 1500), &e); err != nil {
		t.Fatal(err)
	}
	s := e.TCP()
	if e.Kind != decode.KindTCP || s.Netns != 4026532001 || s.SockCookie != 77 || s.SegsOut != 900 || s.TotalRetrans != 12 || s.SrttUs != 1500 {
		t.Fatalf("view %+v", *s)
	}
	var m map[string]any
	if err := json.Unmarshal(e.AppendJSON(nil), &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"kind": "tcp", "retransmit": true, "netns": 4026532001.0, "remote": "10.222.0.2",
		"dport": 5201.0, "srtt_us": 1500.0, "bytes_acked": float64(1 << 20), "segs_out": 900.0, "total_retrans": 12.0} {
		if m[k] != want {
			t.Errorf("JSON %s = %v, want %v", k, m[k], want)
		}
	}
	r := record.TCP{Family: 10, Daddr: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}}
	if a := decode.TCPRemote(&r).String(); a != "2001:db8::1" {
		t.Errorf("IPv6 remote %s", a)
	}
	r.Family = 1
	if a := decode.TCPRemote(&r); a.IsValid() {
		t.Errorf("family 1: remote %v, want none", a)
	}
}
