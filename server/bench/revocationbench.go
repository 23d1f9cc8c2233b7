package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tokenlab/tokenlab/server/session"
)

// Figure 7's sizes: the long list, the logouts timed per round and the
// sessions renewing meanwhile.
const (
	revokedEntries   = 100_000
	revocationRounds = 7
	logoutsPerRound  = 100
	renewingSessions = 16
)

type fig7 struct {
	// Each list (empty, long) gets one result per round.
	refresh, logout map[string][]latencies
}

type latencies struct{ p50, p99 time.Duration }

// benchRevocations measures figure 7: POST /logout, and other sessions'
// POST /token/refresh while those logouts run, on a server whose state
// directory holds revokedEntries revocations and on one whose list is
// empty, in alternating rounds of the same run.
func (b *bench) benchRevocations(ctx context.Context) error {
	b.logf("figure 7: refresh and logout with %d revocations against an empty list", revokedEntries)
	lists := []string{"empty", "long"}
	servers := map[string]*child{}
	sessions := map[string][]signedIn{}
	for _, name := range lists {
		dir := b.path("state-" + name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			return err
		}
		if name == "long" {
			if err := writeRevocations(dir, revokedEntries); err != nil {
				return err
			}
		}
		srv, err := startChild(ctx, "server", []string{"TOKENLAB_STATE_DIR=" + dir,
			// Its sessions sign in from one address, many at once: the
			// sign-in limits count attempts in flight, so lift them.
			"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"}, b.path("server-revocations-"+name+".log"))
		if err != nil {
			return err
		}
		defer srv.stop()
		servers[name] = srv
		n := renewingSessions + revocationRounds*logoutsPerRound
		if sessions[name], err = signInMany(ctx, srv.addr, n, func(int) int64 { return 3600 }); err != nil {
			return err
		}
	}
	b.fig7 = fig7{refresh: map[string][]latencies{}, logout: map[string][]latencies{}}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * renewingSessions}}
	defer client.CloseIdleConnections()
	for round := range revocationRounds {
		order := lists
		if round%2 == 1 {
			order = []string{lists[1], lists[0]}
		}
		for _, name := range order {
			s := sessions[name]
			out := s[renewingSessions+round*logoutsPerRound:][:logoutsPerRound]
			refresh, logout, err := logoutRound(ctx, client, servers[name].addr, s[:renewingSessions], out)
			if err != nil {
				return fmt.Errorf("%s list: %w", name, err)
			}
			b.fig7.refresh[name] = append(b.fig7.refresh[name], refresh)
			b.fig7.logout[name] = append(b.fig7.logout[name], logout)
			b.logf("  %-5s list, round %d: logout p50 %s p99 %s; refresh p50 %s p99 %s",
				name, round+1, ms(logout.p50), ms(logout.p99), ms(refresh.p50), ms(refresh.p99))
		}
	}
	return ctx.Err()
}

// logoutRound logs out each session of out in turn, timing each, while
// every session of renewing refreshes in a loop, timed too.
func logoutRound(ctx context.Context, client *http.Client, addr string, renewing, out []signedIn) (refresh, logout latencies, err error) {
	done := make(chan struct{})
	var mu sync.Mutex
	var refreshes []time.Duration
	var refreshErr error
	var wg sync.WaitGroup
	for _, s := range renewing {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				t0 := time.Now()
				err := post(ctx, client, addr, "/token/refresh", s.cookie, http.StatusOK)
				d := time.Since(t0)
				mu.Lock()
				if err != nil && refreshErr == nil {
					refreshErr = err
				}
				refreshes = append(refreshes, d)
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	var logouts []time.Duration
	for _, s := range out {
		t0 := time.Now()
		if err = post(ctx, client, addr, "/logout", s.cookie, http.StatusNoContent); err != nil {
			break
		}
		logouts = append(logouts, time.Since(t0))
	}
	close(done)
	wg.Wait()
	if err == nil {
		err = refreshErr
	}
	refresh = latencies{percentile(refreshes, 50), percentile(refreshes, 99)}
	logout = latencies{percentile(logouts, 50), percentile(logouts, 99)}
	return refresh, logout, err
}

func post(ctx context.Context, client *http.Client, addr, path, cookie string, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", cookie)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var sink [512]byte
	for {
		if _, err := resp.Body.Read(sink[:]); err != nil {
			break
		}
	}
	if resp.StatusCode != want {
		return fmt.Errorf("POST %s: status %d, want %d", path, resp.StatusCode, want)
	}
	return nil
}

// writeRevocations fills dir's revocation log with n sessions revoked
// until well after the bench ends, as n logouts would have.
func writeRevocations(dir string, n int) error {
	f, err := os.OpenFile(filepath.Join(dir, session.RevocationsFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	until := time.Now().Add(6 * time.Hour).Unix()
	for range n {
		fmt.Fprintf(w, "{\"id\":%q,\"until\":%d}\n", rand.Text(), until)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fig7Rows are figure 7's table rows, for logout and for refresh: the
// long list's p99 against the empty list's.
func (b *bench) fig7Rows(row func(fig, what, measured, baseline, target, v string)) {
	med := func(ls []latencies) latencies {
		var p50, p99 []float64
		for _, l := range ls {
			p50, p99 = append(p50, float64(l.p50)), append(p99, float64(l.p99))
		}
		return latencies{time.Duration(median(p50)), time.Duration(median(p99))}
	}
	for _, r := range []struct {
		what string
		m    map[string][]latencies
	}{
		{fmt.Sprintf("logout, %d in turn per round", logoutsPerRound), b.fig7.logout},
		{fmt.Sprintf("refresh by %d other sessions while those logouts run", renewingSessions), b.fig7.refresh},
	} {
		long, empty := med(r.m["long"]), med(r.m["empty"])
		// Paired rounds run a second apart: the median of their ratios
		// is steadier on a shared machine than the ratio of the medians.
		var xs []float64
		for i := range min(len(r.m["long"]), len(r.m["empty"])) {
			xs = append(xs, float64(r.m["long"][i].p99)/float64(max(r.m["empty"][i].p99, 1)))
		}
		x := median(xs)
		row("7", fmt.Sprintf("%s, with %d revocations in the list (median of %d rounds)", r.what, revokedEntries, len(r.m["long"])),
			fmt.Sprintf("p50 %s, p99 %s", ms(long.p50), ms(long.p99)),
			fmt.Sprintf("empty list: p50 %s, p99 %s; median of the rounds' p99 ratios **%.2f×**", ms(empty.p50), ms(empty.p99), x),
			"p99 ≤ 1.5×", verdict(x <= 1.5 && len(r.m["long"]) == revocationRounds))
	}
}
