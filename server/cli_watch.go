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
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
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
// event, reconnecting with backoff when the connection drops.
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
	jar, _ := cookiejar.New(nil) // never fails without options
	w := &watcher{
		base: base, username: *username, password: *password, ttl: *ttl,
		out: e.stdout, now: e.now, rnd: rand.Float64,
		http: &http.Client{Jar: jar, Timeout: 15 * time.Second},
		dial: &websocket.Dialer{Jar: jar, HandshakeTimeout: 15 * time.Second},
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

// watcher holds one watch run's state.
type watcher struct {
	base               *url.URL
	username, password string
	ttl                int64
	out                io.Writer
	now                func() time.Time
	rnd                func() float64
	http               *http.Client
	dial               *websocket.Dialer

	jti     string // the current token's jti
	renewID int    // numbers renew requests
}

// errStop ends the watch without an error: the session was revoked.
var errStop = errors.New("stop watching")

// retryable says the connection failed in a way worth retrying.
type retryable struct{ err error }

func (r retryable) Error() string { return r.err.Error() }

// needSignIn says the session cookie no longer opens (expired, or the
// server's key changed): sign in again and carry on.
type needSignIn struct{ code string }

func (n needSignIn) Error() string { return "session refused (" + n.code + ")" }

func (w *watcher) run(ctx context.Context) error {
	if err := w.signIn(ctx, false); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	attempt := 0
	for {
		connected, err := w.connect(ctx)
		if ctx.Err() != nil {
			w.event("stopped", "")
			return nil
		}
		if errors.Is(err, errStop) {
			return nil
		}
		if connected {
			attempt = 0
		}
		var again needSignIn
		if errors.As(err, &again) {
			w.event("session-ended", "code="+again.code+" (signing in again)")
			if err := w.signIn(ctx, true); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			continue
		}
		var r retryable
		if !errors.As(err, &r) {
			return err
		}
		delay := renew.ReconnectBackoff.Delay(attempt, w.rnd)
		attempt++
		w.event("reconnecting", fmt.Sprintf("in=%v after=%q", delay.Round(time.Millisecond), r.err.Error()))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			w.event("stopped", "")
			return nil
		case <-t.C:
		}
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

// signIn posts the credentials; the session cookie lands in the jar. With
// retry, an unreachable server is retried with backoff (it may be
// restarting); without, it is an error (a wrong --server).
func (w *watcher) signIn(ctx context.Context, retry bool) error {
	body := map[string]any{"username": w.username, "password": w.password}
	if w.ttl != 0 {
		body["ttl"] = w.ttl
	}
	b, _ := json.Marshal(body)
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, "POST", w.base.String()+"/token", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := w.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !retry {
				return fmt.Errorf("watch: cannot reach %s (is the server running?): %w", w.base, err)
			}
			// The server may be restarting: retry like a drop.
			delay := renew.ReconnectBackoff.Delay(attempt, w.rnd)
			w.event("reconnecting", fmt.Sprintf("in=%v after=%q", delay.Round(time.Millisecond), err.Error()))
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(delay):
			}
			continue
		}
		var tr api.TokenResponse
		err = readAnswer(resp, &tr)
		if err != nil {
			return fmt.Errorf("watch: signing in to %s: %w", w.base, err)
		}
		w.jti = tr.JTI
		w.event("signed-in", fmt.Sprintf("identity=%s jti=%s exp=%s", tr.Identity, tr.JTI, stamp(tr.ExpiresAt)))
		return nil
	}
}

