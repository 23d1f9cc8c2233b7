package twilsock_test

import (
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// TestDocsFramesDecode decodes every frame shown in docs/twilsock.md, which
// were captured from the real SDK.
func TestDocsFramesDecode(t *testing.T) {
	doc, err := os.ReadFile("../../docs/twilsock.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```frame\n(.*?)\n```").FindAllSubmatch(doc, -1)
	if len(blocks) < 10 {
		t.Fatalf("docs/twilsock.md shows %d frames, want at least 10", len(blocks))
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		var s string
		if err := json.Unmarshal(b[1], &s); err != nil {
			t.Fatalf("frame %d is not a JSON string: %v", i, err)
		}
		f, err := twilsock.Decode([]byte(s))
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			continue
		}
		seen[f.Header.Method] = true
	}
	for _, m := range []string{"init", "reply", "client_update", "update", "message", "close"} {
		if !seen[m] {
			t.Errorf("docs/twilsock.md shows no %s frame", m)
		}
	}
}
