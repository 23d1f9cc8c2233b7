package twilsock_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// frame builds a frame by hand, so tests can make its parts lie.
func frame(length int, header, body string) []byte {
	return []byte(fmt.Sprintf("TWILSOCK V3.0 %d\r\n%s\r\n%s", length, header, body))
}

func TestDecode(t *testing.T) {
	okHeader := `{"method":"init","id":"TM1","token":"t","payload_size":0}`
	withBody := `{"method":"message","id":"TM2","payload_size":2,"payload_type":"application/json"}`
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		method  string
		body    string
	}{
		{"init", frame(len(okHeader), okHeader, ""), nil, "init", ""},
		{"message with body", frame(len(withBody), withBody, "{}"), nil, "message", "{}"},
		{"unknown field ignored", frame(len(`{"method":"reply","id":"x","payload_size":0,"new":1}`), `{"method":"reply","id":"x","payload_size":0,"new":1}`, ""), nil, "reply", ""},
		{"empty", nil, twilsock.ErrBadMagic, "", ""},
		{"bad magic", []byte("TWILSOCK V2.0 2\r\n{}\r\n"), twilsock.ErrBadMagic, "", ""},
		{"lowercase magic", []byte("twilsock V3.0 2\r\n{}\r\n"), twilsock.ErrBadMagic, "", ""},
		{"no length", []byte("TWILSOCK V3.0 \r\n{}\r\n"), twilsock.ErrBadLength, "", ""},
		{"negative length", []byte("TWILSOCK V3.0 -2\r\n{}\r\n"), twilsock.ErrBadLength, "", ""},
		{"length not a number", []byte("TWILSOCK V3.0 0x10\r\n{}\r\n"), twilsock.ErrBadLength, "", ""},
		{"length too many digits", []byte("TWILSOCK V3.0 000000000002\r\n{}\r\n"), twilsock.ErrBadLength, "", ""},
		{"no CRLF after length", []byte("TWILSOCK V3.0 2"), twilsock.ErrBadLength, "", ""},
		{"length longer than frame", frame(len(okHeader)+10, okHeader, ""), twilsock.ErrBadLength, "", ""},
		{"length shorter than header", frame(len(okHeader)-3, okHeader, ""), twilsock.ErrBadLength, "", ""},
		{"header over limit", frame(twilsock.MaxHeaderBytes+1, okHeader, ""), twilsock.ErrTooLarge, "", ""},
		{"frame over limit", frame(len(okHeader), okHeader, strings.Repeat("x", twilsock.MaxFrameBytes)), twilsock.ErrTooLarge, "", ""},
		{"header not JSON", frame(5, "hello", ""), twilsock.ErrBadHeader, "", ""},
		{"header a JSON array", frame(2, "[]", ""), twilsock.ErrBadHeader, "", ""},
		{"header truncated JSON", frame(9, `{"method"`, ""), twilsock.ErrBadHeader, "", ""},
		{"method wrong type", frame(14, `{"method":123}`, ""), twilsock.ErrBadHeader, "", ""},
		{"no method", frame(18, `{"payload_size":0}`, ""), twilsock.ErrUnknownMethod, "", ""},
		{"unknown method", frame(20, `{"method":"explode"}`, ""), twilsock.ErrUnknownMethod, "", ""},
		{"payload shorter than said", frame(len(withBody), withBody, "{"), twilsock.ErrBadPayload, "", ""},
		{"payload longer than said", frame(len(okHeader), okHeader, "extra"), twilsock.ErrBadPayload, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := twilsock.Decode(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if f.Header.Method != tt.method || string(f.Body) != tt.body {
				t.Errorf("Decode = method %q body %q, want %q %q", f.Header.Method, f.Body, tt.method, tt.body)
			}
		})
	}
}

// TestDecodeErrorsKeepTokensOut: an error about a frame quotes at most its
// first bytes, never the token in its header.
func TestDecodeErrorsKeepTokensOut(t *testing.T) {
	const secret = "eyJhbGciOiJIUzI1NiJ9.SECRETPART.sig"
	h := `{"method":"bogus-method-with-a-long-name","token":"` + secret + `","payload_size":0}`
	for _, in := range [][]byte{
		frame(len(h), h, ""),
		frame(len(h)+1, h, ""),
		frame(len(h), h, "trailing"),
		[]byte("XTWILSOCK " + secret),
	} {
		_, err := twilsock.Decode(in)
		if err == nil || strings.Contains(err.Error(), "SECRETPART") {
			t.Errorf("Decode(%q) error = %v: want an error without the token", in[:20], err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	h := twilsock.Reply("TM9", twilsock.StatusUnauthorized, "Unauthorized")
	h.Status.ErrorCode = twilsock.ErrorTokenExpired
	body := []byte(`{"message":"é"}`) // a multi-byte character: lengths are bytes
	b, err := twilsock.Encode(h, body)
	if err != nil {
		t.Fatal(err)
	}
	f, err := twilsock.Decode(b)
	if err != nil {
		t.Fatalf("Decode(Encode(…)): %v", err)
	}
	if f.Header.ID != "TM9" || f.Header.Status.ErrorCode != 20104 || !bytes.Equal(f.Body, body) || f.Header.PayloadSize != len(body) {
		t.Errorf("round trip = %+v %q", f.Header, f.Body)
	}
}