// connect holds one WebSocket connection until it ends. connected reports
// whether the server greeted it.
func (w *watcher) connect(ctx context.Context) (connected bool, err error) {
	wsURL := *w.base
	wsURL.Scheme = strings.Replace(w.base.Scheme, "http", "ws", 1)
	wsURL.Path = "/ws"
	h := http.Header{"Origin": {w.base.String()}} // as the page would send
	conn, resp, err := w.dial.DialContext(ctx, wsURL.String(), h)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			code := errorCode(resp)
			if code == api.CodeSessionRevoked {
				w.event("revoked", "reason="+code)
				return false, errStop
			}
			return false, needSignIn{code: code}
		}
		if resp != nil {
			return false, fmt.Errorf("watch: the server refused the WebSocket: %s %s", resp.Status, errorCode(resp))
		}
		return false, retryable{err}
	}
	defer conn.Close()
	// A cancelled context closes the connection politely, which ends the
	// read below.
	stop := context.AfterFunc(ctx, func() {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "watch stopped"), time.Now().Add(time.Second))
		conn.Close()
	})
	defer stop()
	conn.SetPingHandler(func(data string) error {
		conn.SetReadDeadline(time.Now().Add(watchReadWait))
		return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
	})
	for {
		conn.SetReadDeadline(time.Now().Add(watchReadWait))
		_, data, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce) && ce.Code == protocol.CloseRevoked:
				return connected, errStop // "revoked" was printed with its message
			case errors.As(err, &ce) && ce.Code == protocol.CloseSessionExpired:
				return connected, needSignIn{code: api.CodeSessionExpired}
			}
			return connected, retryable{err}
		}
		m, err := protocol.Decode(data)
		if err != nil {
			w.event("bad-message", err.Error())
			continue
		}
		if err := w.handle(conn, m, &connected); err != nil {
			return connected, err
		}
	}
}

// handle prints one server message and renews when the server says so.
func (w *watcher) handle(conn *websocket.Conn, m protocol.Message, connected *bool) error {
	switch m.Type {
	case protocol.TypeHello:
		*connected = true
		offset := time.UnixMilli(m.ServerTimeMS).Sub(w.now()).Round(time.Millisecond)
		if m.JTI == "" {
			// The server does not know this session's token (it restarted):
			// ask for one.
			w.event("connected", fmt.Sprintf("identity=%s token=unknown clock_offset=%v", m.Identity, offset))
			return w.renew(conn)
		}
		w.jti = m.JTI
		w.event("connected", fmt.Sprintf("identity=%s jti=%s exp=%s lead=%v clock_offset=%v",
			m.Identity, m.JTI, stamp(m.Exp), time.Duration(m.LeadMS)*time.Millisecond, offset))
	case protocol.TypeExpiring:
		left := time.Unix(m.Exp, 0).Sub(time.UnixMilli(m.ServerTimeMS))
		w.event("expiring", fmt.Sprintf("jti=%s exp=%s left=%v", m.JTI, stamp(m.Exp), left.Round(time.Millisecond)))
		return w.renew(conn)
	case protocol.TypeExpired:
		w.event("expired", fmt.Sprintf("jti=%s exp=%s", m.JTI, stamp(m.Exp)))
		return w.renew(conn)
	case protocol.TypeToken:
		w.jti = m.JTI
		w.event("renewed", fmt.Sprintf("jti=%s exp=%s reason=%s", m.JTI, stamp(m.Exp), m.Reason))
	case protocol.TypeRevoked:
		w.event("revoked", "reason="+m.Reason)
	case protocol.TypeError:
		w.event("error", fmt.Sprintf("code=%s message=%q", m.Code, m.Text))
	case protocol.TypePong:
	}
	return nil
}

// renew asks for a new token on the socket; the answer is a "token" message.
func (w *watcher) renew(conn *websocket.Conn) error {
	w.renewID++
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	err := conn.WriteMessage(websocket.TextMessage, protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: fmt.Sprint("w", w.renewID)}))
	if err != nil {
		return retryable{err}
	}
	return nil
}

func stamp(unix int64) string { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }

// readAnswer decodes a JSON answer into v, or returns the server's error
// message.
func readAnswer(resp *http.Response, v any) error {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
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
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
	return e.Error.Code
}
