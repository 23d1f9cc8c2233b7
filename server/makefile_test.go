package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeRunLeavesPortToTheServer checks that `make run` does not set PORT
// itself: a PORT in .env must reach the server, and a variable the
// Makefile set would beat it.
func TestMakeRunLeavesPortToTheServer(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	out, err := exec.Command("make", "-C", "..", "-n", "--no-print-directory", "run").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	serve := lines[len(lines)-1]
	if !strings.Contains(serve, "bin/tokenlab serve") {
		t.Fatalf("the last command of make run is %q, want the server", serve)
	}
	if strings.Contains(serve, "PORT") || strings.Contains(serve, "--port") {
		t.Errorf("make run sets the port itself (%q), so a PORT in .env is ignored", serve)
	}
}
