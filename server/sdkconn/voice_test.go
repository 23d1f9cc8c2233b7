package sdkconn_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/token"
)

// voiceToken mints a token with a voice grant that allows incoming calls.
func voiceToken(tb testing.TB, m *mint.Minter, identity string, ttl time.Duration) string {
	tb.Helper()
	return voiceTokenWith(tb, m, identity, ttl, &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}})
}

func voiceTokenWith(tb testing.TB, m *mint.Minter, identity string, ttl time.Duration, g *token.VoiceGrant) string {
	tb.Helper()
	t, err := m.Mint(identity, token.Grants{Voice: g}, ttl)
	if err != nil {
		tb.Fatal(err)
	}
	return t.Token
}

// mustVoiceServer serves the Voice signaling endpoint on loopback.
func mustVoiceServer(tb testing.TB, o sdkconn.Options) (*sdkconn.VoiceEndpoint, *httptest.Server, string) {
	tb.Helper()
	if o.Minter == nil {
		o.Minter = mustMinter(tb, creds, nil)
	}
	e := sdkconn.NewVoice(o)
	srv := httptest.NewServer(e)
	tb.Cleanup(srv.Close)
	return e, srv, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// device speaks Voice signaling as the SDK's PStream does.
type device struct {
	tb testing.TB
	ws *websocket.Conn
}

func dialVoice(tb testing.TB, url string) *device {
	tb.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	tb.Cleanup(func() { ws.Close() })
	return &device{tb: tb, ws: ws}
}

func (d *device) send(typ string, payload any) {
	d.tb.Helper()
	b, err := voicesignal.Encode(typ, payload)
	if err != nil {
		d.tb.Fatal(err)
	}
	if err := d.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		d.tb.Fatalf("write: %v", err)
	}
}

func (d *device) listen(tok string) { d.send(voicesignal.TypeListen, voicesignal.Listen{Token: tok}) }

// next reads the next message that is not a heartbeat, failing after
// within.
func (d *device) next(within time.Duration) voicesignal.Message {
	d.tb.Helper()
	d.ws.SetReadDeadline(time.Now().Add(within))
	for {
		kind, data, err := d.ws.ReadMessage()
		if err != nil {
			d.tb.Fatalf("waiting for a message: %v", err)
		}
		if kind != websocket.TextMessage {
			d.tb.Fatalf("the server sent a message of WebSocket type %d, want text", kind)
		}
		if voicesignal.IsHeartbeat(data) {
			continue
		}
		m, err := voicesignal.Decode(data)
		if err != nil {
			d.tb.Fatalf("the server sent a bad message: %v", err)
		}
		return m
	}
}

// want reads the next message and checks its type.
func (d *device) want(typ string) voicesignal.Message {
	d.tb.Helper()
	m := d.next(5 * time.Second)
	if m.Type != typ {
		d.tb.Fatalf("got %s %s, want %s", m.Type, m.Payload, typ)
	}
	return m
}

// wantError reads an error message with code.
func (d *device) wantError(code int) voicesignal.Error {
	d.tb.Helper()
	var p voicesignal.ErrorPayload
	if err := d.want(voicesignal.TypeError).PayloadInto(&p); err != nil {
		d.tb.Fatal(err)
	}
	if p.Error.Code != code {
		d.tb.Fatalf("error %d %q, want code %d", p.Error.Code, p.Error.Message, code)
	}
	return p.Error
}

// wantClosed reads the signaling close, then waits for the WebSocket to end.
func (d *device) wantClosed() {
	d.tb.Helper()
	d.want(voicesignal.TypeClose)
	d.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := d.ws.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				d.tb.Fatalf("the WebSocket ended with %v, want a normal close", err)
			}
			return
		}
	}
}

func (d *device) connected() voicesignal.Connected {
	d.tb.Helper()
	var c voicesignal.Connected
	if err := d.want(voicesignal.TypeConnected).PayloadInto(&c); err != nil {
		d.tb.Fatal(err)
	}
	return c
}

func (d *device) register(audio bool) {
	var r voicesignal.Register
	r.Media.Audio = audio
	d.send(voicesignal.TypeRegister, r)
}

