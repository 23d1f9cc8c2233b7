package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/config"
)

// forge sends method path to base with the given Host (and a matching
// Origin, as a page on that name sends) and returns the status.
func forge(client *http.Client, base, host, method, path, body string) (int, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		return 0, err
	}
	req.Host = host
	req.Header.Set("Origin", "http://"+host)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestServeRefusesRebinding runs `tokenlab serve` in open demo mode, as a
// developer does, and sends it what a page on a rebinding domain sends:
// sign-ins, the operator list and a socket, all at once, with that
// domain's Host and Origin. Every one is refused and logged once; a name
// listed in TOKENLAB_ALLOWED_HOSTS is served.
func TestServeRefusesRebinding(t *testing.T) {
	srv := startServer(t, map[string]string{config.EnvAllowedHosts: "tokenlab.test"}, nil)
	base, logs := srv.url, srv.logs
	port := base[strings.LastIndexByte(base, ':')+1:]
	forged := "evil.example:" + port
	client := &http.Client{Timeout: 10 * time.Second}

	const signIns = 16
	statuses := make([]int, signIns+2)
	errs := make([]error, len(statuses))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range signIns {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = forge(client, base, forged, "POST", "/token", `{"username":"mallory","password":"x"}`)
		})
	}
	wg.Go(func() {
		<-start
		statuses[signIns], errs[signIns] = forge(client, base, forged, "GET", "/admin/sessions", "")
	})
	wg.Go(func() {
		<-start
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
		c, resp, err := websocket.DefaultDialer.DialContext(ctx, ws, http.Header{"Host": {forged}, "Origin": {"http://" + forged}})
		if err == nil {
			c.Close()
		}
		if resp != nil {
			statuses[signIns+1] = resp.StatusCode
		}
	})
	close(start)
	wg.Wait()
	for i, status := range statuses {
		if errs[i] != nil || status != http.StatusMisdirectedRequest {
			t.Errorf("forged request %d: %d %v, want 421", i, status, errs[i])
		}
	}
	if n := strings.Count(logs.String(), "request refused: Host"); n != len(statuses) {
		t.Errorf("%d refusals logged for %d refused requests:\n%s", n, len(statuses), logs)
	}

	for _, host := range []string{"tokenlab.test:" + port, "localhost:" + port, "127.0.0.1:" + port} {
		if status, err := forge(client, base, host, "GET", "/healthz", ""); err != nil || status != http.StatusOK {
			t.Errorf("Host %s: %d %v, want it served", host, status, err)
		}
	}
}

// TestServeOnEveryInterfaceAnswersIPs: listening on 0.0.0.0 with no names
// configured, requests addressed to an IP address are served, names are
// not, and start-up says which variable allows them.
func TestServeOnEveryInterfaceAnswersIPs(t *testing.T) {
	srv := startServer(t, map[string]string{config.EnvHost: "0.0.0.0"}, nil)
	addr, logs := srv.addr, srv.logs
	_, port, _ := net.SplitHostPort(addr)
	base := "http://127.0.0.1:" + port
	if !strings.Contains(logs.String(), "list it in "+config.EnvAllowedHosts) {
		t.Errorf("start-up on 0.0.0.0 does not say how to allow names:\n%s", logs)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, host := range []string{"192.0.2.7:" + port, "[2001:db8::7]:" + port, "127.0.0.1:" + port} {
		if status, err := forge(client, base, host, "GET", "/", ""); err != nil || status != http.StatusOK {
			t.Errorf("Host %s: %d %v, want the page", host, status, err)
		}
	}
	if status, err := forge(client, base, "mybox.lan:"+port, "GET", "/", ""); err != nil || status != http.StatusMisdirectedRequest {
		t.Errorf("Host mybox.lan: %d %v, want 421 until it is listed", status, err)
	}
}
