package voicesignal_test

import (
	"testing"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// FuzzDecode: Decode never panics, a message it accepts has a known type
// and a payload that is an object (or none), and it encodes back to one
// that decodes to the same type.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"payload":{"token":"t","reconnectTimeout":0},"type":"listen","version":"1.6"}`))
	f.Add([]byte(`{"type":"register","payload":{"media":{"audio":true}}}`))
	f.Add([]byte(`{"type":"invite","payload":{"callsid":"c","sdp":"v=0"}}`))
	f.Add([]byte("\n"))
	f.Add([]byte(`{"type":"listen","payload":[1]}`))
	f.Add([]byte(`{"type":"\u0000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := voicesignal.Decode(data)
		if err != nil {
			return
		}
		var l voicesignal.Listen
		var c voicesignal.Call
		m.PayloadInto(&l) // must not panic, whatever the type
		m.PayloadInto(&c)
		var payload any
		if len(m.Payload) > 0 {
			payload = m.Payload
		}
		b, err := voicesignal.Encode(m.Type, payload)
		if err != nil {
			t.Fatalf("Encode of a decoded message: %v", err)
		}
		again, err := voicesignal.Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(x))): %v", err)
		}
		if again.Type != m.Type {
			t.Fatalf("round trip changed the type: %q → %q", m.Type, again.Type)
		}
	})
}
