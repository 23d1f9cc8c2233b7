package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// TestServePrintsItsURL starts the real binary with PORT=0 and reads the
// URL it picked from stdout, as a script would, then asks that URL.
func TestServePrintsItsURL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "PORT=0"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("serve printed nothing on stdout within 10 s")
	}
	m := regexp.MustCompile(`^serving (http://localhost:[1-9][0-9]*/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("stdout's first line is %q, want \"serving http://localhost:PORT/\"", line)
	}
	resp, err := http.Get(m[1] + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %shealthz: %s", m[1], resp.Status)
	}
}
