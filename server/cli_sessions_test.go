package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

func TestSessionsNeedsTheAdminToken(t *testing.T) {
	const adminToken = "admin-token-for-the-cli-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	signInCookie(t, base)

	without := runCLI(t, realEnv(), "", "sessions", "--server", base)
	if without.err == nil || !strings.Contains(without.err.Error(), "TOKENLAB_ADMIN_TOKEN") || exitCode(without.err) != 1 {
		t.Errorf("list without the admin token: %v", without.err)
	}
	with := runCLI(t, env, "", "sessions", "--server", base)
	if with.err != nil {
		t.Fatal(with.err)
	}
	if !regexp.MustCompile(`(?m)^[A-Z2-7]{26} +alice +0 +\d{4}-`).MatchString(with.stdout) ||
		!strings.Contains(with.stdout, "1 sessions, 0 connections") {
		t.Errorf("sessions list:\n%s", with.stdout)
	}
	if strings.Contains(with.stdout+with.stderr, adminToken) {
		t.Error("the admin token was printed")
	}

	unknown := runCLI(t, env, "", "sessions", "--server", base, "revoke", strings.Repeat("A", 26))
	if unknown.err != nil || !strings.Contains(unknown.stdout, "no token or connection here") {
		t.Errorf("revoke an unknown id: %v %s", unknown.err, unknown.stdout)
	}
	bad := runCLI(t, env, "", "sessions", "--server", base, "revoke", "nope")
	if bad.err == nil || !strings.Contains(bad.err.Error(), "26 characters") {
		t.Errorf("revoke a malformed id: %v", bad.err)
	}
}

func TestSessionsUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"revoke"}, "one session ID"},
		{[]string{"frobnicate", "X"}, "unknown action"},
		{[]string{"drop"}, "give the session ID"},
		{[]string{"--server", "ftp://x"}, "--server must be a base URL"},
	}
	for _, tt := range tests {
		r := runCLI(t, map[string]string{}, "", append([]string{"sessions"}, tt.args...)...)
		if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || exitCode(r.err) != 2 {
			t.Errorf("sessions %v: %v, want a usage error saying %q", tt.args, r.err, tt.want)
		}
	}
	r := runCLI(t, map[string]string{}, "", "sessions", "--server", "http://127.0.0.1:1")
	if r.err == nil || !strings.Contains(r.err.Error(), "is the server running?") || exitCode(r.err) != 1 {
		t.Errorf("server down: %v", r.err)
	}
}

// TestSessionsFindsTheConfiguredServer runs sessions without --server: it
// must reach the server at the PORT and host the configuration names.
func TestSessionsFindsTheConfiguredServer(t *testing.T) {
	const adminToken = "admin-token-for-the-cli-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	signInCookie(t, base)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", "0.0.0.0", "127.0.0.1"} {
		env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken, "PORT", u.Port(), "TOKENLAB_HOST", host)
		r := runCLI(t, env, "", "sessions")
		if r.err != nil || !strings.Contains(r.stdout, "1 sessions") {
			t.Errorf("sessions with PORT=%s TOKENLAB_HOST=%q: %v\n%s", u.Port(), host, r.err, r.stdout)
		}
	}
	r := runCLI(t, realEnv("PORT", "0"), "", "sessions")
	if r.err == nil || !strings.Contains(r.err.Error(), "give --server") {
		t.Errorf("sessions with PORT=0: err = %v, want one asking for --server", r.err)
	}
}

// labSessionID lists the server's sessions through the CLI and returns
// the only one's ID.
func labSessionID(tb testing.TB, env map[string]string, base string) string {
	tb.Helper()
	r := runCLI(tb, env, "", "sessions", "--server", base)
	id := regexp.MustCompile(`(?m)^[A-Z2-7]{26}`).FindString(r.stdout)
	if r.err != nil || id == "" {
		tb.Fatalf("sessions list: %v\n%s", r.err, r.stdout)
	}
	return id
}

