package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// sdkGrant is a Sync grant: what a twilsock connection needs.
var sdkGrant = token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS" + strings.Repeat("0", 32)}}

// twilsockInit dials /v3/wsconnect, sends init with tok and returns the
// connection and the answer's header.
func twilsockInit(tb testing.TB, base, tok string) (*websocket.Conn, twilsock.Header, error) {
	ws, _, err := websocket.DefaultDialer.Dial(base+"/v3/wsconnect", nil)
	if err != nil {
		return nil, twilsock.Header{}, err
	}
	b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: tok}, nil)
	ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		ws.Close()
		return nil, twilsock.Header{}, err
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, twilsock.Header{}, err
	}
	f, err := twilsock.Decode(data)
	if err != nil {
		ws.Close()
		return nil, twilsock.Header{}, err
	}
	return ws, f.Header, nil
}

// TestSDKFloodAtVictimTab: with a victim's tab open and not reading, an
// attacker forges tokens claiming the victim's identity, then churns
// connections with a token of the victim's and refusals of its expired
// one, in parallel. The forged ones show nowhere; the tab is never
// dropped and still gets its own notice; the listing stays bounded.
func TestSDKFloodAtVictimTab(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.sessionID(t)
	tab := l.mustDial(t, ck)
	expect(t, tab, protocol.TypeHello, 5*time.Second)
	base := "ws" + strings.TrimPrefix(l.srv.URL, "http")

	other, err := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: mint.Secret(strings.Repeat("f", 32))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Mint("alice", sdkGrant, time.Hour)
	past, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret},
		func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := past.Mint("alice", sdkGrant, time.Hour)
	valid, _ := l.minter.Mint("alice", sdkGrant, time.Hour)

	attack := func(workers, rounds int, tok string, want int) {
		t.Helper()
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan string, workers*rounds)
		for range workers {
			wg.Go(func() {
				<-start
				for range rounds {
					ws, h, err := twilsockInit(t, base, tok)
					if err != nil {
						errs <- err.Error()
						continue
					}
					if h.Status == nil || (h.Status.Code != want && h.Status.Code != twilsock.StatusTooManyRequest) {
						errs <- "init answered " + string(must(json.Marshal(h)))
					}
					ws.Close()
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
			break
		}
	}
	attack(16, 10, forged.Token, twilsock.StatusUnauthorized)
	sessions := l.adminSessions(t)
	if len(sessions.SDKConnections) != 0 {
		t.Fatalf("tokens forged with another key are listed: %d entries, the first %+v", len(sessions.SDKConnections), sessions.SDKConnections[0])
	}
	// The first sdk message the tab reads must be about a real token.
	ws, h, err := twilsockInit(t, base, valid.Token)
	if err != nil || h.Status.Code != 200 {
		t.Fatalf("a valid init: %v %+v", err, h.Status)
	}
	ws.Close()
	if m := expect(t, tab, protocol.TypeSDK, 5*time.Second); m.Event != protocol.SDKConnected {
		t.Fatalf("the tab's first sdk message: %+v, want the valid connection's", m)
	}

	attack(16, 40, valid.Token, twilsock.StatusOK)
	attack(16, 40, expired.Token, twilsock.StatusUnauthorized)

	sessions = l.adminSessions(t)
	if n := len(sessions.SDKConnections); n > 64+8 {
		t.Errorf("GET /admin/sessions lists %d SDK connections after the flood, want at most 72", n)
	}
	if len(sessions.Sessions) != 1 || sessions.Connections != 1 {
		t.Fatalf("the victim's tab was dropped: %d sessions, %d connections", len(sessions.Sessions), sessions.Connections)
	}
	l.mustPost(t, "/admin/sessions/"+id+"/warn", nil, "")
	tab.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		m := read(t, tab, 10*time.Second)
		if m.Type == protocol.TypeExpiring {
			break
		}
		if m.Type != protocol.TypeSDK {
			t.Fatalf("the tab got %+v, want sdk messages then expiring", m)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (l *live) adminSessions(tb testing.TB) api.SessionsResponse {
	tb.Helper()
	resp, err := http.Get(l.srv.URL + "/admin/sessions")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r api.SessionsResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET /admin/sessions: %d %v", resp.StatusCode, err)
	}
	return r
}

// TestLabEndedTokensStayEnded: once the lab's expire now or an operator's
// revoke has ended an SDK connection's token, that token is refused as an
// expired one (20104) wherever it comes back: reconnects sent together
// right after the revoke, an update on another connection, a Voice
// Device's listen. A token minted afterwards for the same identity is
// accepted: the fault ends tokens, not the identity. The ended tokens
// were issued a few seconds before the fault, as an app's usually are
// (one minted in the fault's second cannot be told from a new one).
func TestLabEndedTokensStayEnded(t *testing.T) {
	t.Parallel()
	for _, action := range []string{"expire", "revoke"} {
		t.Run(action, func(t *testing.T) {
			t.Parallel()
			l := newLive(t, labOn, nil)
			l.signIn(t, 600)
			id := l.sessionID(t)
			base := "ws" + strings.TrimPrefix(l.srv.URL, "http")
			earlier, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret},
				func() time.Time { return time.Now().Add(-5 * time.Second) })
			old, _ := earlier.Mint("alice", sdkGrant, time.Hour)
			ws, h, err := twilsockInit(t, base, old.Token)
			if err != nil || h.Status.Code != 200 {
				t.Fatalf("init: %v %+v", err, h.Status)
			}
			defer ws.Close()
			voice, _ := earlier.Mint("alice", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}, time.Hour)
			dev := voiceListen(t, base, voice.Token)
			defer dev.Close()
			if m := nextVoice(t, dev); m.Type != voicesignal.TypeConnected {
				t.Fatalf("listen answered %s", m.Type)
			}

			if r := l.mustPost(t, "/admin/sessions/"+id+"/"+action, nil, ""); action == "expire" && r.SDKConnections != 2 {
				t.Fatalf("%s reached %d SDK connections, want 2", action, r.SDKConnections)
			}
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("the twilsock connection ended without a 410 close: %v", err)
				}
				if f, _ := twilsock.Decode(data); f.Header.Method == twilsock.MethodClose {
					if f.Header.Status.Code != twilsock.StatusTokenExpired {
						t.Fatalf("closed with %+v, want 410", f.Header.Status)
					}
					break
				}
			}

			// The SDK, or whoever holds the token, comes back with it at once.
			const tries = 8
			start := make(chan struct{})
			var wg sync.WaitGroup
			got := make([]string, tries)
			for i := range tries {
				wg.Go(func() {
					<-start
					c, h, err := twilsockInit(t, base, old.Token)
					if err != nil {
						got[i] = err.Error()
						return
					}
					c.Close()
					got[i] = fmt.Sprint(h.Status.Code, " ", h.Status.ErrorCode)
				})
			}
			close(start)
			wg.Wait()
			for _, g := range got {
				if g != "401 20104" {
					t.Errorf("a reconnect with the token the lab ended: %s, want 401 20104", g)
				}
			}

			// On a connection of a new token, an update back to the old one.
			fresh, _ := l.minter.Mint("alice", sdkGrant, time.Hour)
			c, h, err := twilsockInit(t, base, fresh.Token)
			if err != nil || h.Status.Code != 200 {
				t.Fatalf("a token minted after the %s: %v %+v, want accepted", action, err, h.Status)
			}
			defer c.Close()
			b, _ := twilsock.Encode(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMupdate", Token: old.Token}, nil)
			c.WriteMessage(websocket.BinaryMessage, b)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, data, err := c.ReadMessage(); err != nil {
				t.Fatal(err)
			} else if f, _ := twilsock.Decode(data); f.Header.Status == nil || f.Header.Status.ErrorCode != twilsock.ErrorTokenExpired {
				t.Errorf("an update back to the ended token: %s, want 20104", data)
			}

			again := voiceListen(t, base, voice.Token)
			defer again.Close()
			var e voicesignal.ErrorPayload
			if m := nextVoice(t, again); m.Type != voicesignal.TypeError || m.PayloadInto(&e) != nil || e.Error.Code != voicesignal.CodeTokenExpired {
				t.Errorf("a Device listening again with the ended token: %s %s, want 31205", m.Type, m.Payload)
			}
		})
	}
}

