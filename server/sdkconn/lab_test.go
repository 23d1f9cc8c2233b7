package sdkconn_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// TestLabReachesTwilsock: the lab's faults for alice reach her twilsock
// connections, and only hers: warn now is tokenAboutToExpire, expire now
// the 410 close, drop the chosen close code or a cut.
func TestLabReachesTwilsock(t *testing.T) {
	m := mustMinter(t, creds, nil)
	e, url := mustServer(t, sdkconn.Options{Minter: m, Lead: time.Minute})
	alice, bob := dial(t, url), dial(t, url)
	wantStatus(t, alice.init(syncToken(t, m, "alice", time.Hour)), twilsock.MethodReply, 200, 0)
	wantStatus(t, bob.init(syncToken(t, m, "bob", time.Hour)), twilsock.MethodReply, 200, 0)

	if n := e.Lab("alice", sdkconn.FaultWarn, 0); n != 1 {
		t.Fatalf("warn reached %d connections, want alice's 1", n)
	}
	if f := alice.next(5 * time.Second); f.Header.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire {
		t.Fatalf("after warn now: %+v", f.Header)
	}
	e.Lab("alice", sdkconn.FaultExpire, 0)
	wantStatus(t, alice.next(5*time.Second), twilsock.MethodClose, twilsock.StatusTokenExpired, 0)
	if err := alice.closed(5 * time.Second); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after expire now: %v", err)
	}

	for _, code := range []int{4002, 1006} {
		a := dial(t, url)
		wantStatus(t, a.init(syncToken(t, m, "alice", time.Hour)), twilsock.MethodReply, 200, 0)
		if n := e.Lab("alice", sdkconn.FaultDrop, code); n != 1 {
			t.Fatalf("drop reached %d connections, want 1", n)
		}
		var ce *websocket.CloseError
		if err := a.closed(5 * time.Second); !errors.As(err, &ce) || ce.Code != code {
			t.Errorf("drop %d: the connection ended with %v", code, err)
		}
	}
	// Bob heard nothing and is still served.
	bob.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup", Token: syncToken(t, m, "bob", time.Hour)}, nil)
	if f := bob.next(5 * time.Second); f.Header.ID != "TMup" {
		t.Errorf("bob's next frame %+v, want the answer to his update", f.Header)
	}
	if n := e.Lab("nobody", sdkconn.FaultExpire, 0); n != 0 {
		t.Errorf("a fault for an identity without connections reached %d", n)
	}
}

// TestLabReachesVoice: expire now (and revoke) tell alice's Device its
// token expired (31205, offline); an update brings it back.
func TestLabReachesVoice(t *testing.T) {
	m := mustMinter(t, creds, nil)
	e, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m})
	d := dialVoice(t, url)
	d.listen(voiceToken(t, m, "alice", time.Hour))
	d.connected()
	for _, f := range []sdkconn.Fault{sdkconn.FaultExpire, sdkconn.FaultRevoke} {
		if n := e.Lab("alice", f, 0); n != 1 {
			t.Fatalf("fault %d reached %d Devices, want 1", f, n)
		}
		d.wantError(voicesignal.CodeTokenExpired)
		d.want(voicesignal.TypeOffline)
		d.listen(voiceToken(t, m, "alice", time.Hour))
		d.connected()
	}
}
