package api

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tokenlab/tokenlab/server/config"
)

// hostSet holds the names a server answers for: the Host header of every
// request must name one of them, or be an IP address.
//
// This is what stops DNS rebinding. A page on evil.example whose name is
// made to resolve to 127.0.0.1 reaches this server as its own origin, so
// the browser's same-origin rules, CrossOriginProtection and the WebSocket
// Origin check all let it through; but the browser still sends
// "Host: evil.example", which no operator listed.
//
// IP addresses are always allowed: they cannot be rebound. A browser
// sends "Host: 127.0.0.1" only for a URL on http://127.0.0.1:port, and a
// request there from another site's page is cross-origin (its Origin
// names that site), which CrossOriginProtection, the WebSocket Origin
// check and the browser's own CORS rules already stop. Programs (curl)
// can send any Host; the check is not meant to stop them.
//
// Ports are not compared. A rebinding page always sends the attacker's
// name, so the name is all that tells it apart, and a proxy in front of
// the server forwards the Host with its own port (or none), which is not
// the port the server listens on.
type hostSet struct {
	names map[string]struct{}
	// parents are the entries written with a leading dot: the name itself
	// and every name under it.
	parents []string
}

// newHostSet builds the set from localhost, the configured TOKENLAB_HOST
// when it is a name, and TOKENLAB_ALLOWED_HOSTS.
func newHostSet(cfg config.Config) hostSet {
	s := hostSet{names: map[string]struct{}{"localhost": {}}}
	add := func(name string) {
		name = strings.TrimSuffix(strings.ToLower(name), ".")
		if parent, ok := strings.CutPrefix(name, "."); ok {
			s.parents = append(s.parents, parent)
			return
		}
		s.names[name] = struct{}{}
	}
	if cfg.Host != "" && net.ParseIP(cfg.Host) == nil {
		add(cfg.Host)
	}
	for _, h := range cfg.AllowedHosts {
		add(h)
	}
	return s
}

// allows reports whether a request with this Host header is served. It
// does not allocate unless the name has capital letters.
func (s hostSet) allows(host string) bool {
	if host == "" {
		// HTTP/1.0 without a Host header: a program, never a browser.
		return true
	}
	name := hostName(host)
	if looksLikeIP(name) {
		// ParseAddr allocates its error, so names never get here.
		_, err := netip.ParseAddr(name)
		return err == nil
	}
	if hasUpper(name) {
		name = strings.ToLower(name)
	}
	if _, ok := s.names[name]; ok {
		return true
	}
	for _, p := range s.parents {
		if name == p || strings.HasSuffix(name, p) && name[len(name)-len(p)-1] == '.' {
			return true
		}
	}
	return false
}

// looksLikeIP reports whether name may be an IP address: it has a colon
// (IPv6) or only digits and dots (IPv4). A host name's last label is
// never all digits, so no name that could be allowed looks like one.
func looksLikeIP(name string) bool {
	if strings.IndexByte(name, ':') >= 0 {
		return true
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}

// hostName is the name in a Host header: without the port, the brackets
// of an IPv6 address or a trailing dot. An IPv6 address without brackets
// (which no browser sends) is returned whole.
func hostName(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			return host[1:end]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// allowHosts refuses requests whose Host is not in hosts, on every route
// (the page, its assets and the WebSocket included), before anything else
// runs: 421 Misdirected Request, with the JSON error body and one log
// line.
func allowHosts(log *slog.Logger, hosts hostSet) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		refuse := secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.WarnContext(r.Context(), "request refused: Host is not one this server answers for",
				"host", truncate(r.Host), "method", r.Method, "path", truncate(r.URL.Path), "remote", r.RemoteAddr,
				"status", http.StatusMisdirectedRequest)
			writeError(w, r, log, &Error{Code: CodeHostNotAllowed,
				Message: "this server does not answer for the name " + strconv.Quote(truncate(hostName(r.Host))) +
					": if you reach it by that name, add the name to " + config.EnvAllowedHosts + " (comma-separated)"})
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !hosts.allows(r.Host) {
				refuse.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// truncate shortens what a client chose before it is logged or echoed.
func truncate(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