// voiceListen opens /signal and sends listen with tok.
func voiceListen(tb testing.TB, base, tok string) *websocket.Conn {
	tb.Helper()
	dev, _, err := websocket.DefaultDialer.Dial(base+"/signal", nil)
	if err != nil {
		tb.Fatal(err)
	}
	listen, _ := voicesignal.Encode(voicesignal.TypeListen, voicesignal.Listen{Token: tok})
	dev.WriteMessage(websocket.TextMessage, listen)
	return dev
}

// nextVoice returns the next signaling message that is not a heartbeat.
func nextVoice(tb testing.TB, dev *websocket.Conn) voicesignal.Message {
	tb.Helper()
	dev.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, data, err := dev.ReadMessage()
		if err != nil {
			tb.Fatal(err)
		}
		if voicesignal.IsHeartbeat(data) {
			continue
		}
		m, err := voicesignal.Decode(data)
		if err != nil {
			tb.Fatal(err)
		}
		return m
	}
}

// resign returns tok with its identity replaced, signed with the server's
// key as a backend sharing the API key secret (or anyone, with the demo
// account's public one) can: mint itself refuses such identities.
func resign(tb testing.TB, tok, identity string) string {
	tb.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		tb.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		tb.Fatal(err)
	}
	claims["grants"].(map[string]any)["identity"] = identity
	parts[1] = base64.RawURLEncoding.EncodeToString(must(json.Marshal(claims)))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	parts[2] = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	return strings.Join(parts, ".")
}

