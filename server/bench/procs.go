package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// raiseFileLimit lifts this process's open-file limit to its hard limit:
// 10,000 WebSockets need more descriptors than the usual soft limit of
// 1,024. The machine's own limits are left alone.
func raiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// child is a server process the bench started: this same binary run with
// -role. It prints one line, "ready ADDR DEBUGADDR", once it listens.
type child struct {
	cmd   *exec.Cmd
	addr  string // the HTTP address, 127.0.0.1:port
	debug string // the debug address (goroutines, pprof), or ""
}

// startChild runs this binary as role with extra environment variables
// and args, logging its stderr to logPath. The child dies with the bench
// (SIGKILL on parent death) even if the bench is killed.
func startChild(ctx context.Context, role string, env []string, logPath string, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startProcess(ctx, role, exec.Command(self, append([]string{"-role", role}, args...)...), env, logPath)
}

// startProcess starts cmd as startChild starts this binary: the program
// must print "ready ADDR [DEBUGADDR]" once it listens.
func startProcess(ctx context.Context, role string, cmd *exec.Cmd, env []string, logPath string) (*child, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			ready <- fmt.Errorf("%s child exited before it was ready (see %s): %v", role, logPath, err)
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ready" {
			ready <- fmt.Errorf("%s child said %q, want \"ready ADDR\"", role, line)
			return
		}
		c.addr = f[1]
		if len(f) > 2 {
			c.debug = f[2]
		}
		ready <- nil
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = fmt.Errorf("%s child not ready after 30 s (see %s)", role, logPath)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// cleanEnv is the bench's environment without tokenlab's and Twilio's
// variables, so a developer's .env or shell cannot change what is measured.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TOKENLAB_") || strings.HasPrefix(kv, "TWILIO_") || strings.HasPrefix(kv, "PORT=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// stop asks the child to finish (SIGTERM), then kills it after 5 s.
func (c *child) stop() {
	if c == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// rss is the child's resident set size in bytes (VmRSS).
func (c *child) rss() (int64, error) { return vmRSS(c.cmd.Process.Pid) }

func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, errors.New("no VmRSS line in /proc status")
}

// cpuTime is the CPU time (user + system) the child has used so far.
func (c *child) cpuTime() (time.Duration, error) { return processCPU(c.cmd.Process.Pid) }

// processCPU reads utime and stime from /proc/pid/stat. They are in clock
// ticks, 100 per second on Linux, which is fine for rounds of seconds.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces:
	// count fields from after its closing one, which is field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	var ticks int64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, nil
}
