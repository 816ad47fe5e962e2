package config

import (
	"fmt"
	"io"

	"github.com/BurntSushi/toml"
)

// WriteTOML prints c as a configuration file (`ainka run --dry-run`). Every
// key is printed, defaults included, so the output is the effective
// configuration and Parse of it gives c back.
func (c *Config) WriteTOML(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "# AINKA effective configuration"); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	enc := toml.NewEncoder(w)
	enc.Indent = ""
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("print config: %w", err)
	}
	return nil
}