// TestSDKIdentitiesThatLookAlike: tokens signed with the server's key but
// carrying an identity tokenlab never mints (a terminal escape for the
// operator's `tokenlab sessions`, a zero-width space that passes for
// alice, a bidi override, one far too long) are refused as invalid by
// both SDK sockets, in parallel, and listed nowhere.
func TestSDKIdentitiesThatLookAlike(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	base := "ws" + strings.TrimPrefix(l.srv.URL, "http")
	sync1, _ := l.minter.Mint("alice", sdkGrant, time.Hour)
	voice, _ := l.minter.Mint("alice", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}, time.Hour)
	identities := []string{"alice\x1b]52;c;ZXZpbA==\x07\x1b[2K", "al\u200bice", "\u202eecila", strings.Repeat("a", token.MaxIdentityLen+1)}
	start := make(chan struct{})
	var wg sync.WaitGroup
	got := make([]string, 2*len(identities))
	for i, id := range identities {
		wg.Go(func() {
			<-start
			c, h, err := twilsockInit(t, base, resign(t, sync1.Token, id))
			if err != nil {
				got[2*i] = err.Error()
				return
			}
			c.Close()
			got[2*i] = fmt.Sprint("twilsock ", h.Status.Code, " ", h.Status.ErrorCode)
		})
		wg.Go(func() {
			<-start
			dev := voiceListen(t, base, resign(t, voice.Token, id))
			defer dev.Close()
			var e voicesignal.ErrorPayload
			m := nextVoice(t, dev)
			m.PayloadInto(&e)
			got[2*i+1] = fmt.Sprint("voice ", m.Type, " ", e.Error.Code)
		})
	}
	close(start)
	wg.Wait()
	for i, g := range got {
		want := "twilsock 401 20101"
		if i%2 == 1 {
			want = "voice error 31204"
		}
		if g != want {
			t.Errorf("identity %q: %s, want %s", truncateForLog(identities[i/2]), g, want)
		}
	}
	// Refused for another reason too (expired), it is still not listed.
	past, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret},
		func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := past.Mint("alice", sdkGrant, time.Hour)
	if c, h, err := twilsockInit(t, base, resign(t, expired.Token, identities[0])); err != nil || h.Status.ErrorCode != twilsock.ErrorTokenExpired {
		t.Errorf("an expired token of such an identity: %v %+v, want 20104", err, h.Status)
	} else {
		c.Close()
	}
	if list := l.adminSessions(t).SDKConnections; len(list) != 0 {
		t.Errorf("GET /admin/sessions lists %d connections of such identities, the first %q", len(list), truncateForLog(list[0].Identity))
	}
}

