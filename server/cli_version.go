package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// cmdVersion prints the module version and the commit the binary was built
// from, as the Go toolchain recorded them, so a bug report can name both.
func cmdVersion(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "version")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("version takes no arguments, got %q", fs.Args())
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		_, err := fmt.Fprintln(e.stdout, "tokenlab (no build information: built without module support)")
		return err
	}
	_, err := fmt.Fprintln(e.stdout, describeBuild(info))
	return err
}

// describeBuild reads a build's version line: module version, then the
// commit, its time and whether the tree had uncommitted changes, then Go.
func describeBuild(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	line := "tokenlab " + version
	if rev := settings["vcs.revision"]; rev != "" {
		line += " commit " + rev
		if t := settings["vcs.time"]; t != "" {
			line += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			line += " with uncommitted changes"
		}
	} else {
		line += " commit unknown (built outside a git checkout, or with -buildvcs=false)"
	}
	return line + " " + info.GoVersion
}
