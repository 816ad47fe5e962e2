package main

import "github.com/ainka/ainka/plugins/pluginctl"

func init() {
	register(command{name: "plugin", summary: "list, describe and validate plugins (plugin list|info|validate)", run: pluginctl.Main})
}
