package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/users"
)

// TestRouterAgreesWithTheMux: for every request the table answers, the
// mux chooses the same route, over the server's own routes and awkward
// paths (unclean, escaped, trailing slash, other case, HEAD).
func TestRouterAgreesWithTheMux(t *testing.T) {
	minter, err := mint.New(mint.Credentials{AccountSID: "AC" + strings.Repeat("0", 32), APIKeySID: "SK" + strings.Repeat("0", 32), APIKeySecret: "router test secret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	d := withSessionDefaults(Deps{Logger: slog.New(slog.DiscardHandler), Minter: minter, Users: users.OpenDemo{}, Now: time.Now, Web: nop})
	t.Cleanup(d.Hub.Shutdown)
	rt := newRouter()
	addRoutes(rt, d)
	if len(rt.exact["POST"]) == 0 || rt.exact["POST"]["/token/refresh"].pattern != "POST /token/refresh" {
		t.Fatalf("the table lacks POST /token/refresh: %v", rt.exact)
	}
	if _, ok := rt.exact["POST"]["/admin/sessions/{id}/revoke"]; ok {
		t.Fatal("a wildcard pattern is in the table")
	}
	if _, ok := rt.exact["GET"]["/"]; ok {
		t.Fatal("the page's catch-all is in the table")
	}
	served := 0
	for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT"} {
		for _, target := range []string{
			"/token", "/token/refresh", "/token/refresh/", "/token//refresh", "/token/../token/refresh",
			"/TOKEN/refresh", "/token/refresh%2F", "/token%2Frefresh", "/tok%65n/refresh", "/healthz", "/ws",
			"/", "/index.html", "/admin/sessions", "/admin/sessions/abc/revoke", "/logout", "/token/verify",
		} {
			r := httptest.NewRequest(method, target, nil)
			got, ok := rt.lookup(r)
			if !ok {
				continue
			}
			served++
			if _, want := rt.mux.Handler(r); got.pattern != want {
				t.Errorf("%s %s: the table says %q, the mux %q", method, target, got.pattern, want)
			}
		}
	}
	if served < 6 {
		t.Errorf("the table answered only %d requests", served)
	}
}
