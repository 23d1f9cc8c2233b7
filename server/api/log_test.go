package api_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
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
			h := newStack(t, fixture{now: at(t0), log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: tt.level}))}).handler
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

// TestRefusalFloodsAreLoggedOnceASecond sends a flood of wrong passwords in
// parallel: most are refused with 429, and the log gets about one line a
// second for them, not one per request.
func TestRefusalFloodsAreLoggedOnceASecond(t *testing.T) {
	logs := &lockedBuffer{}
	h := newStack(t, fixture{auth: mustUsersFile(t), now: at(t0), log: slog.New(slog.NewTextHandler(logs, nil)),
		config: func(c *config.Config) { c.SignInLimitUser = config.Limit{N: 2, Per: time.Hour} }}).handler
	const n = 60
	start := time.Now()
	var wg sync.WaitGroup
	barrier := make(chan struct{})
	codes := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-barrier
			r := jsonReq("POST", "/token", `{"username":"susan","password":"wrong"}`)
			r.RemoteAddr = "192.0.2." + strconv.Itoa(i%200) + ":1234"
			codes <- do(t, h, r).Code
		}()
	}
	close(barrier)
	wg.Wait()
	close(codes)
	refused := 0
	for c := range codes {
		if c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable {
			refused++
		}
	}
	seconds := int(time.Since(start)/time.Second) + 1
	logged := strings.Count(logs.String(), "status=429") + strings.Count(logs.String(), "status=503")
	if refused < n/2 || logged < 1 || logged > seconds+1 {
		t.Errorf("%d refusals in %d s wrote %d log lines, want one a second", refused, seconds, logged)
	}
}
