package hub

import (
	"context"
	"testing"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// FuzzHandleFrame feeds arbitrary text frames to the server's handling of
// a client message, on an attached connection of a signed-in session:
// each frame gets exactly one answer, a message the protocol accepts, of
// the kind the frame asked for (pong for ping, token for renew, error
// bad_message for anything else), and the connection stays attached.
func FuzzHandleFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"ping","id":"p1"}`,
		`{"type":"renew","id":"r1"}`,
		`{"type":"renew"}`,
		`{"type":"hello","server_time_ms":1}`,
		`{"type":"token","token":"a.b.c"}`,
		`{"TYPE":"ping"}`,
		`{"type":"ping","Type":"renew"}`,
		`{"type":"ping","id":"\ud800"}`,
		"{\"type\":\"ping\",\"id\":\"\xff\"}",
		`{"type":"ping"}}`,
		`{"type":"ping","id":{}}`,
		`not json`,
		``,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f, Options{})
	s := newSession(600)
	fx.signIn(f, s)
	c := mustAttach(f, fx.h, s)
	<-c.Send() // hello
	f.Fuzz(func(t *testing.T, data []byte) {
		fx.h.Handle(context.Background(), c, data)
		var answers [][]byte
		for len(c.Send()) > 0 {
			answers = append(answers, <-c.Send())
		}
		if len(answers) != 1 {
			t.Fatalf("%d answers to %q, want 1", len(answers), data)
		}
		got, err := protocol.Decode(answers[0])
		if err != nil {
			t.Fatalf("the server answered %s, which the protocol refuses: %v", answers[0], err)
		}
		want := protocol.TypeError
		if m, err := protocol.Decode(data); err == nil {
			switch m.Type {
			case protocol.TypePing:
				want = protocol.TypePong
			case protocol.TypeRenew:
				want = protocol.TypeToken
			}
			if got.ID != m.ID {
				t.Fatalf("answer id %q to request id %q", got.ID, m.ID)
			}
		}
		if got.Type != want || want == protocol.TypeError && got.Code != protocol.ErrCodeBadMessage {
			t.Fatalf("answer %s to %q, want a %s", answers[0], data, want)
		}
		select {
		case <-c.Done():
			t.Fatalf("the connection was closed after %q", data)
		default:
		}
	})
}
