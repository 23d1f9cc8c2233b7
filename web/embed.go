// Package web serves tokenlab's page: index.html, style.css and app.js from
// static/, the embed (embed.js, panel.go), and what `make web-assets` generates into static/gen/ (the wasm
// program and the matching wasm_exec.js, precompressed).
//
// Caching cannot serve a stale program after a rebuild: the page refers to
// every asset by a URL carrying a hash of its content (?v=…), which is
// cached for a year, while the page itself and any other URL are
// revalidated every time (ETag, Cache-Control: no-cache).
//
// Compression happens at build time, not per request: a file stored as
// name.gz (and name.zst) is served as name with the best encoding the
// client accepts, and decompressed once, on demand, for a client that
// accepts neither.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The gen/ directory may be empty (a fresh clone before `make web-assets`):
// embedding static/ as a whole keeps this pattern valid either way.
//
//go:embed static
var files embed.FS

// Handler serves the page and its assets from the embedded files.
func Handler() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // static/ is embedded above, so it exists
	}
	h, err := NewHandler(sub)
	if err != nil {
		panic("web: the embedded page is broken: " + err.Error())
	}
	return h
}

// Paths of the generated assets, as the page refers to them.
const (
	WasmPath     = "/gen/tokenlab.wasm"
	WasmExecPath = "/gen/wasm_exec.js"
)

// RebuildHint says how to get a missing or broken generated asset: they are
// embedded into the binary when it is built, so a restart alone never helps.
const RebuildHint = "run `make build` (it builds the page's program into bin/tokenlab) and restart the server"

// Missing lists the generated assets the embedded page lacks, so the server
// can say at start that the page will not run.
func Missing() []string {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		return []string{WasmPath, WasmExecPath}
	}
	return missingIn(sub)
}

func missingIn(fsys fs.FS) []string {
	var missing []string
	for _, p := range []string{WasmPath, WasmExecPath} {
		name := strings.TrimPrefix(p, "/")
		_, raw := fs.Stat(fsys, name)
		_, gz := fs.Stat(fsys, name+".gz")
		if raw != nil && gz != nil {
			missing = append(missing, p)
		}
	}
	return missing
}

// contentSecurityPolicy lets the page run its own script and wasm and talk
// to its own origin only: nothing it shows or decodes can leave the machine.
const contentSecurityPolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one servable file in its stored encodings.
type asset struct {
	ctype string
	hash  string // of the stored bytes: changes whenever the content does
	raw   []byte // nil when only compressed forms are stored
	gz    []byte
	zst   []byte

	once     sync.Once // decompresses gz into inflated for clients without gzip
	inflated []byte    // written once under once; raw never changes after NewHandler
	err      error
}

// handler serves assets by URL path.
type handler struct {
	assets map[string]*asset
	index  []byte // index.html with hashed asset URLs
	etag   string // of index
}

