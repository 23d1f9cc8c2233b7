package sdkconn_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/twilsock"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// watched is a directory whose changes arrive on a channel.
func watched(tb testing.TB) (*sdkconn.Directory, chan protocol.Message) {
	tb.Helper()
	d := sdkconn.NewDirectory()
	ch := make(chan protocol.Message, 64)
	d.Watch(func(identity string, m protocol.Message) {
		if identity != m.Identity {
			tb.Errorf("change for %q carries identity %q", identity, m.Identity)
		}
		ch <- m
	})
	return d, ch
}

// wantChange waits for the next change and checks its event and state.
func wantChange(tb testing.TB, ch chan protocol.Message, event, state string) protocol.Message {
	tb.Helper()
	select {
	case m := <-ch:
		if m.Type != protocol.TypeSDK || m.Event != event || m.State != state {
			tb.Fatalf("change %+v, want event %q state %q", m, event, state)
		}
		return m
	case <-time.After(5 * time.Second):
		tb.Fatalf("no change within 5 s, want event %q", event)
	}
	return protocol.Message{}
}

// TestDirectoryFollowsTwilsock: each step of a twilsock connection's
// token lifecycle shows as its last event, through the real endpoint.
func TestDirectoryFollowsTwilsock(t *testing.T) {
	m := mustMinter(t, creds, nil)
	d, ch := watched(t)
	e, url := mustServer(t, sdkconn.Options{Minter: m, Lead: time.Minute, Directory: d})
	c := dial(t, url)
	c.send(twilsock.Header{Method: twilsock.MethodInit, ID: "TMinit", Token: syncToken(t, m, "alice", time.Hour),
		Metadata: json.RawMessage(`{"type":"sync","sdk":"JS"}`)}, nil)
	wantStatus(t, c.next(5*time.Second), twilsock.MethodReply, 200, 0)
	first := wantChange(t, ch, protocol.SDKConnected, protocol.SDKOpen)
	if first.Product != sdkconn.ProductSync || first.SDKID == "" || first.Exp == 0 {
		t.Errorf("connected %+v, want product sync, an id and exp", first)
	}

	if n := e.Lab("alice", sdkconn.FaultWarn, 0); n != 1 {
		t.Fatalf("lab warn reached %d connections", n)
	}
	c.next(5 * time.Second) // client_update
	wantChange(t, ch, protocol.SDKWarned, protocol.SDKOpen)

	c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup1", Token: syncToken(t, m, "mallory", time.Hour)}, nil)
	c.next(5 * time.Second)
	if r := wantChange(t, ch, protocol.SDKRefused, protocol.SDKOpen); r.ErrorCode != twilsock.ErrorTokenInvalid {
		t.Errorf("refused update %+v, want error code %d", r, twilsock.ErrorTokenInvalid)
	}
	c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup2", Token: syncToken(t, m, "alice", 2*time.Hour)}, nil)
	c.next(5 * time.Second)
	if u := wantChange(t, ch, protocol.SDKUpdated, protocol.SDKOpen); u.Exp <= first.Exp || u.ErrorCode != 0 {
		t.Errorf("updated %+v, want the new exp (after %d) and no error code", u, first.Exp)
	}

	e.Lab("alice", sdkconn.FaultExpire, 0)
	wantChange(t, ch, protocol.SDKExpired, protocol.SDKOpen)
	// The expiry stays the last event of the closed connection: it is why
	// it closed.
	wantChange(t, ch, protocol.SDKExpired, protocol.SDKClosed)
	list := d.All()
	if len(list) != 1 || list[0].Event != protocol.SDKExpired || list[0].State != protocol.SDKClosed || list[0].Identity != "alice" {
		t.Errorf("All() = %+v, want alice's one connection, expired and closed", list)
	}
}

// TestDirectoryTrustsSignedIdentitiesOnly: a refused token shows for its
// identity only when tokenlab's signature proves that identity; anyone can
// write "alice" into a token they sign with another key.
func TestDirectoryTrustsSignedIdentitiesOnly(t *testing.T) {
	m := mustMinter(t, creds, nil)
	other := creds
	other.APIKeySecret = "an-attackers-secret"
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	d, ch := watched(t)
	_, url := mustServer(t, sdkconn.Options{Minter: m, Directory: d})

	forged := dial(t, url)
	forged.init(syncToken(t, mustMinter(t, other, nil), "alice", time.Hour))
	expired := dial(t, url)
	wantStatus(t, expired.init(syncToken(t, mustMinter(t, creds, past), "alice", time.Minute)), twilsock.MethodReply, 401, twilsock.ErrorTokenExpired)
	// The expired token's refusal is the first change: the forged one,
	// answered before it, left none.
	r := wantChange(t, ch, protocol.SDKRefused, protocol.SDKClosed)
	if r.ErrorCode != twilsock.ErrorTokenExpired || r.Identity != "alice" {
		t.Errorf("refusal %+v, want alice's 20104", r)
	}
	for _, s := range d.All() {
		if s.ErrorCode != twilsock.ErrorTokenExpired {
			t.Errorf("listed %+v: only the expired token's refusal may show", s)
		}
	}
}

