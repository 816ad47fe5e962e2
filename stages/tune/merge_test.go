package tune

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A regime of the other host near one of ours is ours; a far one is
// added; a best we measured ourselves is kept, one we have not is added.
func TestMergeModel(t *testing.T) {
	own := &modelState{NextRegime: 2, Regimes: []regimeCentre{{ID: 1, C: [3]float64{0.9, 0, 0}}, {ID: 2, C: [3]float64{0.1, 0.5, 0.9}}},
		Best: []Best{{Regime: 1, Target: "cpu:hog", Value: "10", Gain: 0.2}}}
	// The other host's event times and boot are not ours (SeenNs, Boot).
	in := &modelState{NextRegime: 7, Regimes: []regimeCentre{{ID: 5, C: [3]float64{0.85, 0, 0}}, {ID: 7, C: [3]float64{0.1, 1, 0}}},
		Best: []Best{{Regime: 5, Target: "cpu:hog", Value: "19", Gain: 0.5}, {Regime: 5, Target: "readahead:vda", Value: "512", SeenNs: 123},
			{Regime: 7, Target: "readahead:vdb", Value: "1024"}}, Boot: "other-boot"}
	path := filepath.Join(t.TempDir(), "tuners.model")
	if err := writeModel(path, own); err != nil {
		t.Fatal(err)
	}
	if err := writeModel(path+".in", in); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(path + ".in")
	m, err := MergeModel(path, src)
	if err != nil || m.Regimes != 1 || m.Bests != 2 || m.Created {
		t.Fatalf("merge: %+v, %v; want 1 regime and 2 bests added", m, err)
	}
	b, _ := os.ReadFile(path)
	got, _, err := decodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(got.Best)
	want := `[{"regime":1,"target":"cpu:hog","value":"10","gain":0.2,"trials":0},{"regime":1,"target":"readahead:vda","value":"512","gain":0,"trials":0},{"regime":3,"target":"readahead:vdb","value":"1024","gain":0,"trials":0}]`
	if string(j) != want || got.NextRegime != 3 || len(got.Regimes) != 3 {
		t.Fatalf("merged bests %s, next regime %d, %d regimes", j, got.NextRegime, len(got.Regimes))
	}
	fresh := filepath.Join(t.TempDir(), "fresh.model")
	if m, err := MergeModel(fresh, src); err != nil || !m.Created {
		t.Fatalf("merge into no model: %+v, %v", m, err)
	}
	b2, _ := os.ReadFile(fresh)
	if st, _, err := decodeModel(b2); err != nil || st.Boot != "" || st.Best[1].SeenNs != 0 {
		t.Fatalf("a model made from another host's kept its boot %q or event times %+v (%v)", st.Boot, st.Best, err)
	}
	if _, err := MergeModel(path, []byte("AINKATUN junk")); !errors.Is(err, ErrModelCorrupt) {
		t.Errorf("damaged import: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(b) {
		t.Error("a refused merge changed the file")
	}
}
