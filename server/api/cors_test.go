package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/config"
)

const appOrigin = "http://localhost:3000"

func corsHandler(tb testing.TB) http.Handler {
	return newStack(tb, fixture{now: at(t0), config: func(c *config.Config) { c.AllowedOrigins = []string{appOrigin} }}).handler
}

// TestCORSForAllowedOrigins checks the CORS answers a page at an allowed
// origin gets: preflights and real answers on the token routes carry the
// headers, exactly for that origin and with credentials; other origins
// and other routes get none.
func TestCORSForAllowedOrigins(t *testing.T) {
	h := corsHandler(t)
	preflight := func(path, origin, method string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("OPTIONS", path, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", method)
		r.Header.Set("Access-Control-Request-Headers", "content-type")
		return do(t, h, r)
	}
	for _, route := range []struct{ method, path string }{
		{"POST", "/token"}, {"POST", "/token/refresh"}, {"POST", "/logout"}, {"POST", "/token/verify"}, {"GET", "/healthz"},
	} {
		t.Run("preflight "+route.path, func(t *testing.T) {
			rec := preflight(route.path, appOrigin, route.method)
			hd := rec.Header()
			if rec.Code != http.StatusNoContent || hd.Get("Access-Control-Allow-Origin") != appOrigin ||
				hd.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(hd.Get("Access-Control-Allow-Methods"), route.method) ||
				!strings.Contains(strings.ToLower(hd.Get("Access-Control-Allow-Headers")), "content-type") ||
				hd.Get("Access-Control-Max-Age") != "600" || !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Origin") {
				t.Errorf("preflight: %d %v", rec.Code, hd)
			}
			if rec := preflight(route.path, "http://evil.example", route.method); rec.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("a preflight from an unlisted origin was granted: %v", rec.Header())
			}
		})
	}

	t.Run("real answers", func(t *testing.T) {
		r := jsonReq("POST", "/token", `{"username":"app","password":"pw"}`)
		r.Header.Set("Origin", appOrigin)
		r.Header.Set("Sec-Fetch-Site", "same-site")
		rec := do(t, h, r)
		hd := rec.Header()
		if rec.Code != 200 || hd.Get("Access-Control-Allow-Origin") != appOrigin || hd.Get("Access-Control-Allow-Credentials") != "true" ||
			hd.Get("Cross-Origin-Resource-Policy") != "cross-origin" || !strings.Contains(strings.Join(hd.Values("Vary"), ","), "Origin") {
			t.Errorf("POST /token from the app: %d %v", rec.Code, hd)
		}
	})

	t.Run("unlisted origin", func(t *testing.T) {
		r := jsonReq("POST", "/token", `{"username":"app","password":"pw"}`)
		r.Header.Set("Origin", "http://evil.example")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		rec := do(t, h, r)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" ||
			rec.Header().Get("Cross-Origin-Resource-Policy") != "same-origin" {
			t.Errorf("POST /token from an unlisted site: %d %v", rec.Code, rec.Header())
		}
	})

	t.Run("same-origin routes", func(t *testing.T) {
		for _, path := range []string{"/", "/admin/sessions"} {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Origin", appOrigin)
			if rec := do(t, h, r); rec.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("GET %s answered the app's origin with CORS headers: %v", path, rec.Header())
			}
			if rec := preflight(path, appOrigin, "GET"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("a preflight for %s was granted: %d %v", path, rec.Code, rec.Header())
			}
		}
	})

	t.Run("OPTIONS that is no preflight", func(t *testing.T) {
		rec := do(t, h, httptest.NewRequest("OPTIONS", "/token", nil))
		if e := decodeError(t, rec, http.StatusMethodNotAllowed); !strings.Contains(e.Error.Message, "TOKENLAB_ALLOWED_ORIGINS") {
			t.Errorf("plain OPTIONS: %+v", e)
		}
	})
}

// TestCORSMatchesExactly sends preflights from look-alikes of the allowed
// origins to a real server: none is granted. The configuration refuses
// wildcards and lower-cases what it is given, and the server holds to an
// exact match even when handed an origin a CORS library would read as a
// pattern or fold to lower case.
func TestCORSMatchesExactly(t *testing.T) {
	const pattern = "https://*.example.com" // a pattern to github.com/rs/cors, not an origin
	l := newLive(t, func(c *config.Config) { c.AllowedOrigins = []string{appOrigin, pattern} }, nil)
	for _, origin := range []string{
		strings.ToUpper(appOrigin),
		appOrigin + ".evil.test",
		appOrigin + "/",
		"null",
		"https://evil.example.com",
		"https://.example.com",
	} {
		t.Run(origin, func(t *testing.T) {
			req, _ := http.NewRequest("OPTIONS", l.srv.URL+"/token/refresh", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
				t.Errorf("a preflight from %s was granted: Access-Control-Allow-Origin %q", origin, got)
			}
		})
	}
}
