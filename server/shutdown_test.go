package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// buildBinary compiles this command into a temporary directory, once per
// test binary run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tokenlab-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tokenlab")
	goCmd := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	out, err := exec.Command(goCmd, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

var listeningAddr = regexp.MustCompile(`tokenlab listening" addr=(\S+)`)

// proc is the real binary running `serve` on a free loopback port.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
}

func startBinary(t *testing.T) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "--port", "0")
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningAddr.FindStringSubmatch(p.logs.String()); m != nil {
			p.addr = m[1]
			return p
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the binary did not start listening:\n%s", p.logs)
	return nil
}

// TestGracefulShutdown runs the real binary, opens a WebSocket and starts
// a request whose body is still arriving, then sends the signal: the
// socket gets 1001 going away, new connections are refused, the request
// in flight finishes with its answer, and the process exits 0 within
// shutdownTimeout.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startBinary(t)
			base := "http://" + p.addr

			resp, err := http.Post(base+"/token", "application/json", strings.NewReader(`{"username":"alice","password":"pw","ttl":600}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var cookie string
			for _, c := range resp.Cookies() {
				cookie = c.Name + "=" + c.Value
			}
			ws, _, err := websocket.DefaultDialer.Dial("ws://"+p.addr+"/ws", http.Header{"Cookie": {cookie}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, _, err := ws.ReadMessage(); err != nil {
				t.Fatalf("hello: %v", err)
			}

			// A request in flight: headers and half the body sent.
			body := `{"token":"eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}`
			slow, err := net.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()
			fmt.Fprintf(slow, "POST /token/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
				p.addr, len(body), body[:10])
			// Let the server read the headers, so the request is in
			// flight rather than a connection still waiting for one.
			time.Sleep(200 * time.Millisecond)

			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				_, _, err := ws.ReadMessage()
				if err == nil {
					continue
				}
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
					t.Fatalf("the socket ended with %v, want close 1001", err)
				}
				break
			}
			pollUntil(t, 5*time.Second, "the listener still accepts after the signal", func() bool {
				c, err := net.DialTimeout("tcp", p.addr, time.Second)
				if err == nil {
					c.Close()
				}
				return err != nil
			})
			select {
			case <-p.done:
				t.Fatalf("the process exited (%v) with a request in flight", p.err)
			default:
			}

			io.WriteString(slow, body[10:])
			slow.SetReadDeadline(time.Now().Add(5 * time.Second))
			answer, err := http.ReadResponse(bufio.NewReader(slow), nil)
			if err != nil {
				t.Fatalf("the request in flight got no answer: %v", err)
			}
			got, _ := io.ReadAll(answer.Body)
			if answer.StatusCode != http.StatusOK || !strings.Contains(string(got), `"valid":false`) {
				t.Errorf("the request in flight: %d %s", answer.StatusCode, got)
			}

			select {
			case <-p.done:
				if p.err != nil {
					t.Fatalf("exit: %v, want status 0\n%s", p.err, p.logs)
				}
			case <-time.After(shutdownTimeout + 5*time.Second):
				t.Fatalf("no exit within the shutdown bound of %v\n%s", shutdownTimeout, p.logs)
			}
			for _, want := range []string{"tokenlab shutting down", "tokenlab stopped"} {
				if !strings.Contains(p.logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, p.logs)
				}
			}
		})
	}
}

func pollUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
