package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/tlscert"
	"github.com/tokenlab/tokenlab/server/voicesignal"
	"github.com/tokenlab/tokenlab/shared/token"
)

// Figure 9's settings: TLS against plain HTTP, in one run.
const (
	tlsHandshakeWorkers = 8
	tlsHandshakeFor     = 3 * time.Second
	tlsRenewWorkers     = 32
	tlsRenewFor         = 3 * time.Second
	tlsRenewRounds      = 3
	// tlsSignalConns idle Voice signaling connections are held over TLS.
	tlsSignalConns = 10_000
)

type fig9 struct {
	handshakes     float64 // per second
	plain, secured []loadRound
	signalConns    int
	signalRSS      int64 // bytes added per connection
	signalTook     time.Duration
}

// benchTLS measures figure 9: full TLS handshakes per second, HTTP renewal
// throughput over HTTPS beside plain HTTP (rounds taking turns, same
// sessions), and the memory of 10,000 idle Voice signaling connections
// over TLS.
func (b *bench) benchTLS(ctx context.Context) error {
	limits := []string{"TOKENLAB_SIGNIN_LIMIT_ADDR=1000000/1m", "TOKENLAB_SIGNIN_LIMIT_USER=1000000/1m"}
	stateDir := b.path("tls-state")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	secured, err := startChild(ctx, "server", append([]string{"TOKENLAB_TLS=on", "TOKENLAB_STATE_DIR=" + stateDir}, limits...), b.path("server-tls.log"))
	if err != nil {
		return err
	}
	defer secured.stop()
	plain, err := startChild(ctx, "server", limits, b.path("server-plain.log"))
	if err != nil {
		return err
	}
	defer plain.stop()
	pem, err := os.ReadFile(filepath.Join(stateDir, tlscert.CertFile))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsConf := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}

	// Full handshakes: no session cache, a new connection each time.
	var handshakes atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(tlsHandshakeFor)
	for range tlsHandshakeWorkers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", secured.addr, tlsConf.Clone())
				if err != nil {
					continue
				}
				c.Close()
				handshakes.Add(1)
			}
		})
	}
	wg.Wait()
	b.fig9.handshakes = float64(handshakes.Load()) / tlsHandshakeFor.Seconds()
	b.logf("figure 9: %.0f TLS handshakes/s", b.fig9.handshakes)

	// Renewals over keep-alive connections, HTTP and HTTPS taking turns.
	for round := range tlsRenewRounds {
		for j := range 2 {
			overTLS := (round+j)%2 == 1
			base, client := "http://"+plain.addr, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: tlsRenewWorkers}, Timeout: 10 * time.Second}
			if overTLS {
				base, client = "https://"+secured.addr, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: tlsRenewWorkers, TLSClientConfig: tlsConf}, Timeout: 10 * time.Second}
			}
			r, err := renewOver(ctx, client, base)
			client.CloseIdleConnections()
			if err != nil {
				return err
			}
			if overTLS {
				b.fig9.secured = append(b.fig9.secured, r)
			} else {
				b.fig9.plain = append(b.fig9.plain, r)
			}
			b.logf("  round %d tls=%v renewals %6.0f/s p50 %v p99 %v", round+1, overTLS, r.rps, r.p50, r.p99)
		}
	}

	// Idle Voice signaling connections over TLS.
	return b.holdSignaling(ctx, secured, tlsConf)
}

// renewOver signs tlsRenewWorkers sessions in at base and has each renew
// as fast as it is answered for tlsRenewFor.
func renewOver(ctx context.Context, client *http.Client, base string) (loadRound, error) {
	cookies := make([]string, tlsRenewWorkers)
	for i := range cookies {
		resp, err := client.Post(base+"/token", "application/json", bytes.NewReader([]byte(fmt.Sprintf(`{"username":"tls%02d","password":"pw","ttl":3600}`, i))))
		if err != nil {
			return loadRound{}, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "tokenlab_session" {
				cookies[i] = c.Name + "=" + c.Value
			}
		}
	}
	results := make([]loadResult, tlsRenewWorkers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range tlsRenewWorkers {
		wg.Go(func() {
			res := &results[w]
			for time.Since(start) < tlsRenewFor && ctx.Err() == nil {
				req, _ := http.NewRequest("POST", base+"/token/refresh", nil)
				req.Header.Set("Cookie", cookies[w])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					res.fail(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					res.fail(fmt.Errorf("status %d", resp.StatusCode))
					continue
				}
				res.ok++
				res.latencies = append(res.latencies, time.Since(t0))
			}
		})
	}
	wg.Wait()
	return summarize(sumResults(results, time.Since(start))), nil
}

// holdSignaling opens tlsSignalConns Voice signaling connections over TLS,
// each listening with a token of its own identity, and measures the
// server's memory for them.
func (b *bench) holdSignaling(ctx context.Context, srv *child, tlsConf *tls.Config) error {
	cfg, err := config.Load(func(string) string { return "" }) // the demo account the child signs with
	if err != nil {
		return err
	}
	minter, err := mint.New(cfg.Twilio, nil)
	if err != nil {
		return err
	}
	rssBefore, _, err := srv.settle()
	if err != nil {
		return err
	}
	dialer := websocket.Dialer{TLSClientConfig: tlsConf, HandshakeTimeout: 10 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conns := make([]*websocket.Conn, tlsSignalConns)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= tlsSignalConns || ctx.Err() != nil {
					return
				}
				c, err := listenSignal(ctx, &dialer, srv.addr, minter, fmt.Sprintf("voice%05d", i))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	b.fig9.signalTook = time.Since(start)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	for _, c := range conns {
		if c != nil {
			b.fig9.signalConns++
		}
	}
	if err, _ := firstErr.Load().(error); err != nil && b.fig9.signalConns < tlsSignalConns {
		return fmt.Errorf("%d of %d signaling connections: %w", b.fig9.signalConns, tlsSignalConns, err)
	}
	rssAfter, _, err := srv.settle()
	if err != nil {
		return err
	}
	b.fig9.signalRSS = (rssAfter - rssBefore) / int64(b.fig9.signalConns)
	b.logf("  %d signaling connections over TLS in %v: RSS %d → %d KiB", b.fig9.signalConns, b.fig9.signalTook.Round(time.Millisecond), rssBefore>>10, rssAfter>>10)
	return nil
}

// listenSignal opens one signaling connection and waits for connected.
func listenSignal(ctx context.Context, d *websocket.Dialer, addr string, minter *mint.Minter, identity string) (*websocket.Conn, error) {
	g := token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true}}}
	m, err := minter.Mint(identity, g, time.Hour)
	if err != nil {
		return nil, err
	}
	c, _, err := d.DialContext(ctx, "wss://"+addr+"/signal", nil)
	if err != nil {
		return nil, err
	}
	payload, _ := json.Marshal(voicesignal.Listen{Token: m.Token})
	msg, _ := json.Marshal(voicesignal.Message{Type: voicesignal.TypeListen, Version: voicesignal.Version, Payload: payload})
	if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			c.Close()
			return nil, err
		}
		var got voicesignal.Message
		if json.Unmarshal(data, &got) == nil && got.Type == voicesignal.TypeConnected {
			c.SetReadDeadline(time.Time{})
			return c, nil
		}
		if got.Type == voicesignal.TypeError || got.Type == voicesignal.TypeClose {
			c.Close()
			return nil, fmt.Errorf("listen refused: %s", data)
		}
	}
}
