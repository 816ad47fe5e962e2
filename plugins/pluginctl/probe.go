package pluginctl

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ainka/ainka/plugins/probe"
	"github.com/ainka/ainka/plugins/probe/spec"
	"github.com/ainka/ainka/stages/source"
)

// isProbe reports whether path is a probe plugin's directory.
func isProbe(path string) bool {
	_, err := os.Stat(filepath.Join(path, probe.ManifestFile))
	return err == nil
}

// validateProbe runs a probe plugin's checks as the daemon would before
// loading it: the manifest; the declarative form's fields against the
// tracepoint's format (tracefs, mounted if it is not); the object form's
// object against its manifest. Nothing is loaded into the kernel.
func validateProbe(path string, w io.Writer) error {
	p, err := probe.Open(path, spec.KindBase, "")
	if err != nil && os.Geteuid() == 0 && source.EnsureTracefs() == nil {
		p, err = probe.Open(path, spec.KindBase, "")
	}
	if err != nil {
		return err
	}
	m := p.Manifest
	form := "tracepoint "
	if m.Tracepoint != nil {
		form += m.Tracepoint.Name
	} else {
		if _, err := p.CheckObject(); err != nil {
			return err
		}
		form = "object " + m.Object.File
	}
	var feats []string
	for _, f := range p.Kind.Features {
		feats = append(feats, f.Name)
	}
	fmt.Fprintf(w, "ok: %s %s, a probe plugin (ABI %d) on %s: records of %d bytes, features %s\n",
		m.Name, m.Version, m.ABI, form, p.Kind.Size, strings.Join(feats, ", "))
	return nil
}
