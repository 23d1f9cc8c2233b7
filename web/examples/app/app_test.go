package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/web/examples/app"
)

// The page names the tokenlab it is given, everywhere it names tokenlab,
// and serves its scripts as JavaScript (module scripts need the type).
func TestHandlerPointsThePageAtTokenlab(t *testing.T) {
	srv := httptest.NewServer(app.Handler("http://localhost:18080"))
	defer srv.Close()
	tests := []struct {
		name, path string
		status     int
		typ, has   string
	}{
		{"page", "/", http.StatusOK, "text/html", `<script src="http://localhost:18080/embed.js"></script>`},
		{"app", "/app.js", http.StatusOK, "text/javascript", "tokenlab.embed("},
		{"stand-in", "/standin-client.js", http.StatusOK, "text/javascript", "export class StandInClient"},
		{"nothing else", "/app.go", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.status)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.typ) {
				t.Errorf("GET %s: Content-Type %q, want %s", tt.path, resp.Header.Get("Content-Type"), tt.typ)
			}
			if !strings.Contains(string(body), tt.has) {
				t.Errorf("GET %s lacks %q", tt.path, tt.has)
			}
			if strings.Contains(string(body), app.DefaultTokenlab) {
				t.Errorf("GET %s still names %s", tt.path, app.DefaultTokenlab)
			}
		})
	}
}
