package sdkconn

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// socket is the writing half every SDK connection shares: a bounded queue
// of messages, a keepalive, and a close that lets queued messages out
// first. The reading half is each protocol's own.
//
// Messages are written by a goroutine that runs only while there is
// something to write (a message, a keepalive, the close) and exits when
// the queue is empty. An idle connection then holds its reader's stack
// alone: a writer parked on a channel for the connection's lifetime was,
// with its channel and ticker, about 6 KiB of the 16 KiB an idle twilsock
// connection took (docs/benchmarks.md, figure 11). There is still one
// writer at a time, nobody waits for a write, and a client whose queue
// is full is dropped.
type socket struct {
	ws  *websocket.Conn
	log *slog.Logger
	// kind is the WebSocket message type of every message: twilsock
	// sends binary, Voice signaling text.
	kind int
	// heartbeat, when set, is sent as a message every keepalive instead of
	// a WebSocket ping: Voice signaling's client reconnects when it hears
	// no message for 15 s, and pings do not count.
	heartbeat []byte
	keepalive time.Duration
	// readerDone is closed when the connection's reader returns.
	readerDone chan struct{}

	mu        sync.Mutex // guards the fields below
	queue     [][]byte   // messages not yet written; at most sendBuffer
	writing   bool       // a writer goroutine runs
	pingDue   bool       // the keepalive is due
	shutting  bool       // shut was called: the close goes out after the queue
	over      bool       // the socket is closed: nothing is written any more
	closeCode int
	closeText string
	keep      *time.Timer // the keepalive's
	finished  func()      // called once, when the socket is over
}

func newSocket(ws *websocket.Conn, log *slog.Logger, kind int, heartbeat []byte, keepalive time.Duration) *socket {
	return &socket{ws: ws, log: log, kind: kind, heartbeat: heartbeat, keepalive: keepalive, readerDone: make(chan struct{})}
}

// start arms the keepalive. finished is called once the socket is over:
// its close written (or the peer gone), the connection closed.
func (s *socket) start(finished func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.finished = finished
	s.keep = time.AfterFunc(s.keepalive, s.keepaliveDue)
}

// queueBytes sends a message without waiting; a client whose queue is
// full is dropped.
func (s *socket) queueBytes(b []byte) {
	s.mu.Lock()
	if s.shutting || s.over {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= sendBuffer {
		s.mu.Unlock()
		s.log.Info("sdkconn: dropping a client that stopped reading")
		s.shut(websocket.ClosePolicyViolation, "too slow: messages were not read")
		s.ws.NetConn().Close() // unblocks a writer stuck on the client
		return
	}
	s.queue = append(s.queue, b)
	s.kickLocked()
	s.mu.Unlock()
}

// closing reports whether shut was called or the socket is over.
func (s *socket) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutting || s.over
}

// shut has the messages queued so far written, then a WebSocket close,
// and ends the socket. The first call wins.
func (s *socket) shut(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting || s.over {
		return
	}
	s.shutting, s.closeCode, s.closeText = true, code, text
	s.pingDue = false
	s.kickLocked()
}

// keepaliveDue runs on the keepalive's timer.
func (s *socket) keepaliveDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting || s.over {
		return
	}
	s.pingDue = true
	s.keep.Reset(s.keepalive)
	s.kickLocked()
}

// kickLocked starts a writer unless one runs. Callers hold s.mu.
func (s *socket) kickLocked() {
	if !s.writing {
		s.writing = true
		go s.writeQueued()
	}
}

// writeQueued writes what is due, in order (the queue, the keepalive, the
// close), and returns when nothing is left.
func (s *socket) writeQueued() {
	for {
		s.mu.Lock()
		var b []byte
		ping, closing := false, false
		switch {
		case s.over:
			s.writing = false
			s.mu.Unlock()
			return
		case len(s.queue) > 0:
			b, s.queue[0] = s.queue[0], nil
			if s.queue = s.queue[1:]; len(s.queue) == 0 {
				s.queue = nil // an idle socket keeps no array
			}
		case s.pingDue:
			s.pingDue, ping = false, true
		case s.shutting:
			closing = true
		default:
			s.writing = false
			s.mu.Unlock()
			return
		}
		code, text := s.closeCode, s.closeText
		s.mu.Unlock()

		var err error
		switch {
		case closing:
			s.writeClose(code, text)
			return
		case ping && s.heartbeat != nil:
			err = s.write(s.heartbeat)
		case ping:
			err = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
		default:
			err = s.write(b)
		}
		if err != nil {
			s.end()
			return
		}
	}
}

func (s *socket) write(b []byte) error {
	s.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return s.ws.WriteMessage(s.kind, b)
}

// writeClose sends the WebSocket close, waits for the peer's, and ends
// the socket.
func (s *socket) writeClose(code int, text string) {
	s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, protocol.CloseReason(text)), time.Now().Add(writeWait))
	// The reader keeps reading until the peer's close arrives, so the peer
	// reads ours instead of a reset; a peer that does not answer is cut
	// off after closeGrace.
	grace := time.NewTimer(closeGrace)
	defer grace.Stop()
	select {
	case <-s.readerDone:
	case <-grace.C:
	}
	s.end()
}

// end closes the connection and calls finished, once.
func (s *socket) end() {
	s.mu.Lock()
	if s.over {
		s.mu.Unlock()
		return
	}
	s.over, s.writing, s.queue = true, false, nil
	if s.keep != nil {
		s.keep.Stop()
	}
	finished := s.finished
	s.mu.Unlock()
	s.ws.Close()
	if finished != nil {
		finished()
	}
}

// limitPings makes the peer's WebSocket pings count against limiter, the
// reader's frame rate, as /ws counts them: the SDKs send none (a browser
// cannot), so a flood of them is a client to close, with over, rather
// than one to answer a pong each. It is called by the reader, which runs
// the handler.
func (s *socket) limitPings(limiter *rate.Limiter, over func()) {
	s.ws.SetPingHandler(func(data string) error {
		if s.closing() {
			return nil
		}
		if !limiter.Allow() {
			over()
			return nil
		}
		err := s.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(pongWriteWait))
		if ne, ok := err.(net.Error); err == websocket.ErrCloseSent || ok && ne.Timeout() {
			return nil // as gorilla's own handler: the reader goes on
		}
		return err
	})
}

// pongWriteWait is how long a pong may take to write, as in gorilla's own
// ping handler.
const pongWriteWait = time.Second
