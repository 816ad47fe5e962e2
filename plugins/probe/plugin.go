package probe

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ainka/ainka/plugins/probe/spec"
)

// Plugin is a checked probe plugin, not yet loaded into the kernel: its
// manifest (and the manifest's text, which traces keep), its record kind
// and, for the declarative form, its tracepoint's format.
type Plugin struct {
	Dir      string
	Manifest *Manifest
	Text     []byte // plugin.toml as read
	Kind     spec.Kind
	Format   *Format // the tracepoint's, declarative form only
	// Digest is the SHA-256 of plugin.toml and, for the object form, of
	// the object file, as Open read them: a reload tells a changed
	// plugin by it.
	Digest string
}

// Open reads and checks the plugin in dir as record kind k. The
// declarative form's fields are looked up in tracefs under tracefsDir
// ("" = TracefsDir); the object form's object is checked by Load.
func Open(dir string, k uint16, tracefsDir string) (*Plugin, error) {
	text, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read probe manifest: %w", err)
	}
	m, err := ParseManifest(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	p := &Plugin{Dir: dir, Manifest: m, Text: text, Digest: digest(dir, m, text)}
	if m.Tracepoint != nil {
		if tracefsDir == "" {
			tracefsDir = TracefsDir
		}
		if p.Format, err = ReadFormat(tracefsDir, m.Tracepoint.Name); err != nil {
			return nil, fmt.Errorf("probe plugin %s: %w", m.Name, err)
		}
	}
	if p.Kind, err = m.Kind(k, p.Format); err != nil {
		return nil, err
	}
	return p, nil
}

// FromText rebuilds a plugin's kind from the manifest text and the
// tracepoint format a trace kept: a replay needs no tracefs.
func FromText(text []byte, k uint16, format *Format) (*Plugin, error) {
	m, err := ParseManifest(text)
	if err != nil {
		return nil, err
	}
	p := &Plugin{Manifest: m, Text: text, Format: format}
	if p.Kind, err = m.Kind(k, format); err != nil {
		return nil, err
	}
	return p, nil
}

// digest hashes the manifest and the object it names; an object that
// cannot be read is left out (CheckObject says why when loading).
func digest(dir string, m *Manifest, text []byte) string {
	h := sha256.New()
	h.Write(text)
	if m.Object != nil {
		if b, err := os.ReadFile(filepath.Join(dir, m.Object.File)); err == nil {
			h.Write([]byte{0})
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Digest returns the digest Open would give the plugin in dir now, or an
// error when its manifest cannot be read or parsed.
func Digest(dir string) (string, error) {
	text, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return "", fmt.Errorf("read probe manifest: %w", err)
	}
	m, err := ParseManifest(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return digest(dir, m, text), nil
}
