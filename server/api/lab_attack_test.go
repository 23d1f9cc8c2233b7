package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/shared/token"
)

// TestLabOrdersInParallel orders every kind of fault for one session at
// once, by the page's own routes and the operator's, while renewals and
// two sockets run: every order is answered, no renewal waits longer than
// the longest delay ordered, and what the hub keeps afterwards is one of
// the orders given, never a mix. Clearing then leaves a session that
// renews normally.
func TestLabOrdersInParallel(t *testing.T) {
	l := newLive(t, labOn, nil)
	_, ck := l.signIn(t, 600)
	id := l.sessionID(t)
	for range 2 {
		l.mustDial(t, ck)
	}
	type order struct{ path, body string }
	own := func(action, body string) order { return order{"/lab/" + action, body} }
	op := func(action, body string) order { return order{"/admin/sessions/" + id + "/" + action, body} }
	orders := []order{
		own("fail", `{"count":3,"status":503,"retry_after":2}`),
		op("fail", `{"count":5,"status":429}`),
		own("fail", `{"count":2,"delay_ms":300}`),
		op("fail", `{"count":1,"status":401,"delay_ms":200}`),
		own("skew", `{"seconds":-300}`),
		op("skew", `{"seconds":3600}`),
		own("drop", `{"code":1001}`),
		op("drop", `{"code":1006}`),
		own("drop", `{"code":4002}`),
		own("expire", ""),
		op("warn", ""),
		own("warn", `{}`),
	}
	const longestDelay = 300 * time.Millisecond
	const renewals = 12
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(path, body string) (int, string, error) {
		req, _ := http.NewRequest("POST", l.srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.AddCookie(ck)
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}

	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make(chan error, 2*len(orders)+renewals)
	for range 2 { // each order twice, so that orders of one kind race too
		for _, o := range orders {
			wg.Go(func() {
				start.Wait()
				status, body, err := send(o.path, o.body)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("%d %.200s", status, body)
				}
				if err != nil {
					errs <- fmt.Errorf("POST %s %s: %v", o.path, o.body, err)
				}
			})
		}
	}
	for range renewals {
		wg.Go(func() {
			start.Wait()
			began := time.Now()
			status, body, err := send("/token/refresh", "")
			switch {
			case err != nil:
				errs <- fmt.Errorf("renewal: %v", err)
			case !slices.Contains([]int{200, 401, 429, 503}, status):
				errs <- fmt.Errorf("renewal: %d %.200s", status, body)
			case status == 401 && !strings.Contains(body, "lab_unauthorized"):
				errs <- fmt.Errorf("renewal: a 401 that is not the lab's: %.200s", body)
			case time.Since(began) > longestDelay+5*time.Second:
				errs <- fmt.Errorf("renewal took %v, the longest delay ordered is %v", time.Since(began), longestDelay)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	start.Done()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the parallel orders did not all finish in 30 s")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	// What is left is one fail order, partly used, and one of the skews.
	if f, ok := operatorFaults(t, l)[id]; ok {
		valid := map[hub.FaultState]bool{}
		for _, o := range []hub.FaultState{{}, {FailRenewals: 3, Status: 503}, {FailRenewals: 5, Status: 429}, {FailRenewals: 2, DelayMS: 300}, {FailRenewals: 1, Status: 401, DelayMS: 200}} {
			for n := 0; n <= o.FailRenewals; n++ {
				for _, skew := range []int64{0, -300, 3600} {
					s := o
					s.FailRenewals, s.SkewSeconds = n, skew
					if n == 0 {
						s.Status, s.DelayMS = 0, 0
					}
					valid[s] = true
				}
			}
		}
		if !valid[f] {
			t.Errorf("the hub keeps %+v for the session: not one of the orders given", f)
		}
	}

	// Cleared, the session renews at once and with the true clock, and a
	// tab connects again.
	for _, o := range []order{own("fail", `{"count":0}`), op("skew", `{"seconds":0}`)} {
		if status, body, err := send(o.path, o.body); err != nil || status != 200 {
			t.Fatalf("POST %s %s: %d %s %v", o.path, o.body, status, body, err)
		}
	}
	before := time.Now().Unix()
	tr, err := l.refreshHTTP(t, ck)
	if err != nil {
		t.Fatalf("renewal after clearing: %v", err)
	}
	tok, err := token.Decode(tr.Token)
	if err != nil || tok.Claims.Nbf < before-1 || tok.Claims.Nbf > time.Now().Unix() {
		t.Errorf("renewal after clearing: nbf %v, want now: %v", tok, err)
	}
	l.mustDial(t, ck)
	if f, ok := operatorFaults(t, l)[id]; ok {
		t.Errorf("faults left after clearing: %+v", f)
	}
}

// operatorFaults are the lab's orders in force as an operator reads them
// (GET /admin/sessions).
func operatorFaults(tb testing.TB, l *live) map[string]hub.FaultState {
	tb.Helper()
	resp, err := http.Get(l.srv.URL + "/admin/sessions")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var list api.SessionsResponse
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET /admin/sessions: %d %v", resp.StatusCode, err)
	}
	return list.Faults
}

// TestLabUsedUpOrderLeavesNoStatus: once a fail order's renewals are used
// up, the operator's list shows none of it, though a skew keeps the
// session's entry: a status shown without renewals would say a fault is
// still in force.
func TestLabUsedUpOrderLeavesNoStatus(t *testing.T) {
	t.Parallel()
	for _, clear := range []struct{ name, how string }{{"used up", ""}, {"cleared with a status", `{"count":0,"status":503}`}} {
		t.Run(clear.name, func(t *testing.T) {
			l := newLive(t, labOn, nil)
			_, ck := l.signIn(t, 600)
			id := l.sessionID(t)
			l.mustPost(t, "/lab/skew", ck, `{"seconds":60}`)
			l.mustPost(t, "/lab/fail", ck, `{"count":1,"status":503}`)
			if clear.how == "" {
				if _, err := l.refreshHTTP(t, ck); err == nil || !strings.Contains(err.Error(), api.CodeLabUnavailable) {
					t.Fatalf("the ordered failure: %v", err)
				}
			} else {
				l.mustPost(t, "/lab/fail", ck, clear.how)
			}
			if got, want := operatorFaults(t, l)[id], (hub.FaultState{SkewSeconds: 60}); got != want {
				t.Errorf("the operator reads %+v, want %+v", got, want)
			}
		})
	}
}

// TestLabOrdersEndWithTheProcess: the lab's orders live in memory, as
// docs/api.md says. After a restart (same keys and state directory) the
// session's cookie still renews, with neither the failures nor the skew
// ordered before, and expire answers no_token until that renewal.
func TestLabOrdersEndWithTheProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withState := func(c *config.Config) { c.Lab, c.StateDir = true, dir }
	before := newLive(t, withState, nil)
	_, ck := before.signIn(t, 600)
	id := before.sessionID(t)
	before.mustPost(t, "/lab/fail", ck, `{"count":5,"status":503}`)
	before.mustPost(t, "/lab/skew", ck, `{"seconds":3600}`)
	if f := operatorFaults(t, before)[id]; f.FailRenewals != 5 || f.SkewSeconds != 3600 {
		t.Fatalf("orders before the restart: %+v", f)
	}
	before.srv.Close()
	before.hub.Shutdown()

	after := newLive(t, withState, nil)
	if a := after.labPost(t, "/lab/expire", ck, ""); a.status != http.StatusConflict {
		t.Errorf("expire before any renewal on the new server: %d %s, want 409 %s", a.status, a.body, api.CodeNoToken)
	} else if code, _, _ := a.errorCode(t); code != api.CodeNoToken {
		t.Errorf("expire before any renewal on the new server: %s, want %s", code, api.CodeNoToken)
	}
	if f, ok := operatorFaults(t, after)[id]; ok {
		t.Errorf("the new server keeps orders: %+v", f)
	}
	now := time.Now().Unix()
	tr, err := after.refreshHTTP(t, ck)
	if err != nil {
		t.Fatalf("renewal after the restart: %v", err)
	}
	if tok, err := token.Decode(tr.Token); err != nil || tok.Claims.Nbf < now-1 || tok.Claims.Nbf > time.Now().Unix() {
		t.Errorf("renewal after the restart is skewed: %+v %v", tok, err)
	}
	after.mustPost(t, "/lab/expire", ck, "")
}
