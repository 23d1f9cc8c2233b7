package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/token"
)

// signalAttack is one hostile Voice signaling client: what it sends after
// the upgrade, and the error code the server must answer before it ends
// the stream (0: the WebSocket close code wantClose instead).
type signalAttack struct {
	name      string
	host      string // the Host header; "" is the server's address
	status    int    // a refused upgrade's status
	send      []string
	repeat    int
	wantCode  int
	says      string
	wantClose int
}

func hostileSignals(valid, mallory, expired, forged, noVoice string) []signalAttack {
	listen := func(tok string) string {
		b, _ := voicesignal.Encode(voicesignal.TypeListen, voicesignal.Listen{Token: tok})
		return string(b)
	}
	return []signalAttack{
		{name: "from a rebinding domain", host: "evil.example", status: http.StatusMisdirectedRequest},
		{name: "forged token", send: []string{listen(forged)}, wantCode: voicesignal.CodeTokenInvalid, says: "signature"},
		{name: "expired token", send: []string{listen(expired)}, wantCode: voicesignal.CodeTokenExpired, says: "expired"},
		{name: "token without a voice grant", send: []string{listen(noVoice)}, wantCode: voicesignal.CodeTokenInvalid, says: "voice grant"},
		{name: "a JWT with alg none", send: []string{listen("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJBQyJ9.")}, wantCode: voicesignal.CodeTokenInvalid},
		{name: "register before listen", send: []string{`{"type":"register","payload":{"media":{"audio":true}}}`}, wantCode: voicesignal.CodeTokenInvalid, says: "before listen"},
		{name: "invite before listen", send: []string{`{"type":"invite","payload":{"callsid":"CA1","sdp":"v=0"}}`}, wantCode: voicesignal.CodeTokenInvalid, says: "before listen"},
		{name: "not JSON", send: []string{`hello?`}, wantCode: voicesignal.CodeConnectionError, says: "not a JSON object"},
		{name: "unknown type", send: []string{listen(valid), `{"type":"subscribe"}`}, wantCode: voicesignal.CodeConnectionError, says: "unknown"},
		{name: "listen payload a string", send: []string{`{"type":"listen","payload":"` + valid + `"}`}, wantCode: voicesignal.CodeConnectionError, says: "not a JSON object"},
		{name: "another identity on update", send: []string{listen(valid), listen(mallory)}, wantCode: voicesignal.CodeTokenInvalid, says: "identity"},
		{name: "flood of heartbeats", send: []string{voicesignal.Heartbeat}, repeat: 200, wantCode: voicesignal.CodeConnectionError, says: "slow down"},
		{name: "oversized message", send: []string{`{"type":"listen","payload":{"token":"` + strings.Repeat("a", voicesignal.MaxMessageBytes) + `"}}`}, wantClose: websocket.CloseMessageTooBig},
	}
}

// TestHostileSignaling runs every Voice signaling attack at once, each on
// its own connection to a real server, over plain HTTP and TLS, while a
// well-behaved Device registers; each attack gets its exact refusal, and
// the server still serves.
func TestHostileSignaling(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { hostileSignalingOver(t, tr.tls) })
	}
}

func hostileSignalingOver(t *testing.T, overTLS bool) {
	s := newHostileOver(t, overTLS)
	m, err := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	voice := token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}
	mintFor := func(m *mint.Minter, identity string, g token.Grants) string {
		tok, err := m.Mint(identity, g, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}
	past, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret}, func() time.Time { return time.Now().Add(-time.Hour) })
	forger, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: "not-the-secret"}, nil)
	valid := mintFor(m, "alice", voice)
	attacks := hostileSignals(valid, mintFor(m, "mallory", voice), mintFor(past, "alice", voice), mintFor(forger, "alice", voice), mintFor(m, "alice", token.Grants{Chat: &token.ChatGrant{}}))

	bobListens, _ := voicesignal.Encode(voicesignal.TypeListen, voicesignal.Listen{Token: mintFor(m, "bob", voice)})
	url := s.wsURL("/signal")
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, a := range attacks {
		wg.Go(func() {
			<-start
			if err := runSignalAttack(s, url, a); err != "" {
				t.Errorf("%s: %s", a.name, err)
			}
		})
	}
	// A real Device registers while the attacks run.
	wg.Go(func() {
		<-start
		c, _, err := s.dialer.Dial(url, nil)
		if err != nil {
			t.Errorf("the well-behaved Device: %v", err)
			return
		}
		defer c.Close()
		c.WriteMessage(websocket.TextMessage, bobListens)
		c.WriteMessage(websocket.TextMessage, []byte(`{"type":"register","payload":{"media":{"audio":true}}}`))
		for _, want := range []string{voicesignal.TypeConnected, voicesignal.TypeReady} {
			if got := nextSignal(c); got.Type != want {
				t.Errorf("the well-behaved Device got %s %s, want %s", got.Type, got.Payload, want)
				return
			}
		}
	})
	close(start)
	wg.Wait()
	s.healthy(t)
}

// runSignalAttack runs one attack and returns what went wrong ("" if
// nothing).
func runSignalAttack(s *hostile, url string, a signalAttack) string {
	h := http.Header{}
	if a.host != "" {
		h.Set("Host", a.host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := s.dialer.DialContext(ctx, url, h)
	if a.status != 0 {
		if err == nil {
			c.Close()
			return "the upgrade was accepted"
		}
		var e errorBody
		if resp == nil || resp.StatusCode != a.status || json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error.Code != api.CodeHostNotAllowed {
			return "the upgrade was refused otherwise: " + err.Error()
		}
		return ""
	}
	if err != nil {
		return "dial: " + err.Error()
	}
	defer c.Close()
	go func() {
		for _, msg := range a.send {
			for range max(a.repeat, 1) {
				if c.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
					return
				}
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		kind, data, err := c.ReadMessage()
		if err != nil {
			if a.wantClose != 0 && websocket.IsCloseError(err, a.wantClose) {
				return ""
			}
			return "the stream ended without the expected error: " + err.Error()
		}
		if kind != websocket.TextMessage || voicesignal.IsHeartbeat(data) {
			continue
		}
		m, err := voicesignal.Decode(data)
		if err != nil {
			return "the server sent a bad message: " + err.Error()
		}
		if m.Type != voicesignal.TypeError {
			continue // connected, for the attacks that listen first
		}
		var p voicesignal.ErrorPayload
		m.PayloadInto(&p)
		if p.Error.Code != a.wantCode || !strings.Contains(p.Error.Message, a.says) {
			return fmt.Sprintf("error %s, want code %d saying %q", m.Payload, a.wantCode, a.says)
		}
		if strings.Contains(p.Error.Message, "eyJ") {
			return "the error repeats a token: " + p.Error.Message
		}
		if next := nextSignal(c); next.Type != voicesignal.TypeClose {
			return "after the error came " + next.Type + ", want close"
		}
		return ""
	}
}

// nextSignal reads the next message that is not a heartbeat (a zero
// Message when the stream ends).
func nextSignal(c *websocket.Conn) voicesignal.Message {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return voicesignal.Message{Type: "(ended: " + err.Error() + ")"}
		}
		if voicesignal.IsHeartbeat(data) {
			continue
		}
		m, err := voicesignal.Decode(data)
		if err != nil {
			return voicesignal.Message{Type: "(bad: " + err.Error() + ")"}
		}
		return m
	}
}
