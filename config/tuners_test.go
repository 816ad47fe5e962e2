package config

import (
	"errors"
	"strings"
	"testing"
)

func TestTunersSection(t *testing.T) {
	cfg, err := Parse("/etc/ainka/config.toml", []byte("[tuners]\ncpu = \"act\"\nreadahead = \"off\"\neffect_window_ms = 1000\nmodel_path = \"t.model\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tuners.CPU != "act" || cfg.Tuners.Readahead != "off" || cfg.Tuners.EffectWindowMS != 1000 ||
		cfg.Tuners.HarmPct != 10 || cfg.Tuners.ModelPath != "/etc/ainka/t.model" {
		t.Errorf("%+v", cfg.Tuners)
	}
	for _, c := range []struct{ text, want string }{
		{"[tuners]\ncpu = \"act\"\nexplore = 3\n", "c.toml:3: tuners.explore: "},
		{"[tuners]\n\ncpu = \"fast\"\n", "c.toml:3: tuners.cpu: \"fast\": want off, advise or act"},
		{"[tuners]\nharm_pct = 80\n", "c.toml:2: tuners.harm_pct: 80 is outside [1, 50]"},
		{"[tuners]\nmax_steps = 1\n", "c.toml:2: tuners.max_steps: "},
		{"[tuners]\nmemory = \"on\"\n", "c.toml:2: tuners.memory: \"on\": want off, advise or act"},
		{"[tuners]\n\n\nwriteback = \"yes\"\n", "c.toml:4: tuners.writeback: \"yes\": want off, advise or act"},
		{"[tuners]\nmemory = \"act\"\nswappiness_floor = 0\n", "c.toml:3: tuners.swappiness_floor: "},
		{"[tuners]\neffect_window_ms = 10\n", "c.toml:2: tuners.effect_window_ms: "},
	} {
		_, err := Parse("c.toml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrBadValue) {
			t.Errorf("%q: %v wraps no sentinel", c.text, err)
		}
	}
}

func TestTunersMemoryWriteback(t *testing.T) {
	d := Default().Tuners
	if d.Memory != "advise" || d.Writeback != "advise" {
		t.Errorf("defaults: memory %q writeback %q, want advise", d.Memory, d.Writeback)
	}
	cfg, err := Parse("c.toml", []byte("[tuners]\nmemory = \"act\"\nwriteback = \"off\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tuners.Memory != "act" || cfg.Tuners.Writeback != "off" || cfg.Tuners.CPU != "advise" {
		t.Errorf("%+v", cfg.Tuners)
	}
}
