package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The load generator speaks just enough HTTP/1.1 to send prebuilt
// requests over keep-alive connections and read each answer: a net/http
// client would spend more of the two shared cores than the server under
// test, and what it spends is taken from the server.

// httpConn is one keep-alive connection. closing is set when the last
// response said "Connection: close": the caller dials again.
type httpConn struct {
	c       net.Conn
	r       *bufio.Reader
	closing bool
}

func dialHTTP(addr string) (*httpConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &httpConn{c: c, r: bufio.NewReaderSize(c, 8<<10)}, nil
}

// do sends req and reads the whole response, returning its status and
// body. body is reused between calls: copy what must be kept.
func (h *httpConn) do(req []byte, body []byte) (int, []byte, error) {
	h.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := h.c.Write(req); err != nil {
		return 0, nil, err
	}
	return readResponse(h.r, body[:0], &h.closing)
}

var errBadResponse = errors.New("malformed HTTP response")

// readResponse reads a status line, headers and a body framed by
// Content-Length or chunked encoding, appending the body to body. closing,
// when not nil, is set to whether the server closes the connection after
// this response.
func readResponse(r *bufio.Reader, body []byte, closing *bool) (int, []byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, errBadResponse
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, errBadResponse
	}
	length, chunked := -1, false
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, errBadResponse
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, errBadResponse
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case closing != nil && bytes.EqualFold(name, []byte("Connection")):
			*closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		body, err = readChunked(r, body)
	case length >= 0:
		body = slices.Grow(body, length)[:length]
		_, err = io.ReadFull(r, body)
	default:
		return 0, nil, fmt.Errorf("%w: neither Content-Length nor chunked", errBadResponse)
	}
	return status, body, err
}

func readChunked(r *bufio.Reader, body []byte) ([]byte, error) {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil {
			return nil, errBadResponse
		}
		if size == 0 {
			_, err := r.ReadSlice('\n') // the CRLF after the last chunk
			return body, err
		}
		n := len(body)
		body = slices.Grow(body, int(size))[:n+int(size)]
		if _, err := io.ReadFull(r, body[n:]); err != nil {
			return nil, err
		}
		if _, err := r.Discard(2); err != nil {
			return nil, err
		}
	}
}

// postRequest builds a POST request with optional cookie and JSON body.
func postRequest(addr, path, cookie string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, addr)
	if cookie != "" {
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookie)
	}
	if len(body) > 0 {
		b.WriteString("Content-Type: application/json\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// loadResult is what one timed run of the generator saw.
type loadResult struct {
	ok, failed int
	elapsed    time.Duration
	latencies  []time.Duration // of the successful requests
	firstError error
}

func (l loadResult) rate() float64 { return float64(l.ok) / l.elapsed.Seconds() }

// runLoad keeps conns connections busy for d, each sending the request
// next(worker) returns and waiting for its answer (closed loop). A status
// other than want counts as failed.
func runLoad(ctx context.Context, addr string, conns int, d time.Duration, want int, next func(worker int) []byte) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]loadResult, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			res := &results[w]
			res.latencies = make([]time.Duration, 0, 1<<14)
			var c *httpConn
			body := make([]byte, 0, 4<<10)
			for ctx.Err() == nil {
				if c == nil {
					var err error
					if c, err = dialHTTP(addr); err != nil {
						res.fail(err)
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				t0 := time.Now()
				status, b, err := c.do(next(w), body)
				took := time.Since(t0)
				switch {
				case err != nil:
					res.fail(err)
					c.c.Close()
					c = nil
				case status != want:
					res.fail(fmt.Errorf("status %d: %.200s", status, b))
				default:
					res.ok++
					res.latencies = append(res.latencies, took)
				}
				if c != nil && c.closing { // the tutorial's server closes after each answer
					c.c.Close()
					c = nil
				}
				if b != nil {
					body = b[:0]
				}
			}
			if c != nil {
				c.c.Close()
			}
		})
	}
	wg.Wait()
	return sumResults(results, time.Since(start))
}

// sumResults adds up the workers' results of one load run that took
// elapsed; the first error of the first worker that had one is kept.
func sumResults(results []loadResult, elapsed time.Duration) loadResult {
	total := loadResult{elapsed: elapsed}
	for _, r := range results {
		total.ok += r.ok
		total.failed += r.failed
		total.latencies = append(total.latencies, r.latencies...)
		if total.firstError == nil {
			total.firstError = r.firstError
		}
	}
	return total
}

func (l *loadResult) fail(err error) {
	l.failed++
	if l.firstError == nil {
		l.firstError = err
	}
}

// percentile returns the p-th percentile (0–100) of ds by nearest rank;
// it sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(p/100*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// median of a few measurements (rounds of a run, -count results).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
