package twilsock_test

import (
	"bytes"
	"testing"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// FuzzDecode: Decode never panics, and a frame it accepts encodes back to
// one that decodes to the same header and body.
func FuzzDecode(f *testing.F) {
	h := `{"method":"init","id":"TM1","token":"t","payload_size":0}`
	f.Add(frame(len(h), h, ""))
	f.Add(frame(2, "{}", ""))
	f.Add([]byte("TWILSOCK V3.0 99999\r\n"))
	f.Add(frame(len(`{"method":"message","payload_size":2}`), `{"method":"message","payload_size":2}`, "{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := twilsock.Decode(data)
		if err != nil {
			return
		}
		b, err := twilsock.Encode(fr.Header, fr.Body)
		if err != nil {
			t.Fatalf("Encode of a decoded frame: %v", err)
		}
		again, err := twilsock.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(x))): %v", err)
		}
		if again.Header.Method != fr.Header.Method || again.Header.ID != fr.Header.ID || !bytes.Equal(again.Body, fr.Body) {
			t.Fatalf("round trip changed the frame: %+v → %+v", fr.Header, again.Header)
		}
	})
}