// TestVoiceLifecycle: listen gives connected with the token's ttl,
// register gives ready; an update on the live stream is accepted without
// connected (the SDK would not re-arm its warning, as with Twilio) and
// moves the expiry; at exp come 31205 and offline; a listen after that
// gives connected again and register works again.
func TestVoiceLifecycle(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceToken(t, m, "alice", time.Minute))
	c := d.connected()
	if c.Token == nil || c.Token.Identity != "alice" || c.Token.TTL < 58 || c.Token.TTL > 60 {
		t.Fatalf("connected says %+v, want alice with a ttl of about 60 s", c.Token)
	}
	d.register(true)
	d.want(voicesignal.TypeReady)

	d.listen(voiceToken(t, m, "alice", 2*time.Second)) // updateToken
	updated := time.Now()
	d.wantError(voicesignal.CodeTokenExpired) // not connected: the update was silent
	if since := time.Since(updated); since < time.Second {
		t.Errorf("31205 %v after the update, before the new token's exp", since)
	}
	d.want(voicesignal.TypeOffline)
	d.register(true)
	d.wantError(voicesignal.CodeTokenExpired)
	d.want(voicesignal.TypeOffline)

	d.listen(voiceToken(t, m, "alice", time.Minute))
	d.connected()
	d.register(true)
	d.want(voicesignal.TypeReady)
	d.register(false) // unregister
	d.want(voicesignal.TypeOffline)
}

// TestVoiceTokensRefused: a listen with a token Twilio would refuse gets
// the signaling code the SDK maps to 20101 or 20104, then close.
func TestVoiceTokensRefused(t *testing.T) {
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	future := func() time.Time { return time.Now().Add(time.Hour) }
	other := creds
	other.APIKeySecret = "another-secret"
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	sync, err := m.Mint("alice", token.Grants{Sync: &token.SyncGrant{}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token string
		code        int
	}{
		{"bad signature", voiceToken(t, mustMinter(t, other, nil), "alice", time.Minute), voicesignal.CodeTokenInvalid},
		{"expired", voiceToken(t, mustMinter(t, creds, past), "alice", time.Minute), voicesignal.CodeTokenExpired},
		{"not yet valid", voiceToken(t, mustMinter(t, creds, future), "alice", time.Minute), voicesignal.CodeTokenInvalid},
		{"not a token", "not-a-jwt", voicesignal.CodeTokenInvalid},
		{"empty", "", voicesignal.CodeTokenInvalid},
		{"no voice grant", sync.Token, voicesignal.CodeTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dialVoice(t, url)
			d.listen(tt.token)
			e := d.wantError(tt.code)
			if tt.token != "" && strings.Contains(e.Message, tt.token) {
				t.Errorf("the error repeats the token: %q", e.Message)
			}
			d.wantClosed()
		})
	}
}

// TestVoiceRegisterRefused: registering needs incoming calls allowed; the
// refusal ends with offline, so register() settles.
func TestVoiceRegisterRefused(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceTokenWith(t, m, "alice", time.Minute, &token.VoiceGrant{Outgoing: &token.VoiceOutgoing{ApplicationSID: "AP00000000000000000000000000000000"}}))
	d.connected()
	d.register(true)
	if e := d.wantError(voicesignal.CodeTokenInvalid); !strings.Contains(e.Message, "incoming") {
		t.Errorf("the refusal says %q, want it to name incoming calls", e.Message)
	}
	d.want(voicesignal.TypeOffline)
}

// TestVoiceUpdateAnotherIdentity: updateToken cannot change who the Device
// is.
func TestVoiceUpdateAnotherIdentity(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceToken(t, m, "alice", time.Minute))
	d.connected()
	d.listen(voiceToken(t, m, "mallory", time.Minute))
	if e := d.wantError(voicesignal.CodeTokenInvalid); !strings.Contains(e.Message, "mallory") {
		t.Errorf("the refusal says %q, want it to name the identities", e.Message)
	}
	d.wantClosed()
}

