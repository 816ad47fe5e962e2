package probe

import (
	"os"
	"path/filepath"
	"sort"
)

// Dirs returns the probe plugins of dirs (plugin_dirs): a directory
// holding a plugin.toml is one, otherwise each of its subdirectories
// holding one is, by name. A missing directory holds none.
func Dirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, ManifestFile)); err == nil {
			out = append(out, d)
			continue
		}
		ents, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if _, err := os.Stat(filepath.Join(d, e.Name(), ManifestFile)); err == nil {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(d, n))
		}
	}
	return out
}
