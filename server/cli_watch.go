package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/renew"
	"github.com/tokenlab/tokenlab/shared/token"
)

// serverFlagHelp describes --server for watch and sessions.
const serverFlagHelp = "the tokenlab server's base URL (default: the host and PORT serve would use, from .env and the environment)"

// envPassword lets scripts keep the password off the command line, where
// ps and shell history would show it.
const envPassword = "TOKENLAB_PASSWORD"

// watchReadWait bounds the wait for any frame from the server; the server
// pings every 54 s, so a silent minute and a half means the link is dead.
const watchReadWait = 90 * time.Second

// cmdWatch is the terminal twin of the page: it signs in, holds the
// session's WebSocket, renews on every warning and prints one line per
// event, reconnecting with backoff when the connection drops. It runs the
// page's own logic (shared/client) over net/http and gorilla/websocket.
func cmdWatch(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "watch")
	server := fs.String("server", "", serverFlagHelp)
	username := fs.String("username", "", "the user to sign in as (required)")
	password := fs.String("password", "", "the password (or set $"+envPassword+")")
	ttl := fs.Int64("ttl", 0, "token lifetime in seconds (1–86400); the server's default when 0")
	bound := fs.Duration("for", 0, "stop after this long (e.g. 30s); run until interrupted when 0")
	if err := parseFlags(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("watch takes no arguments, got %q (run `tokenlab help watch`)", fs.Args())
	}
	base, err := serverURL(e, *server)
	if err != nil {
		return err
	}
	if *password == "" {
		*password = e.getenv(envPassword)
	}
	switch {
	case *username == "":
		return usageErrorf("watch: --username is required")
	case *password == "":
		return usageErrorf("watch: --password (or $%s) is required", envPassword)
	case *ttl != 0 && (*ttl < token.MinTTL || *ttl > token.MaxTTL):
		return usageErrorf("watch: --ttl must be from %d to %d seconds, got %d", token.MinTTL, token.MaxTTL, *ttl)
	case *bound < 0:
		return usageErrorf("watch: --for must not be negative, got %v", *bound)
	}
	if *bound > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *bound)
		defer cancel()
	}
	signIn := map[string]any{"username": *username, "password": *password}
	if *ttl != 0 {
		signIn["ttl"] = *ttl
	}
	body, _ := json.Marshal(signIn) // a map of strings and a number
	jar, _ := cookiejar.New(nil)    // never fails without options
	w := &watcher{
		base: base, signIn: body, out: e.stdout, now: e.now, rnd: rand.Float64,
		http: &http.Client{Jar: jar, Timeout: 15 * time.Second},
		dial: &websocket.Dialer{Jar: jar, HandshakeTimeout: 15 * time.Second},
		end:  make(chan error, 1),
	}
	return w.run(ctx)
}

// serverURL checks a --server value; without one, it is the server that
// `tokenlab serve` would start with the same configuration.
func serverURL(e env, s string) (*url.URL, error) {
	if s == "" {
		return configuredServer(e)
	}
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, usageErrorf("--server must be a base URL such as http://127.0.0.1:8080, got %q", s)
	}
	u.Path = ""
	return u, nil
}

// watcher adapts shared/client to the terminal: its transport is net/http
// and gorilla/websocket, and it prints the client's notes as lines.
type watcher struct {
	base   *url.URL
	signIn []byte // the body of POST /token
	out    io.Writer
	now    func() time.Time
	rnd    func() float64
	http   *http.Client
	dial   *websocket.Dialer
	c      *client.Client

	// Owned by the client's loop: the notes arrive there.
	signedIn     bool // a sign-in has succeeded: later failures are retried
	signInTries  int  // failed sign-ins in a row
	revokedShown bool // "revoked" was printed

	// end receives the watch's outcome: nil for a revoked session, or an
	// error that retrying cannot mend.
	end chan error
}