// NewHandler serves the files of fsys (laid out as static/).
func NewHandler(fsys fs.FS) (http.Handler, error) {
	h := &handler{assets: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name, enc := "/"+p, ""
		for _, e := range []string{".gz", ".zst"} {
			if strings.HasSuffix(name, e) {
				name, enc = strings.TrimSuffix(name, e), e
			}
		}
		a := h.assets[name]
		if a == nil {
			a = &asset{ctype: contentType(name)}
			h.assets[name] = a
		}
		switch enc {
		case ".gz":
			a.gz = b
		case ".zst":
			a.zst = b
		default:
			a.raw = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, a := range h.assets {
		if a.raw == nil && a.gz == nil {
			// A client without gzip could not be served: refuse at start,
			// not on the first such request.
			return nil, &fs.PathError{Op: "serve", Path: name, Err: fs.ErrNotExist}
		}
		sum := sha256.New()
		for _, b := range [][]byte{a.raw, a.gz, a.zst} {
			sum.Write(b)
		}
		a.hash = hex.EncodeToString(sum.Sum(nil))[:16]
	}
	page, ok := h.assets["/index.html"]
	if !ok || page.raw == nil {
		return nil, &fs.PathError{Op: "serve", Path: "/index.html", Err: fs.ErrNotExist}
	}
	if err := h.assembleEmbed(page.raw); err != nil {
		return nil, err
	}
	if a, ok := h.assets[EmbedPath]; ok {
		a.hash = etag(append(append([]byte{}, a.raw...), a.gz...), "")[1:17]
	}
	delete(h.assets, "/index.html")
	h.index = h.versionURLs(page.raw)
	h.etag = etag(h.index, "")
	return h, nil
}

// versionURLs replaces each {{/path}} in the page with the asset's URL and
// its content hash.
func (h *handler) versionURLs(page []byte) []byte {
	var out bytes.Buffer
	s := string(page)
	for {
		i := strings.Index(s, "{{/")
		j := strings.Index(s[max(i, 0):], "}}")
		if i < 0 || j < 0 {
			out.WriteString(s)
			return out.Bytes()
		}
		j += i
		name := s[i+2 : j]
		out.WriteString(s[:i])
		out.WriteString(name)
		if a, ok := h.assets[name]; ok {
			out.WriteString("?v=" + a.hash)
		}
		s = s[j+2:]
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	if r.URL.Path == "/" || r.URL.Path == "/index.html" {
		hdr.Set("Content-Type", "text/html; charset=utf-8")
		hdr.Set("Cache-Control", "no-cache")
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("ETag", h.etag)
		http.ServeContent(w, r, "index.html", zeroTime, bytes.NewReader(h.index))
		return
	}
	a, ok := h.assets[r.URL.Path]
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	// A URL naming the current content can be kept for good; any other
	// (no version, or an old one) must be revalidated.
	if v := r.URL.Query().Get("v"); v != "" && v == a.hash {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "no-cache")
	}
	hdr.Set("Content-Type", a.ctype)
	if crossOrigin(r.URL.Path) {
		// Pages on other origins load these (the embed): let them read
		// them, without cookies.
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	body, enc := a.raw, ""
	if a.gz != nil || a.zst != nil {
		hdr.Add("Vary", "Accept-Encoding")
		switch accept := r.Header.Values("Accept-Encoding"); {
		case a.zst != nil && accepts(accept, "zstd"):
			body, enc = a.zst, "zstd"
		case a.gz != nil && accepts(accept, "gzip"):
			body, enc = a.gz, "gzip"
		default:
			raw, err := a.identity()
			if err != nil {
				http.Error(w, "the stored asset is corrupt: "+RebuildHint, http.StatusInternalServerError)
				return
			}
			body = raw
		}
	}
	if enc != "" {
		hdr.Set("Content-Encoding", enc)
	}
	id := a.hash
	if enc != "" {
		id += "-" + enc // each encoding is its own representation
	}
	hdr.Set("ETag", etag(nil, id))
	http.ServeContent(w, r, path.Base(r.URL.Path), zeroTime, bytes.NewReader(body))
}

// identity returns the uncompressed bytes, decompressing gz once.
func (a *asset) identity() ([]byte, error) {
	if a.raw != nil {
		return a.raw, nil // stored uncompressed: never written after NewHandler
	}
	a.once.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(a.gz))
		if err != nil {
			a.err = err
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			a.err = err
			return
		}
		a.inflated = raw
	})
	return a.inflated, a.err
}

// accepts reports whether Accept-Encoding values list coding with a
// non-zero quality.
func accepts(values []string, coding string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), coding) {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
			return q > 0
		}
	}
	return false
}

// zeroTime leaves Last-Modified out: ETags do the revalidation.
var zeroTime time.Time

func etag(b []byte, id string) string {
	if b != nil {
		sum := sha256.Sum256(b)
		id = hex.EncodeToString(sum[:])[:16]
	}
	return `"` + id + `"`
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm" // instantiateStreaming requires exactly this
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".png":
		return "image/png"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// notFound answers like the API's errors, saying how to build what is
// missing when it is a generated asset.
func notFound(w http.ResponseWriter, p string) {
	msg := "no such page: " + p
	if strings.HasPrefix(p, "/gen/") {
		msg = p + " is not built: " + RebuildHint
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "not_found", "message": msg}})
	w.Write(body)
}
