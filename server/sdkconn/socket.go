package sdkconn

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

// socket is the writing half every SDK connection shares: a bounded send
// queue drained by one write goroutine (writePump), a keepalive, and a
// close that lets queued messages out first. The reading half is each
// protocol's own.
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
	send      chan []byte
	done      chan struct{} // closed by shut: the writer sends the close and stops
	// readerDone is closed when the connection's reader returns.
	readerDone chan struct{}

	mu        sync.Mutex // guards the fields below
	closeCode int
	closeText string
	shutOnce  bool
}

func newSocket(ws *websocket.Conn, log *slog.Logger, kind int, heartbeat []byte, keepalive time.Duration) *socket {
	return &socket{ws: ws, log: log, kind: kind, heartbeat: heartbeat, keepalive: keepalive,
		send: make(chan []byte, sendBuffer), done: make(chan struct{}), readerDone: make(chan struct{})}
}

// queueBytes sends a message without waiting; a client whose queue is
// full is dropped.
func (s *socket) queueBytes(b []byte) {
	select {
	case <-s.done:
	case s.send <- b:
	default:
		s.log.Info("sdkconn: dropping a client that stopped reading")
		s.shut(websocket.ClosePolicyViolation, "too slow: messages were not read")
		s.ws.NetConn().Close()
	}
}

// closing reports whether shut was called.
func (s *socket) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// shut asks the writer to send a WebSocket close and stop. The first
// call wins.
func (s *socket) shut(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutOnce {
		return
	}
	s.shutOnce, s.closeCode, s.closeText = true, code, text
	close(s.done)
}

func (s *socket) write(b []byte) error {
	s.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return s.ws.WriteMessage(s.kind, b)
}

func (s *socket) writePump() {
	tick := time.NewTicker(s.keepalive)
	defer func() {
		tick.Stop()
		s.ws.Close()
	}()
	for {
		select {
		case b := <-s.send:
			if s.write(b) != nil {
				return
			}
		case <-tick.C:
			var err error
			if s.heartbeat != nil {
				err = s.write(s.heartbeat)
			} else {
				err = s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
			}
			if err != nil {
				return
			}
		case <-s.done:
			// Messages queued before the close go first: a reply or the
			// protocol's own close, which the SDK must read.
			for {
				select {
				case b := <-s.send:
					if s.write(b) != nil {
						return
					}
					continue
				default:
				}
				break
			}
			s.mu.Lock()
			code, text := s.closeCode, s.closeText
			s.mu.Unlock()
			s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, protocol.CloseReason(text)), time.Now().Add(writeWait))
			// The reader keeps reading until the peer's close arrives, so
			// the peer reads ours instead of a reset; a peer that does not
			// answer is cut off after closeGrace.
			grace := time.NewTimer(closeGrace)
			defer grace.Stop()
			select {
			case <-s.readerDone:
			case <-grace.C:
			}
			return
		}
	}
}
