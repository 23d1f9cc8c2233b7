package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// TestSessionsShowSDKConnections: a Twilio SDK connection whose token is
// for a session's identity shows in that session's tab (pushed over /ws),
// in `tokenlab sessions` and in GET /admin/sessions, with its product,
// token expiry and last event as the lab and the SDK move it on. A token
// signed with another key names no one: it shows nowhere.
func TestSessionsShowSDKConnections(t *testing.T) {
	const adminToken = "admin-token-for-the-sdk-test"
	env := realEnv("TOKENLAB_ADMIN_TOKEN", adminToken)
	base, _ := serveCtl(t, env, "0")
	ck := signInCookie(t, base) // alice
	id := labSessionID(t, env, base)
	cli := func(args ...string) string {
		t.Helper()
		r := runCLI(t, env, "", append([]string{"sessions", "--server", base}, args...)...)
		if r.err != nil {
			t.Fatalf("sessions %v: %v", args, r.err)
		}
		return r.stdout
	}
	tab, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws",
		http.Header{"Cookie": {ck.Name + "=" + ck.Value}, "Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if m := readMsg(t, tab); m.Type != protocol.TypeHello {
		t.Fatalf("first message %+v", m)
	}
	// nextSDK skips the session's own notices.
	nextSDK := func() protocol.Message {
		t.Helper()
		for {
			if m := readMsg(t, tab); m.Type == protocol.TypeSDK {
				return m
			}
		}
	}
	minter, err := mint.New(mint.Credentials{AccountSID: testAccount, APIKeySID: testKey, APIKeySecret: testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	syncGrant := token.Grants{Sync: &token.SyncGrant{ServiceSID: "IS" + strings.Repeat("d", 32)}}
	var minted []string
	tokenFor := func(m *mint.Minter, identity string) string {
		t.Helper()
		tok, err := m.Mint(identity, syncGrant, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		minted = append(minted, tok.Token)
		return tok.Token
	}
	sdkURL := "ws" + strings.TrimPrefix(base, "http") + "/v3/wsconnect"
	dialSDK := func() *websocket.Conn {
		t.Helper()
		ws, _, err := websocket.DefaultDialer.Dial(sdkURL, http.Header{"Origin": {"http://app.example"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.Close() })
		return ws
	}
	send := func(ws *websocket.Conn, h twilsock.Header) {
		t.Helper()
		b, _ := twilsock.Encode(h, nil)
		if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	next := func(ws *websocket.Conn) twilsock.Frame {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		f, err := twilsock.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	// A forged token for alice, then an expired one of hers: only the
	// second is hers, and reaches her tab.
	other, _ := mint.New(mint.Credentials{AccountSID: testAccount, APIKeySID: testKey, APIKeySecret: "someone-elses-secret"}, nil)
	forged := dialSDK()
	send(forged, twilsock.Header{Method: twilsock.MethodInit, ID: "TM1", Token: tokenFor(other, "alice")})
	if f := next(forged); f.Header.Status == nil || f.Header.Status.Code != 401 {
		t.Fatalf("forged token answered %+v", f.Header)
	}
	past, _ := mint.New(mint.Credentials{AccountSID: testAccount, APIKeySID: testKey, APIKeySecret: testSecret},
		func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired := dialSDK()
	send(expired, twilsock.Header{Method: twilsock.MethodInit, ID: "TM1", Token: tokenFor(past, "alice")})
	next(expired)
	if m := nextSDK(); m.Event != protocol.SDKRefused || m.ErrorCode != twilsock.ErrorTokenExpired || m.State != protocol.SDKClosed {
		t.Errorf("the tab heard %+v, want the expired token's refusal (20104), closed", m)
	}

	sdk := dialSDK()
	send(sdk, twilsock.Header{Method: twilsock.MethodInit, ID: "TM1", Token: tokenFor(minter, "alice"),
		Metadata: json.RawMessage(`{"type":"sync","sdk":"JS","sdkv":"4.0.1"}`)})
	next(sdk)
	connected := nextSDK()
	if connected.Event != protocol.SDKConnected || connected.Product != "sync" || connected.Identity != "alice" || connected.Exp == 0 {
		t.Fatalf("the tab heard %+v, want alice's sync connection", connected)
	}
	row := regexp.MustCompile(`(?m)^` + connected.SDKID + `\s+alice\s+sync\s+open\s+` + regexp.QuoteMeta(token.Stamp(connected.Exp)) + `\s+connected\s+\S+\s+` + id + `$`)
	if out := cli("list"); !row.MatchString(out) || !strings.Contains(out, "refused 20104") {
		t.Errorf("sessions list does not show the SDK connections:\n%s", out)
	}

	cli("warn", id)
	if f := next(sdk); f.Header.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire {
		t.Errorf("after sessions warn the SDK got %+v", f.Header)
	}
	if m := nextSDK(); m.SDKID != connected.SDKID || m.Event != protocol.SDKWarned {
		t.Errorf("after sessions warn the tab heard %+v", m)
	}
	send(sdk, twilsock.Header{Method: twilsock.MethodUpdate, ID: "TM2", Token: tokenFor(minter, "bob")})
	next(sdk)
	if m := nextSDK(); m.Event != protocol.SDKRefused || m.ErrorCode != twilsock.ErrorTokenInvalid || m.State != protocol.SDKOpen {
		t.Errorf("after an update for bob the tab heard %+v", m)
	}
	cli("expire", id)
	if f := next(sdk); f.Header.Status == nil || f.Header.Status.Code != twilsock.StatusTokenExpired {
		t.Errorf("after sessions expire the SDK got %+v", f.Header)
	}
	for _, state := range []string{protocol.SDKOpen, protocol.SDKClosed} {
		if m := nextSDK(); m.Event != protocol.SDKExpired || m.State != state {
			t.Errorf("after sessions expire the tab heard %+v, want expired, %s", m, state)
		}
	}

	req, _ := http.NewRequest("GET", base+"/admin/sessions", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range minted {
		if strings.Contains(string(body), strings.Split(tok, ".")[2]) {
			t.Fatal("GET /admin/sessions shows an SDK connection's token")
		}
	}
	var list api.SessionsResponse
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, c := range list.SDKConnections {
		if c.Identity != "alice" {
			t.Errorf("listed %+v: no connection of another identity was accepted", c)
		}
		events = append(events, c.Event+"/"+c.State)
	}
	if strings.Join(events, " ") != "refused/closed expired/closed" {
		t.Errorf("GET /admin/sessions lists %v, want the refusal and the expired connection, both closed", events)
	}
}
