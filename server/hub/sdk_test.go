package hub

import (
	"sync"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// TestSDKChangesReachTheIdentitysTabs: a change to an SDK connection goes
// to every tab of every session of its identity, and to no other.
func TestSDKChangesReachTheIdentitysTabs(t *testing.T) {
	f := newFixture(t, Options{})
	a1, a2 := newSession(600), newSession(600)
	b := newSession(600)
	b.Identity = "bob"
	f.signIn(t, a1)
	f.signIn(t, a2)
	f.signIn(t, b)
	tabs := []*Client{mustAttach(t, f.h, a1), mustAttach(t, f.h, a2), mustAttach(t, f.h, a1)}
	bob := mustAttach(t, f.h, b)
	for _, c := range append(tabs, bob) {
		expectType(t, c, protocol.TypeHello)
	}
	f.h.SDKChanged("alice", protocol.Message{Type: protocol.TypeSDK, SDKID: "S1", Product: "sync", Identity: "alice", Event: protocol.SDKConnected, State: protocol.SDKOpen})
	for i, c := range tabs {
		if m := expectType(t, c, protocol.TypeSDK); m.SDKID != "S1" || m.ServerTimeMS == 0 {
			t.Errorf("tab %d got %+v", i, m)
		}
	}
	if len(bob.Send()) != 0 {
		t.Error("bob's tab heard of alice's SDK connection")
	}
	// A session that ended leaves the index: nothing reaches it, nothing
	// panics.
	f.h.Revoke(a2.ID, "operator")
	f.h.SDKChanged("alice", protocol.Message{Type: protocol.TypeSDK, SDKID: "S1", Event: protocol.SDKWarned})
	expectType(t, tabs[0], protocol.TypeSDK)
	expectType(t, tabs[1], protocol.TypeRevoked)
	if len(tabs[1].Send()) != 0 {
		t.Error("a revoked session's tab heard of an SDK change")
	}
}

// TestSDKFloodKeepsTheTab: a burst of SDK changes from many goroutines at
// once, to a tab that reads nothing, never gets the tab dropped, and the
// session's own warning still finds room in its queue.
func TestSDKFloodKeepsTheTab(t *testing.T) {
	f := newFixture(t, Options{})
	s := newSession(600)
	f.signIn(t, s)
	tab := mustAttach(t, f.h, s)
	const senders, each = 16, 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for j := range each {
				f.h.SDKChanged("alice", protocol.Message{Type: protocol.TypeSDK, SDKID: "S" + string(rune('A'+i)), Event: []string{protocol.SDKConnected, protocol.SDKWarned}[j%2]})
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := f.h.Connections(); n != 1 {
		t.Fatalf("%d connections after the flood, want the tab kept", n)
	}
	if _, err := f.h.WarnNow(s.ID); err != nil {
		t.Fatal(err)
	}
	var types []string
	for len(tab.Send()) > 0 {
		m, _ := protocol.Decode(<-tab.Send())
		types = append(types, m.Type)
	}
	if len(types) == 0 || types[len(types)-1] != protocol.TypeExpiring {
		t.Errorf("the tab's queue ends with %v, want the session's expiring last", types)
	}
	select {
	case <-tab.Done():
		t.Error("the tab was dropped")
	default:
	}
}
