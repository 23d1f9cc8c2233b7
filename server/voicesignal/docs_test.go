package voicesignal_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// TestDocsMessagesDecode decodes every message shown in docs/voice.md,
// which were captured from the real SDK talking to tokenlab.
func TestDocsMessagesDecode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/voice.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```message\n(.*?)\n```").FindAllSubmatch(doc, -1)
	if len(blocks) < 10 {
		t.Fatalf("docs/voice.md shows %d messages, want at least 10", len(blocks))
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		m, err := voicesignal.Decode(b[1])
		if err != nil {
			t.Errorf("message %d: %v", i, err)
			continue
		}
		seen[m.Type] = true
		switch m.Type {
		case voicesignal.TypeListen:
			var l voicesignal.Listen
			if err := m.PayloadInto(&l); err != nil || l.Token == "" {
				t.Errorf("message %d: listen without a token (%v)", i, err)
			}
		case voicesignal.TypeConnected:
			var c voicesignal.Connected
			if err := m.PayloadInto(&c); err != nil || c.Token == nil || c.Token.TTL <= 0 {
				t.Errorf("message %d: connected without a token ttl (%v)", i, err)
			}
		case voicesignal.TypeError:
			var e voicesignal.ErrorPayload
			if err := m.PayloadInto(&e); err != nil || e.Error.Code == 0 || e.Error.Message == "" {
				t.Errorf("message %d: error without a code and message (%v)", i, err)
			}
		}
	}
	for _, typ := range []string{"listen", "connected", "register", "ready", "error", "offline", "close", "invite", "hangup"} {
		if !seen[typ] {
			t.Errorf("docs/voice.md shows no %s message", typ)
		}
	}
}
