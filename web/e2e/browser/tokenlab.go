package browser

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"time"
)

// Tokenlab is bin/tokenlab run for a browser suite: `serve` on loopback
// in open demo mode, in Dir, with an environment of HOME, PATH and Env
// only, so that no .env or Twilio credentials of the machine apply.
type Tokenlab struct {
	Bin, Dir string
	Env      []string
	// Port is "0" (a free one) or a port to listen on; once started, the
	// port it listens on, so that a restart takes the same one.
	Port string

	cmd  *exec.Cmd
	done chan struct{} // closed when its output is drained
}

var listening = regexp.MustCompile(`tokenlab listening"? addr=\S*:(\d+)`)

// Start runs the server and returns once it logs that it listens (within
// 10 s). TOKENLAB_E2E_LOG=1 copies its log to the suite's stderr.
func (s *Tokenlab) Start() error {
	if s.Port == "" {
		s.Port = "0"
	}
	cmd := exec.Command(s.Bin, "serve", "-port", s.Port)
	cmd.Dir = s.Dir
	cmd.Env = append([]string{"HOME=" + s.Dir, "PATH=" + os.Getenv("PATH")}, s.Env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.done = cmd, make(chan struct{})
	port := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case port <- m[1]:
				default:
				}
			}
			if os.Getenv("TOKENLAB_E2E_LOG") != "" {
				fmt.Fprintln(os.Stderr, "server:", sc.Text())
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case s.Port = <-port:
		return nil
	case <-time.After(10 * time.Second):
		s.Stop(false)
		return errors.New("no \"tokenlab listening\" line within 10s")
	}
}

// Stop ends the server: gracefully, with SIGTERM as an operator does (it
// closes its sockets with 1001; killed if it hangs for 10 s), or at once.
func (s *Tokenlab) Stop(graceful bool) {
	if s.cmd == nil {
		return
	}
	if graceful {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	<-s.done
	s.cmd = nil
}