func (w *watcher) run(ctx context.Context) error {
	w.c = client.New(client.Config{
		Transport:    client.Transport{Post: w.post, Dial: w.dialSocket},
		Observer:     client.Observer{Note: w.note, Fail: w.fail},
		RenewUnknown: true,
		Rand:         w.rnd,
	})
	w.c.SignIn(w.signIn)
	stop := make(chan struct{})
	var result error
	stopped := false
	go func() {
		select {
		case <-ctx.Done():
			stopped = true
		case result = <-w.end:
		}
		close(stop)
	}()
	w.c.Run(stop) // returns after close(stop): result and stopped are set
	if stopped {
		w.event("stopped", "")
		return nil
	}
	return result
}

// finish ends the watch with err (nil: a clean exit).
func (w *watcher) finish(err error) {
	select {
	case w.end <- err:
	default: // the first outcome wins
	}
}

// event prints one line: a UTC timestamp, the event, details.
func (w *watcher) event(name, detail string) {
	line := w.now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + name
	if detail != "" {
		line += " " + detail
	}
	fmt.Fprintln(w.out, line)
}

// note prints what the client reports, and signs in again when the
// session ended in a way a new sign-in mends.
func (w *watcher) note(n client.Note) {
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	switch n.Kind {
	case client.NoteToken, client.NoteKept:
		// A renewal may bring the current token again (minted in the same
		// second): it is still the server's answer.
		if n.Kind == client.NoteToken && n.Trigger == client.TriggerSignIn {
			w.signedIn, w.signInTries = true, 0
			w.event("signed-in", fmt.Sprintf("identity=%s jti=%s exp=%s", n.Identity, n.JTI, token.Stamp(n.Exp)))
			return
		}
		reason := n.Reason
		if reason == "" {
			reason = n.Trigger
		}
		w.event("renewed", fmt.Sprintf("jti=%s exp=%s reason=%s", n.JTI, token.Stamp(n.Exp), reason))
	case client.NoteConnected:
		if n.JTI == "" {
			// The server does not know this session's token (it
			// restarted): the client asks for one.
			w.event("connected", fmt.Sprintf("identity=%s token=unknown clock_offset=%v", n.Identity, ms(n.Offset)))
			return
		}
		w.event("connected", fmt.Sprintf("identity=%s jti=%s exp=%s lead=%v clock_offset=%v",
			n.Identity, n.JTI, token.Stamp(n.Exp), n.Lead, ms(n.Offset)))
	case client.NoteExpiring:
		w.event("expiring", fmt.Sprintf("jti=%s exp=%s left=%v", n.JTI, token.Stamp(n.Exp), ms(n.Left)))
	case client.NoteExpired:
		w.event("expired", fmt.Sprintf("jti=%s exp=%s", n.JTI, token.Stamp(n.Exp)))
	case client.NoteReconnecting:
		after := (&websocket.CloseError{Code: n.Code, Text: n.Reason}).Error()
		w.event("reconnecting", fmt.Sprintf("in=%v after=%q", ms(n.Retry), after))
	case client.NoteRevoked:
		w.revokedShown = true
		w.event("revoked", "reason="+n.Reason)
	case client.NoteSignedOut:
		switch n.Reason {
		case "close_" + strconv.Itoa(protocol.CloseSessionExpired), "session_gone":
			// The cookie no longer opens (the session's lifetime is over,
			// or the server's key changed): sign in again and carry on.
			w.event("session-ended", "code="+api.CodeSessionExpired+" (signing in again)")
			w.c.SignIn(w.signIn)
		default:
			if !w.revokedShown {
				w.event("revoked", "reason="+n.Reason)
			}
			w.finish(nil)
		}
	}
}

