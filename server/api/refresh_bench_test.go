package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/session"
)

// BenchmarkRefresh is POST /token/refresh through the whole handler, as
// make bench's figure 2 drives it over HTTP but without the network: the
// CPU and allocations the server spends per renewal. "mint" turns the
// hub's coalescing off so that every request mints; "coalesced" is one
// session asking again and again, answered with its current token.
func BenchmarkRefresh(b *testing.B) {
	for _, tc := range []struct {
		name     string
		window   time.Duration
		sessions int
	}{{"mint", -1, 256}, {"coalesced", 0, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			handler := newStack(b, fixture{
				log:    slog.New(slog.NewTextHandler(io.Discard, nil)), // formatted as in bin/tokenlab, then dropped
				config: func(c *config.Config) { c.WarnLead, c.CoalesceWindow = time.Minute, tc.window },
			}).handler

			cookies := make([]string, tc.sessions)
			for i := range cookies {
				req := httptest.NewRequest("POST", "/token", strings.NewReader(`{"username":"alice","password":"pw"}`))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				for _, c := range rec.Result().Cookies() {
					if c.Name == session.CookieName {
						cookies[i] = c.Name + "=" + c.Value
					}
				}
				if cookies[i] == "" {
					b.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				req := httptest.NewRequest("POST", "/token/refresh", nil)
				req.Header.Set("Cookie", cookies[i%len(cookies)])
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("refresh: %d %s", rec.Code, rec.Body)
				}
				i++
			}
		})
	}
}
