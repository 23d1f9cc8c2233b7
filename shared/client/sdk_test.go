package client_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokenlab/tokenlab/shared/client"
	"github.com/tokenlab/tokenlab/shared/protocol"
)

// TestSDKConnections: the client keeps the identity's SDK connections as
// the server describes them, one entry per connection, bounded, and
// starts again from the server's list on every hello.
func TestSDKConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := start(t, newServer(t, 10*time.Minute), rand.Float64)
		defer r.end()
		sdk := func(id, event, state string) {
			r.srv.push(protocol.Message{Type: protocol.TypeSDK, SDKID: id, Product: "sync", Identity: "alice",
				Event: event, State: state, EventMS: time.Now().UnixMilli()})
		}
		sdk("S1", protocol.SDKConnected, protocol.SDKOpen)
		sdk("S2", protocol.SDKConnected, protocol.SDKOpen)
		sdk("S1", protocol.SDKWarned, protocol.SDKOpen)
		synctest.Wait()
		got := r.c.Snapshot().SDK
		if len(got) != 2 || got[0].ID != "S1" || got[0].Event != protocol.SDKWarned || got[1].ID != "S2" {
			t.Fatalf("SDK %+v, want S1 warned and S2 connected", got)
		}
		if notes := r.rec.of(client.NoteSDK); len(notes) != 3 || notes[2].SDK.Event != protocol.SDKWarned {
			t.Errorf("notes %+v, want one per message", notes)
		}

		// Past the bound, the closed connection goes first (S2, though
		// newer than S1), then the oldest.
		sdk("S2", protocol.SDKExpired, protocol.SDKClosed)
		for i := 3; i <= 18; i++ {
			sdk("S"+strconv.Itoa(i), protocol.SDKConnected, protocol.SDKOpen)
		}
		synctest.Wait()
		got = r.c.Snapshot().SDK
		if len(got) != 16 || got[0].ID != "S3" || got[15].ID != "S18" {
			t.Fatalf("kept %+v, want S3 to S18: the closed S2 first out, then the oldest, S1", got)
		}

		// A new socket's hello starts the list again.
		r.srv.drop(1006)
		sleep(time.Minute)
		if s := r.c.Snapshot(); !s.Connected || len(s.SDK) != 0 {
			t.Errorf("after a reconnect: connected %v, SDK %+v, want the list cleared", s.Connected, s.SDK)
		}
	})
}