// TestSessionsLab drives each lab action from the CLI against a running
// server and checks the effect where a client sees it: the socket, the
// renewal's answer, the token's claims.
func TestSessionsLab(t *testing.T) {
	const adminToken = "admin-token-for-the-lab-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	ck := signInCookie(t, base)
	id := labSessionID(t, env, base)
	lab := func(args ...string) result {
		return runCLI(t, env, "", append([]string{"sessions", "--server", base}, args...)...)
	}
	dial := func() *websocket.Conn {
		h := http.Header{"Cookie": {ck.Name + "=" + ck.Value}, "Origin": {base}}
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		if m := readMsg(t, ws); m.Type != protocol.TypeHello {
			t.Fatalf("first message %+v", m)
		}
		return ws
	}
	refresh := func() *http.Response {
		req, _ := http.NewRequest("POST", base+"/token/refresh", nil)
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	ws := dial()
	if r := lab("expire", id); r.err != nil || !strings.Contains(r.stdout, "1 connections reached") {
		t.Fatalf("sessions expire: %v %s", r.err, r.stdout)
	}
	if m := readMsg(t, ws); m.Type != protocol.TypeExpired {
		t.Errorf("after sessions expire the tab got %+v", m)
	}
	if r := lab("warn", id); r.err != nil {
		t.Fatal(r.err)
	}
	if m := readMsg(t, ws); m.Type != protocol.TypeExpiring {
		t.Errorf("after sessions warn the tab got %+v", m)
	}

	if r := lab("fail", id, "--count", "1", "--status", "429", "--retry-after", "3"); r.err != nil {
		t.Fatal(r.err)
	}
	if resp := refresh(); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
		t.Errorf("renewal after sessions fail: %s Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	if resp := refresh(); resp.StatusCode != 200 {
		t.Errorf("renewal once the fault ran out: %s", resp.Status)
	}
	readMsg(t, ws) // the renewed token's push

	if r := lab("skew", id, "-5m"); r.err != nil {
		t.Fatal(r.err)
	}
	if r := lab("fail", id, "--count", "3", "--status", "500"); r.err != nil {
		t.Fatal(r.err)
	}
	if r := lab("list"); !strings.Contains(r.stdout, "lab "+id+": fail the next 3 renewals with 500; mint with the clock off by -300s") {
		t.Errorf("sessions list does not show the orders in force:\n%s", r.stdout)
	}
	if r := lab("fail", id, "--count", "0"); r.err != nil {
		t.Fatal(r.err)
	}
	var tr struct {
		Token string `json:"token"`
	}
	before := time.Now().Unix()
	json.NewDecoder(refresh().Body).Decode(&tr)
	tok, err := token.Decode(tr.Token)
	if err != nil || tok.Claims.Nbf < before-300 || tok.Claims.Nbf > time.Now().Unix()-300 {
		t.Errorf("token after sessions skew -5m: %v %+v", err, tok)
	}
	readMsg(t, ws)

	if r := lab("drop", id, "4002"); r.err != nil || !strings.Contains(r.stdout, "1 connections reached") {
		t.Fatalf("sessions drop: %v %s", r.err, r.stdout)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) && ce.Code == 4002 {
			break
		}
		if err != nil {
			t.Fatalf("after sessions drop 4002: %v", err)
		}
	}
	dial() // the session lives on

	// Refusals: the CLI's own (exit 2), and the server's, naming the field.
	for _, tt := range []struct {
		args []string
		want string
		exit int
	}{
		{[]string{"expire"}, "give the session ID", 2},
		{[]string{"skew", id}, "give one OFFSET", 2},
		{[]string{"skew", id, "1.5s"}, "whole seconds", 2},
		{[]string{"drop", id, "abc"}, "close code number", 2},
		{[]string{"fail", id, "--colour", "red"}, "colour", 2},
		{[]string{"fail", id, "--count", "101", "--status", "503"}, "count must be from 0", 1},
		{[]string{"skew", id, "25h"}, "seconds must be from", 1},
		{[]string{"drop", id, "1005"}, "code must be one of", 1},
		{[]string{"expire", strings.Repeat("A", 26)}, "not live", 1},
	} {
		r := lab(tt.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tt.want) || exitCode(r.err) != tt.exit {
			t.Errorf("sessions %v: %v (exit %d), want %q and exit %d", tt.args, r.err, exitCode(r.err), tt.want, tt.exit)
		}
	}
}

// TestSessionsLabOff: with the lab off, the CLI says which variable turns
// it on.
func TestSessionsLabOff(t *testing.T) {
	env := realEnv("TOKENLAB_ADMIN_TOKEN", "admin-token-for-the-lab-test", "TOKENLAB_LAB", "off")
	base, _ := serveCtl(t, env, "0")
	signInCookie(t, base)
	id := labSessionID(t, env, base)
	r := runCLI(t, env, "", "sessions", "--server", base, "expire", id)
	if r.err == nil || !strings.Contains(r.err.Error(), "TOKENLAB_LAB") {
		t.Errorf("sessions expire with the lab off: %v", r.err)
	}
}

func readMsg(tb testing.TB, ws *websocket.Conn) protocol.Message {
	tb.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		tb.Fatal(err)
	}
	m, err := protocol.Decode(data)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