func truncateForLog(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestSDKRefusalFloodKeepsOthersEnded: one identity's flood of refused
// connects, in parallel, does not push another identity's ended
// connection (why alice's SDK closed) out of the operator's listing or
// out of what alice's next tab is told.
func TestSDKRefusalFloodKeepsOthersEnded(t *testing.T) {
	t.Parallel()
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.sessionID(t)
	base := "ws" + strings.TrimPrefix(l.srv.URL, "http")
	tok, _ := l.minter.Mint("alice", sdkGrant, time.Hour)
	ws, h, err := twilsockInit(t, base, tok.Token)
	if err != nil || h.Status.Code != 200 {
		t.Fatalf("init: %v %+v", err, h.Status)
	}
	defer ws.Close()
	l.mustPost(t, "/admin/sessions/"+id+"/expire", nil, "")
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break // closed: 410, then the WebSocket close
		}
	}
	aliceEnded := func() bool {
		for _, c := range l.adminSessions(t).SDKConnections {
			if c.Identity == "alice" && c.Event == protocol.SDKExpired {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(5 * time.Second)
	for !aliceEnded() {
		if time.Now().After(deadline) {
			t.Fatal("alice's expired connection is not listed")
		}
	}

	past, _ := mint.New(mint.Credentials{AccountSID: accountSID, APIKeySID: apiKeySID, APIKeySecret: secret},
		func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _ := past.Mint("mallory", sdkGrant, time.Hour)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			<-start
			for range 25 {
				if c, _, err := twilsockInit(t, base, expired.Token); err == nil {
					c.Close()
				}
			}
		})
	}
	close(start)
	wg.Wait()

	list := l.adminSessions(t).SDKConnections
	mallory := 0
	for _, c := range list {
		if c.Identity == "mallory" {
			mallory++
		}
	}
	if !aliceEnded() {
		t.Errorf("after %d refusals of mallory's (%d listed), alice's expired connection is no longer listed", 200, mallory)
	}
	tab := l.mustDial(t, ck)
	expect(t, tab, protocol.TypeHello, 5*time.Second)
	m := read(t, tab, 5*time.Second)
	for m.Type != protocol.TypeSDK { // the session's own notices come first
		m = read(t, tab, 5*time.Second)
	}
	if m.Event != protocol.SDKExpired || m.Identity != "alice" {
		t.Errorf("alice's new tab was told %+v, want her expired SDK connection", m)
	}
}

// TestSDKPingFloodInParallel: a twilsock client and a Voice Device flood
// the server with WebSocket pings at once, which no SDK sends (a browser
// cannot): pings count against the frame rate as on /ws, so each is
// answered no more pongs than the burst allows and then closed.
func TestSDKPingFloodInParallel(t *testing.T) {
	t.Parallel()
	l := newLive(t, nil, nil)
	base := "ws" + strings.TrimPrefix(l.srv.URL, "http")
	tok, _ := l.minter.Mint("alice", sdkGrant, time.Hour)
	ws, h, err := twilsockInit(t, base, tok.Token)
	if err != nil || h.Status.Code != 200 {
		t.Fatalf("init: %v %+v", err, h.Status)
	}
	defer ws.Close()
	voice, _ := l.minter.Mint("alice", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}, time.Hour)
	dev := voiceListen(t, base, voice.Token)
	defer dev.Close()
	if m := nextVoice(t, dev); m.Type != voicesignal.TypeConnected {
		t.Fatalf("listen answered %s", m.Type)
	}

	const pings = 1000
	start := make(chan struct{})
	errs := make(chan error, 2)
	for _, c := range []*websocket.Conn{ws, dev} {
		go func() {
			n, err := floodPings(c, pings, start)
			if n > sdkconn.MessageBurst+sdkconn.MessageRate {
				errs <- fmt.Errorf("%s: %d pongs answered, more than the burst of %d (ended with %v)", c.RemoteAddr(), n, sdkconn.MessageBurst, err)
			} else if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				errs <- fmt.Errorf("the flood ended with %v, want the server's close", err)
			} else {
				errs <- nil
			}
		}()
	}
	close(start)
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