// fail prints an error. A first sign-in that fails ends the watch (a
// wrong --server or password); a later one, after the session ended, is
// retried with backoff, since the server may be restarting.
func (w *watcher) fail(code, message, field string, signIn bool) {
	if !signIn {
		w.event("error", fmt.Sprintf("code=%s message=%q", code, message))
		return
	}
	if !w.signedIn {
		if code == "network" {
			w.finish(fmt.Errorf("watch: cannot reach %s (is the server running?): %s", w.base, message))
		} else {
			w.finish(fmt.Errorf("watch: signing in to %s: %s (%s)", w.base, message, code))
		}
		return
	}
	delay := renew.ReconnectBackoff.Delay(w.signInTries, w.rnd)
	w.signInTries++
	w.event("reconnecting", fmt.Sprintf("in=%v after=%q", delay.Round(time.Millisecond), message))
	time.AfterFunc(delay, func() { w.c.SignIn(w.signIn) })
}

// post is the client's HTTP: the session cookie lives in the jar.
func (w *watcher) post(path string, body []byte) client.Response {
	r := client.Response{Sent: time.Now()}
	req, err := http.NewRequest("POST", w.base.String()+path, bytes.NewReader(body))
	if err != nil {
		r.Err, r.Received = err, time.Now()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.http.Do(req)
	r.Received = time.Now()
	if err != nil {
		r.Err = err
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		r.ServerTime = t
	}
	r.Body, r.Err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return r
}

// wsSocket is one gorilla WebSocket for the client. The dial and the reads
// run on a goroutine of its own, so the client's loop never waits.
type wsSocket struct {
	cancel context.CancelFunc // stops a dial in progress

	mu     sync.Mutex
	conn   *websocket.Conn // nil until dialled
	closed bool            // Close was called
}

// dialSocket opens the session's socket as the page would: same cookie,
// the server's own origin.
func (w *watcher) dialSocket(message func(string), closed func(int, string)) client.Socket {
	ctx, cancel := context.WithCancel(context.Background())
	s := &wsSocket{cancel: cancel}
	go s.run(ctx, w, message, closed)
	return s
}

func (s *wsSocket) run(ctx context.Context, w *watcher, message func(string), closed func(int, string)) {
	defer s.cancel()
	wsURL := *w.base
	wsURL.Scheme = strings.Replace(w.base.Scheme, "http", "ws", 1)
	wsURL.Path = "/ws"
	conn, resp, err := w.dial.DialContext(ctx, wsURL.String(), http.Header{"Origin": {w.base.String()}})
	if err != nil {
		switch {
		case resp != nil && resp.StatusCode == http.StatusUnauthorized:
			// The upgrade was refused for the session: say it as the
			// server would on an open socket.
			code := errorCode(resp)
			if code == api.CodeSessionRevoked {
				closed(protocol.CloseRevoked, code)
			} else {
				closed(protocol.CloseSessionExpired, code)
			}
		case resp != nil:
			w.finish(fmt.Errorf("watch: the server refused the WebSocket: %s %s", resp.Status, errorCode(resp)))
			closed(1006, resp.Status)
		default:
			closed(1006, err.Error())
		}
		return
	}
	defer conn.Close()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return // closed while dialling: nobody listens any more
	}
	s.conn = conn
	s.mu.Unlock()
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(watchReadWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})
	for {
		conn.SetReadDeadline(time.Now().Add(watchReadWait))
		_, data, err := conn.ReadMessage()
		if err != nil {
			if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
				closed(ce.Code, ce.Text)
			} else {
				closed(1006, err.Error())
			}
			return
		}
		message(string(data))
	}
}

// Send writes a text frame if the socket is open. Only the client's loop
// calls it, so there is one writer.
func (s *wsSocket) Send(text string) bool {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return false
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return conn.WriteMessage(websocket.TextMessage, []byte(text)) == nil
}

// Close ends the socket politely, or stops the dial.
func (s *wsSocket) Close(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.conn == nil {
		s.cancel()
		return
	}
	s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	s.conn.Close()
}

// readAnswer decodes a JSON answer into v, or returns the server's error
// message.
func readAnswer(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e protocol.ErrorAnswer
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s (%s)", resp.Status, e.Error.Message, e.Error.Code)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

// errorCode reads the code of a JSON error answer.
func errorCode(resp *http.Response) string {
	defer resp.Body.Close()
	var e protocol.ErrorAnswer
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	return e.Error.Code
}
