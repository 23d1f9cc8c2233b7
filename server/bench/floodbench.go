package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tokenlab/tokenlab/server/users"
)

// Figure 8's load: renewals from a few sessions, measured idle and while
// floodConns connections send sign-ins as fast as they are answered, in
// alternating rounds. Each flooding connection guesses the password of a
// username of its own, and the server's sign-in limits are raised out of
// the way: the worst case the limits cannot stop (many addresses, many
// names), where every sign-in asks for a bcrypt check and only the bound
// on checks running at once protects the renewals.
const (
	floodConns = 200
	// floodRenewers connections each renew every floodRenewEvery, as
	// tabs do, rather than as fast as they can: a renewal's latency is
	// what a user feels, and a closed loop would only measure how the
	// machine's cores are shared.
	floodRenewers   = 4
	floodRenewEvery = 5 * time.Millisecond
	floodRounds     = 5
	floodRound      = 2 * time.Second
	// floodBuildUp lets the flood fill the server's queue of password
	// checks before the renewals are timed.
	floodBuildUp = 500 * time.Millisecond
	// floodTail keeps the flood going a little past the timed renewals,
	// so that it does not thin out while they are measured.
	floodTail = 250 * time.Millisecond
)

type fig8 struct {
	cost        int
	idle, flood []loadRound
	// checked and refused are the flood's answers in each flood round:
	// 401 after a password check, and the rest (503 busy, Retry-After).
	checked, refused []int
}

// benchFlood measures figure 8: HTTP renewal latency while 200 parallel
// sign-ins ask for password checks, against the same renewals idle.
func (b *bench) benchFlood(ctx context.Context) error {
	const username, password = "flood", "correct horse battery staple"
	cost := bcrypt.DefaultCost
	usersPath := b.path("users-flood.json")
	if _, err := users.Put(usersPath, username, password, []string{"video"}, cost); err != nil {
		return err
	}
	b.fig8.cost = cost
	b.logf("figure 8: renewals idle and during a flood of %d parallel sign-ins (bcrypt cost %d)", floodConns, cost)
	srv, err := startChild(ctx, "server", []string{"TOKENLAB_USERS_FILE=" + usersPath,
		"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"}, b.path("server-flood.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	renewals := make([][]byte, floodRenewers)
	for i := range renewals {
		s, err := signIn(client, srv.addr, username, password, 3600)
		if err != nil {
			return err
		}
		renewals[i] = postRequest(srv.addr, "/token/refresh", s.cookie, nil)
	}
	renew := func(w int) []byte { return renewals[w] }
	renewPaced := func() loadRound {
		return summarize(pacedLoad(ctx, srv.addr, floodRenewers, floodRenewEvery, floodRound, http.StatusOK, renew))
	}

	pacedLoad(ctx, srv.addr, floodRenewers, floodRenewEvery, 500*time.Millisecond, http.StatusOK, renew) // warm-up
	for round := range floodRounds {
		// Idle first in odd rounds, flooded first in even ones, so that
		// neither always follows the other.
		for j := range 2 {
			flooded := (round+j)%2 == 1
			select {
			case <-time.After(settleTime):
			case <-ctx.Done():
				return ctx.Err()
			}
			if !flooded {
				s := renewPaced()
				b.fig8.idle = append(b.fig8.idle, s)
				b.logf("  round %d idle     renewals %6.0f/s  p50 %-10v p99 %-10v failed %d", round+1, s.rps, s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.failed)
				continue
			}
			// The flood comes from a process of its own, as an attacker's
			// would: in this one, its 200 connections would delay the
			// timed renewals' own goroutines, and the figure would
			// measure the load generator.
			flood := make(chan loadResult, 1)
			go func() { flood <- floodFromChild(ctx, srv.addr, floodBuildUp+floodRound+floodTail) }()
			select {
			case <-time.After(floodBuildUp):
			case <-ctx.Done():
				return ctx.Err()
			}
			profiled := make(chan error, 1)
			if b.profileDir != "" && round == 0 {
				go func() {
					profiled <- srv.saveProfile(filepath.Join(b.profileDir, "fig8-flood.cpu"), floodRound)
				}()
			} else {
				profiled <- nil
			}
			s := renewPaced()
			f := <-flood
			if err := <-profiled; err != nil {
				b.logf("  profile: %v", err)
			}
			b.fig8.flood = append(b.fig8.flood, s)
			b.fig8.checked = append(b.fig8.checked, f.ok)
			b.fig8.refused = append(b.fig8.refused, f.failed)
			b.logf("  round %d flooded  renewals %6.0f/s  p50 %-10v p99 %-10v failed %d; sign-ins checked (401): %d, otherwise: %d (first: %v)",
				round+1, s.rps, s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), s.failed, f.ok, f.failed, f.firstError)
		}
	}
	return ctx.Err()
}

// pacedLoad keeps conns connections for d, each sending the request
// next(worker) returns once every period (or as soon as the previous
// answer came, when that took longer), and records each answer's latency.
// A status other than want counts as failed.
func pacedLoad(ctx context.Context, addr string, conns int, every, d time.Duration, want int, next func(worker int) []byte) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]loadResult, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			res := &results[w]
			c, err := dialHTTP(addr)
			if err != nil {
				res.fail(err)
				return
			}
			defer c.c.Close()
			tick := time.NewTicker(every)
			defer tick.Stop()
			body := make([]byte, 0, 4<<10)
			for {
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
				t0 := time.Now()
				status, b, err := c.do(next(w), body)
				took := time.Since(t0)
				switch {
				case err != nil:
					res.fail(err)
					return
				case status != want:
					res.fail(fmt.Errorf("status %d: %.200s", status, b))
				default:
					res.ok++
					res.latencies = append(res.latencies, took)
				}
				if b != nil {
					body = b[:0]
				}
			}
		})
	}
	wg.Wait()
	return sumResults(results, time.Since(start))
}

// runFloodRole is the flood's process: floodConns connections send wrong
// passwords to addr for d, then it prints how they were answered.
func runFloodRole(addr string, d time.Duration) error {
	guesses := make([][]byte, floodConns)
	for i := range guesses {
		guesses[i] = postRequest(addr, "/token", "", []byte(fmt.Sprintf(`{"username":"guess%03d","password":"guess"}`, i)))
	}
	r := runLoad(context.Background(), addr, floodConns, d, http.StatusUnauthorized, func(w int) []byte { return guesses[w] })
	first := ""
	if r.firstError != nil {
		first = strings.ReplaceAll(r.firstError.Error(), "\n", " ")
	}
	_, err := fmt.Printf("%d %d %s\n", r.ok, r.failed, first)
	return err
}

// floodFromChild runs the flood in a child process and reads its counts.
func floodFromChild(ctx context.Context, addr string, d time.Duration) loadResult {
	self, err := os.Executable()
	if err != nil {
		return loadResult{firstError: err}
	}
	out, err := exec.CommandContext(ctx, self, "-role", "flood", "-addr", addr, "-for", d.String()).Output()
	if err != nil {
		return loadResult{firstError: fmt.Errorf("the flood's process: %w", err)}
	}
	var r loadResult
	var first string
	fmt.Sscanf(string(out), "%d %d", &r.ok, &r.failed)
	if _, rest, ok := strings.Cut(strings.TrimSpace(string(out)), " "); ok {
		if _, first, ok = strings.Cut(rest, " "); ok && first != "" {
			r.firstError = errors.New(first)
		}
	}
	return r
}