// TestVoiceCallsRefused: every call message is answered at once with a
// hangup for its call that says calls are not emulated, so no call hangs.
func TestVoiceCallsRefused(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceToken(t, m, "alice", time.Minute))
	d.connected()
	for _, typ := range []string{voicesignal.TypeInvite, voicesignal.TypeAnswer, voicesignal.TypeDTMF, voicesignal.TypeReinvite, voicesignal.TypeMessage} {
		d.send(typ, map[string]string{"callsid": "CA-" + typ, "sdp": "v=0"})
		var h voicesignal.Hangup
		if err := d.want(voicesignal.TypeHangup).PayloadInto(&h); err != nil {
			t.Fatal(err)
		}
		if h.CallSID != "CA-"+typ || h.Error == nil || h.Error.Code != voicesignal.CodeConnectionError || !strings.Contains(h.Error.Message, "not emulated by tokenlab") {
			t.Errorf("%s answered with %+v, want a hangup of CA-%s with 31005 not emulated", typ, h, typ)
		}
	}
	d.send(voicesignal.TypeHangup, voicesignal.Call{CallSID: "CA-x"}) // nothing to answer
	d.register(true)
	d.want(voicesignal.TypeReady) // the stream is still up, and the hangup had no answer
}

// TestVoiceHostileMessages: what a real SDK never sends closes the stream
// with an error that says what was wrong; a message before listen is
// refused as an unauthenticated one.
func TestVoiceHostileMessages(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	tests := []struct {
		name   string
		listen bool
		data   string
		code   int
		says   string
	}{
		{"register before listen", false, `{"type":"register","payload":{"media":{"audio":true}}}`, voicesignal.CodeTokenInvalid, "before listen"},
		{"invite before listen", false, `{"type":"invite","payload":{"callsid":"c"}}`, voicesignal.CodeTokenInvalid, "before listen"},
		{"not JSON", true, `hello`, voicesignal.CodeConnectionError, "not a JSON object"},
		{"unknown type", true, `{"type":"subscribe"}`, voicesignal.CodeConnectionError, "unknown"},
		{"payload not an object", true, `{"type":"register","payload":[true]}`, voicesignal.CodeConnectionError, "not a JSON object"},
		{"listen payload of the wrong shape", true, `{"type":"listen","payload":{"token":{"a":1}}}`, voicesignal.CodeTokenInvalid, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dialVoice(t, url)
			if tt.listen {
				d.listen(voiceToken(t, m, "alice", time.Minute))
				d.connected()
			}
			if err := d.ws.WriteMessage(websocket.TextMessage, []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			if e := d.wantError(tt.code); !strings.Contains(e.Message, tt.says) {
				t.Errorf("the error says %q, want it to say %q", e.Message, tt.says)
			}
			d.wantClosed()
		})
	}
	t.Run("server's own types", func(t *testing.T) {
		d := dialVoice(t, url)
		d.listen(voiceToken(t, m, "alice", time.Minute))
		d.connected()
		d.send(voicesignal.TypeConnected, voicesignal.Connected{})
		if e := d.wantError(voicesignal.CodeConnectionError); !strings.Contains(e.Message, "sent by the server") {
			t.Errorf("the error says %q", e.Message)
		}
	})
	t.Run("too large", func(t *testing.T) {
		d := dialVoice(t, url)
		d.listen(voiceToken(t, m, "alice", time.Minute))
		d.connected()
		big := `{"type":"message","payload":{"content":"` + strings.Repeat("a", voicesignal.MaxMessageBytes) + `"}}`
		d.ws.WriteMessage(websocket.TextMessage, []byte(big))
		d.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, _, err := d.ws.ReadMessage()
			if err == nil {
				continue
			}
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Fatalf("the WebSocket ended with %v, want 1009 message too big", err)
			}
			return
		}
	})
	t.Run("no listen", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the 10 s listen deadline")
		}
		d := dialVoice(t, url)
		d.ws.SetReadDeadline(time.Now().Add(15 * time.Second))
		for {
			if _, _, err := d.ws.ReadMessage(); err != nil {
				var timeout interface{ Timeout() bool }
				if errors.As(err, &timeout) && timeout.Timeout() {
					t.Fatalf("a connection that never listened was kept open 15 s")
				}
				return
			}
		}
	})
}

// TestVoiceFloodClosed: a client that sends faster than the rate is
// closed with an error that says so.
func TestVoiceFloodClosed(t *testing.T) {
	m := mustMinter(t, creds, nil)
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceToken(t, m, "alice", time.Minute))
	d.connected()
	b, _ := voicesignal.Encode(voicesignal.TypeRegister, map[string]any{"media": map[string]bool{"audio": true}})
	go func() {
		for range sdkconn.MessageBurst * 3 {
			if d.ws.WriteMessage(websocket.TextMessage, b) != nil {
				return
			}
		}
	}()
	for {
		msg := d.next(5 * time.Second)
		if msg.Type == voicesignal.TypeError {
			var p voicesignal.ErrorPayload
			msg.PayloadInto(&p)
			if p.Error.Code != voicesignal.CodeConnectionError || !strings.Contains(p.Error.Message, "slow down") {
				t.Fatalf("error %+v, want 31005 saying slow down", p.Error)
			}
			d.wantClosed()
			return
		}
	}
}