// TestDirectoryFollowsVoice: a Device's listen, the lab's warn, its
// expiry (the stream stays open), an update and its end.
func TestDirectoryFollowsVoice(t *testing.T) {
	m := mustMinter(t, creds, nil)
	d, ch := watched(t)
	e, _, url := mustVoiceServer(t, sdkconn.Options{Minter: m, Directory: d})
	dev := dialVoice(t, url)
	dev.listen(voiceToken(t, m, "alice", time.Hour))
	dev.connected()
	if c := wantChange(t, ch, protocol.SDKConnected, protocol.SDKOpen); c.Product != sdkconn.ProductVoice {
		t.Errorf("connected %+v, want product voice", c)
	}
	e.Lab("alice", sdkconn.FaultWarn, 0)
	dev.connected()
	wantChange(t, ch, protocol.SDKWarned, protocol.SDKOpen)
	e.Lab("alice", sdkconn.FaultExpire, 0)
	dev.wantError(voicesignal.CodeTokenExpired)
	dev.want(voicesignal.TypeOffline)
	wantChange(t, ch, protocol.SDKExpired, protocol.SDKOpen)
	dev.listen(voiceToken(t, m, "alice", time.Hour))
	dev.connected()
	wantChange(t, ch, protocol.SDKUpdated, protocol.SDKOpen)
	dev.ws.Close()
	wantChange(t, ch, protocol.SDKEnded, protocol.SDKClosed)
}

// TestDirectoryBounds: closed connections are forgotten past MaxEnded and
// past MaxEndedPerIdentity for one identity, a new tab is told of
// MaxReplay at most, and nothing holds a token.
func TestDirectoryBounds(t *testing.T) {
	m := mustMinter(t, creds, nil)
	d, ch := watched(t)
	_, url := mustServer(t, sdkconn.Options{Minter: m, Directory: d, MaxConnsPerIdentity: 1})
	var tokens []string
	for i := range sdkconn.MaxEnded + 5 {
		tok := syncToken(t, m, fmt.Sprintf("user%d", i%(sdkconn.MaxEnded/sdkconn.MaxEndedPerIdentity)), time.Hour)
		tokens = append(tokens, tok)
		c := dial(t, url)
		c.init(tok)
		wantChange(t, ch, protocol.SDKConnected, protocol.SDKOpen)
		c.ws.Close()
		wantChange(t, ch, protocol.SDKEnded, protocol.SDKClosed)
	}
	list := d.All()
	if len(list) != sdkconn.MaxEnded {
		t.Errorf("%d connections listed, want the last %d", len(list), sdkconn.MaxEnded)
	}
	perIdentity := make(map[string]int)
	for _, s := range list {
		if perIdentity[s.Identity]++; perIdentity[s.Identity] > sdkconn.MaxEndedPerIdentity {
			t.Errorf("more than %d ended connections of %s listed", sdkconn.MaxEndedPerIdentity, s.Identity)
		}
	}
	b, _ := json.Marshal(list)
	for _, tok := range tokens {
		if strings.Contains(string(b), strings.Split(tok, ".")[2]) {
			t.Fatal("the list holds a token")
		}
	}
	var replayed []protocol.Message
	d.Replay("user0", func(m protocol.Message) { replayed = append(replayed, m) })
	if len(replayed) != sdkconn.MaxReplay {
		t.Errorf("replayed %d connections, want %d", len(replayed), sdkconn.MaxReplay)
	}
	for i := 1; i < len(replayed); i++ {
		if replayed[i].EventMS < replayed[i-1].EventMS {
			t.Errorf("replay out of order: %+v before %+v", replayed[i-1], replayed[i])
		}
	}
}

// TestDirectoryUnderParallelConnections: connections of several identities
// open, update and close at once from many goroutines while operators list
// and tabs replay; every one ends listed once, closed, and the watcher
// heard each change (run with -race).
func TestDirectoryUnderParallelConnections(t *testing.T) {
	const clients = 24
	m := mustMinter(t, creds, nil)
	d := sdkconn.NewDirectory()
	var mu sync.Mutex
	heard := map[string][]string{}
	closed := make(chan struct{}, clients)
	d.Watch(func(_ string, msg protocol.Message) {
		mu.Lock()
		heard[msg.SDKID] = append(heard[msg.SDKID], msg.Event+"/"+msg.State)
		mu.Unlock()
		if msg.State == protocol.SDKClosed {
			closed <- struct{}{}
		}
	})
	_, url := mustServer(t, sdkconn.Options{Minter: m, Directory: d})
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		identity := fmt.Sprintf("p%d", i%4)
		first, next := syncToken(t, m, identity, time.Hour), syncToken(t, m, identity, 2*time.Hour)
		c := dial(t, url)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c.init(first)
			c.send(twilsock.Header{Method: twilsock.MethodUpdate, ID: "TMup", Token: next}, nil)
			c.next(5 * time.Second)
			c.ws.Close()
		}()
	}
	stop := make(chan struct{})
	readers := make(chan struct{})
	go func() {
		defer close(readers)
		for {
			select {
			case <-stop:
				return
			default:
				d.All()
				d.Replay("p0", func(protocol.Message) {})
			}
		}
	}()
	close(start)
	wg.Wait()
	timeout := time.After(5 * time.Second)
	for range clients {
		select {
		case <-closed:
		case <-timeout:
			t.Fatal("not every connection was heard closing within 5 s")
		}
	}
	n := 0
	for _, s := range d.All() {
		if s.State == protocol.SDKClosed {
			n++
		}
	}
	if n != clients {
		t.Errorf("%d connections listed as closed, want %d", n, clients)
	}
	close(stop)
	<-readers
	mu.Lock()
	defer mu.Unlock()
	if len(heard) != clients {
		t.Errorf("the watcher heard of %d connections, want %d", len(heard), clients)
	}
	for id, events := range heard {
		if got := strings.Join(events, " "); got != "connected/open updated/open closed/closed" {
			t.Errorf("%s: heard %q, want connected, updated, closed", id, got)
		}
	}
}
