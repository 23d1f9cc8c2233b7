package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: what a program reads from the
// second file is what the test writes to the first, echo included.
func openPTY(tb testing.TB) (master, slave *os.File) {
	tb.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		tb.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		tb.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		tb.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestUseraddHidesThePassword types a password at a real terminal: it
// must not be echoed, it is asked twice, and a mismatch changes nothing.
func TestUseraddHidesThePassword(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	const password = "typed-secret-42"
	tests := []struct {
		name          string
		second        string
		wantSaved     bool
		wantInMessage string
	}{
		{"same twice", password, true, "added user susan"},
		{"typo", password + "x", false, "the two passwords differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			master, slave := openPTY(t)
			file := filepath.Join(t.TempDir(), "users.json")
			cmd := exec.Command(bin, "useradd", "--file", file, "susan")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var seen bytes.Buffer
			go func() {
				buf := make([]byte, 1024)
				for {
					n, err := master.Read(buf)
					mu.Lock()
					seen.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
			waitFor := func(s string) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for time.Now().Before(deadline) {
					mu.Lock()
					ok := strings.Count(seen.String(), s) > 0
					mu.Unlock()
					if ok {
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
				t.Fatalf("the terminal never showed %q; it showed %q", s, seen.String())
			}
			waitFor("password for susan: ")
			io.WriteString(master, password+"\r")
			waitFor("again: ")
			io.WriteString(master, tt.second+"\r")
			err := cmd.Wait()
			slave.Close()
			waitFor(tt.wantInMessage)
			mu.Lock()
			shown := seen.String()
			mu.Unlock()
			if strings.Contains(shown, "typed-secret") {
				t.Errorf("the password was echoed: %q", shown)
			}
			_, statErr := os.Stat(file)
			if saved := statErr == nil; saved != tt.wantSaved {
				t.Errorf("users file written = %v, want %v (exit: %v)", saved, tt.wantSaved, err)
			}
		})
	}
}