// TestVoiceConnectionsPerIdentity: listens for one identity on many
// connections at once are bounded; the rest are refused and closed.
func TestVoiceConnectionsPerIdentity(t *testing.T) {
	m := mustMinter(t, creds, nil)
	const limit, tries = 3, 12
	_, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m, MaxConnsPerIdentity: limit})
	tok := voiceToken(t, m, "alice", time.Minute)
	var (
		start   = make(chan struct{})
		wg      sync.WaitGroup
		mu      sync.Mutex
		ok, bad int
	)
	for range tries {
		d := dialVoice(t, url)
		wg.Go(func() {
			<-start
			d.listen(tok)
			msg := d.next(5 * time.Second)
			mu.Lock()
			defer mu.Unlock()
			switch msg.Type {
			case voicesignal.TypeConnected:
				ok++
			case voicesignal.TypeError:
				bad++
			default:
				t.Errorf("unexpected answer %s", msg.Type)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok != limit || bad != tries-limit {
		t.Fatalf("%d connected and %d refused, want %d and %d", ok, bad, limit, tries-limit)
	}
}

// TestVoiceTotalConnections: a burst of upgrades in parallel past the
// server-wide bound is refused with 503 and tokenlab's JSON error before
// the upgrade.
func TestVoiceTotalConnections(t *testing.T) {
	const limit, tries = 4, 16
	e, _, url := mustVoiceServer(t, sdkconn.Options{MaxConns: limit})
	var (
		start        = make(chan struct{})
		wg           sync.WaitGroup
		mu           sync.Mutex
		opened, full int
	)
	for range tries {
		wg.Go(func() {
			<-start
			ws, res, err := websocket.DefaultDialer.Dial(url, nil)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				opened++
				t.Cleanup(func() { ws.Close() })
				return
			}
			if res == nil || res.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("dial: %v (%v), want 503", err, res)
				return
			}
			body, _ := io.ReadAll(res.Body)
			var answer struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal(body, &answer) != nil || answer.Error.Code != "too_many_connections" || !strings.Contains(answer.Error.Message, "limit 4") {
				t.Errorf("503 body %s, want too_many_connections naming the limit", body)
			}
			full++
		})
	}
	close(start)
	wg.Wait()
	if opened != limit || full != tries-limit {
		t.Fatalf("%d opened and %d refused, want %d and %d", opened, full, limit, tries-limit)
	}
	if n := e.Connections(); n != limit {
		t.Errorf("Connections() = %d, want %d", n, limit)
	}
}

// TestVoicePlainHTTP: a request that is not an upgrade is told what the
// path is for.
func TestVoicePlainHTTP(t *testing.T) {
	_, srv, _ := mustVoiceServer(t, sdkconn.Options{})
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"code":"not_websocket"`) || !strings.Contains(string(body), "chunderw") {
		t.Errorf("status %d %s, want 400 not_websocket naming the chunderw option", res.StatusCode, body)
	}
}

// TestVoiceShutdown: Drain closes a connected Device's socket with 1001
// going away (the SDK reconnects without an error) and returns once the
// close is sent.
func TestVoiceShutdown(t *testing.T) {
	m := mustMinter(t, creds, nil)
	e := sdkconn.NewVoice(sdkconn.Options{Minter: m})
	srv := httptest.NewUnstartedServer(e)
	srv.Start()
	defer srv.Close()
	d := dialVoice(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	d.listen(voiceToken(t, m, "alice", time.Minute))
	d.connected()
	closed := make(chan error, 1)
	go func() {
		d.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := d.ws.ReadMessage(); err != nil {
				closed <- err
				return
			}
		}
	}()
	srv.Config.Shutdown(t.Context())
	sdkconn.Drain(t.Context(), srv.Config)
	if err := <-closed; !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("the socket ended with %v, want close 1001", err)
	}
}
