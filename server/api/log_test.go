package api_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/users"
)

// Successful requests are logged at debug, failures at info: at the
// default level a renewal writes no line, a refused one does, and at
// debug every request is there.
func TestRequestLogLevels(t *testing.T) {
	for _, tt := range []struct {
		name       string
		level      slog.Level
		wantOK     bool // the 200 renewal is logged
		wantFailed bool // the 401 renewal is logged
	}{
		{"info", slog.LevelInfo, false, true},
		{"debug", slog.LevelDebug, true, true},
		{"warn", slog.LevelWarn, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			logs := &lockedBuffer{}
			h := mustHandler(t, users.OpenDemo{}, func(d *api.Deps) {
				d.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: tt.level}))
			})
			rec := do(t, h, jsonReq("POST", "/token", `{"username":"alice","password":"pw"}`))
			ck := sessionCookie(t, rec.Result().Cookies())
			if rec.Code != http.StatusOK || ck == nil {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
			}
			if rec := refresh(t, h, ck); rec.Code != http.StatusOK {
				t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
			if rec := refresh(t, h, nil); rec.Code != http.StatusUnauthorized {
				t.Fatalf("refresh without a cookie: %d %s", rec.Code, rec.Body)
			}
			out := logs.String()
			ok := strings.Contains(out, `level=DEBUG msg=request method=POST path=/token/refresh status=200`)
			failed := strings.Contains(out, `level=INFO msg=request method=POST path=/token/refresh status=401`)
			if ok != tt.wantOK || failed != tt.wantFailed {
				t.Errorf("200 logged %v (want %v), 401 logged %v (want %v):\n%s", ok, tt.wantOK, failed, tt.wantFailed, out)
			}
		})
	}
}
