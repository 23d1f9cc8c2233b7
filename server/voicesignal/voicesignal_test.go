package voicesignal_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

func TestDecodeRefuses(t *testing.T) {
	secret := "eyJhbGciOiJIUzI1NiJ9.secret-token-body.sig"
	tests := []struct {
		name string
		data string
		want error
	}{
		{"empty", "", voicesignal.ErrNotJSON},
		{"heartbeat is not a message", "\n", voicesignal.ErrNotJSON},
		{"array", `[{"type":"listen"}]`, voicesignal.ErrNotJSON},
		{"broken JSON", `{"type":"listen",`, voicesignal.ErrNotJSON},
		{"no type", `{"payload":{}}`, voicesignal.ErrUnknownType},
		{"unknown type", `{"type":"subscribe"}`, voicesignal.ErrUnknownType},
		{"type is a number", `{"type":7}`, voicesignal.ErrNotJSON},
		{"payload is a string", `{"type":"listen","payload":"` + secret + `"}`, voicesignal.ErrBadPayload},
		{"too large", `{"type":"listen","payload":{"token":"` + strings.Repeat("a", voicesignal.MaxMessageBytes) + `"}}`, voicesignal.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := voicesignal.Decode([]byte(tt.data))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode: %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret-token-body") {
				t.Errorf("the error repeats the message's token: %v", err)
			}
		})
	}
}

func TestPayloadIntoRefusesWrongShapes(t *testing.T) {
	m, err := voicesignal.Decode([]byte(`{"type":"listen","payload":{"token":42}}`))
	if err != nil {
		t.Fatal(err)
	}
	var l voicesignal.Listen
	if err := m.PayloadInto(&l); !errors.Is(err, voicesignal.ErrBadPayload) {
		t.Fatalf("PayloadInto: %v, want ErrBadPayload", err)
	}
}

func TestIsHeartbeat(t *testing.T) {
	for in, want := range map[string]bool{"\n": true, "\n\n": false, "": false, " \n": false} {
		if got := voicesignal.IsHeartbeat([]byte(in)); got != want {
			t.Errorf("IsHeartbeat(%q) = %v, want %v", in, got, want)
		}
	}
}
