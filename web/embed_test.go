package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func gz(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

var wasmBytes = bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00 some program "), 200)

func mustHandler(tb testing.TB, files fstest.MapFS) http.Handler {
	tb.Helper()
	h, err := NewHandler(files)
	if err != nil {
		tb.Fatalf("NewHandler: %v", err)
	}
	return h
}

func testFiles(tb testing.TB) fstest.MapFS {
	return fstest.MapFS{
		"index.html":            {Data: []byte(`<html data-wasm="{{/gen/tokenlab.wasm}}"><script src="{{/gen/wasm_exec.js}}"></script><link href="{{/style.css}}"><img src="{{/missing.png}}">`)},
		"style.css":             {Data: []byte("body{}")},
		"gen/wasm_exec.js":      {Data: []byte("// exec")},
		"gen/tokenlab.wasm.gz":  {Data: gz(tb, wasmBytes)},
		"gen/tokenlab.wasm.zst": {Data: []byte("pretend zstd")},
		"gen/.keep":             {Data: nil},
	}
}

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestIndexVersionsAssetURLs(t *testing.T) {
	h := mustHandler(t, testFiles(t))
	w := get(h, "/")
	if w.Code != 200 {
		t.Fatalf("GET / = %d", w.Code)
	}
	body := w.Body.String()
	for _, re := range []string{
		`data-wasm="/gen/tokenlab\.wasm\?v=[0-9a-f]{16}"`,
		`src="/gen/wasm_exec\.js\?v=[0-9a-f]{16}"`,
		`href="/style\.css\?v=[0-9a-f]{16}"`,
		`src="/missing\.png"`, // unknown assets keep a plain URL
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("page lacks %s:\n%s", re, body)
		}
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control = %q, want no-cache", cc)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "'wasm-unsafe-eval'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	etag := w.Header().Get("ETag")
	if w2 := get(h, "/", "If-None-Match", etag); w2.Code != http.StatusNotModified {
		t.Errorf("revalidation with the ETag = %d, want 304", w2.Code)
	}
}

func TestWasmEncodings(t *testing.T) {
	h := mustHandler(t, testFiles(t))
	tests := []struct {
		name, accept, wantEnc string
		wantBody              []byte
	}{
		{"zstd preferred", "gzip, deflate, br, zstd", "zstd", []byte("pretend zstd")},
		{"gzip", "gzip, deflate", "gzip", gz(t, wasmBytes)},
		{"gzip refused by quality", "gzip;q=0, identity", "", wasmBytes},
		{"nothing accepted", "", "", wasmBytes},
	}
	etags := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, "/gen/tokenlab.wasm", "Accept-Encoding", tt.accept)
			if w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/wasm" {
				t.Errorf("Content-Type = %q, want application/wasm (instantiateStreaming needs it)", ct)
			}
			if enc := w.Header().Get("Content-Encoding"); enc != tt.wantEnc {
				t.Errorf("Content-Encoding = %q, want %q", enc, tt.wantEnc)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary = %q", w.Header().Get("Vary"))
			}
			if tt.wantEnc == "gzip" {
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(zr)
				if !bytes.Equal(got, wasmBytes) {
					t.Error("gzip body does not decompress to the program")
				}
			} else if !bytes.Equal(w.Body.Bytes(), tt.wantBody) {
				t.Errorf("body %d bytes, want %d", w.Body.Len(), len(tt.wantBody))
			}
			etags[w.Header().Get("ETag")] = true
		})
	}
	if len(etags) != 3 {
		t.Errorf("ETags %v: want one per encoding", etags)
	}
}

// A URL that names the current content is cached for good; one without a
// version or with an old one is revalidated, so a rebuild is never hidden.
func TestCaching(t *testing.T) {
	h := mustHandler(t, testFiles(t))
	page := get(h, "/").Body.String()
	v := regexp.MustCompile(`tokenlab\.wasm\?v=([0-9a-f]+)`).FindStringSubmatch(page)[1]
	for _, tt := range []struct{ target, want string }{
		{"/gen/tokenlab.wasm?v=" + v, "public, max-age=31536000, immutable"},
		{"/gen/tokenlab.wasm?v=0000000000000000", "no-cache"},
		{"/gen/tokenlab.wasm", "no-cache"},
	} {
		w := get(h, tt.target, "Accept-Encoding", "gzip")
		if cc := w.Header().Get("Cache-Control"); cc != tt.want {
			t.Errorf("%s: Cache-Control = %q, want %q", tt.target, cc, tt.want)
		}
	}
	w := get(h, "/gen/tokenlab.wasm", "Accept-Encoding", "gzip")
	if w2 := get(h, "/gen/tokenlab.wasm", "Accept-Encoding", "gzip", "If-None-Match", w.Header().Get("ETag")); w2.Code != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", w2.Code)
	}

	// A rebuilt program gets a new version in the page.
	files := testFiles(t)
	files["gen/tokenlab.wasm.gz"] = &fstest.MapFile{Data: gz(t, append(wasmBytes, 1))}
	page2 := get(mustHandler(t, files), "/").Body.String()
	if v2 := regexp.MustCompile(`tokenlab\.wasm\?v=([0-9a-f]+)`).FindStringSubmatch(page2)[1]; v2 == v {
		t.Errorf("the version did not change after a rebuild: %s", v)
	}
}

func TestNotBuiltYet(t *testing.T) {
	files := testFiles(t)
	for name := range files {
		if strings.HasPrefix(name, "gen/") {
			delete(files, name)
		}
	}
	if got := missingIn(files); len(got) != 2 || got[0] != WasmPath || got[1] != WasmExecPath {
		t.Errorf("missingIn without gen/ = %q, want both generated assets", got)
	}
	if got := missingIn(testFiles(t)); len(got) != 0 {
		t.Errorf("missingIn with gen/ = %q, want none", got)
	}
	h := mustHandler(t, files)
	if w := get(h, "/"); w.Code != 200 || !strings.Contains(w.Body.String(), `data-wasm="/gen/tokenlab.wasm"`) {
		t.Errorf("page without the program: %d %s", w.Code, w.Body)
	}
	w := get(h, "/gen/tokenlab.wasm")
	if w.Code != 404 || !strings.Contains(w.Body.String(), "make build") || strings.Contains(w.Body.String(), "web-assets") {
		t.Errorf("missing program: %d %s", w.Code, w.Body)
	}
	if w := get(h, "/nope"); w.Code != 404 || !strings.Contains(w.Body.String(), `"not_found"`) {
		t.Errorf("unknown page: %d %s", w.Code, w.Body)
	}
}

func TestNewHandlerRefusesBrokenTrees(t *testing.T) {
	noIndex := testFiles(t)
	delete(noIndex, "index.html")
	if _, err := NewHandler(noIndex); err == nil {
		t.Error("no error without index.html")
	}
	zstOnly := testFiles(t)
	delete(zstOnly, "gen/tokenlab.wasm.gz")
	if _, err := NewHandler(zstOnly); err == nil || !strings.Contains(err.Error(), "tokenlab.wasm") {
		t.Errorf("zstd alone (no fallback for other clients): err = %v", err)
	}
}

func TestCorruptGzipIsAnErrorNotAPanic(t *testing.T) {
	files := testFiles(t)
	files["gen/tokenlab.wasm.gz"] = &fstest.MapFile{Data: []byte("not gzip")}
	w := get(mustHandler(t, files), "/gen/tokenlab.wasm")
	if w.Code != 500 || !strings.Contains(w.Body.String(), "make build") {
		t.Errorf("corrupt asset: %d %s", w.Code, w.Body)
	}
}

// The embedded tree must serve whether or not the program is built: a fresh
// clone builds and vets before `make web-assets`.
func TestEmbeddedHandler(t *testing.T) {
	w := get(Handler(), "/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `id="login"`) {
		t.Errorf("GET / = %d", w.Code)
	}
	for _, p := range []string{"/style.css", "/app.js"} {
		if w := get(Handler(), p); w.Code != 200 {
			t.Errorf("GET %s = %d", p, w.Code)
		}
	}
}

// embedFiles are testFiles with the embed's parts.
func embedFiles(tb testing.TB) fstest.MapFS {
	files := testFiles(tb)
	files["index.html"] = &fstest.MapFile{Data: []byte(`<html data-wasm="{{/gen/tokenlab.wasm}}"><main><details id="lab" class="lab"><button data-lab="expire">Expire now</button></details>` +
		`<section id="sdk-card" class="card" hidden><ul id="sdk-list"></ul></section></main>` +
		`<template id="token-view"><div class="tv"></div></template>`)}
	files["embed.js"] = &fstest.MapFile{Data: []byte(`(() => { const wasm = "{{/gen/tokenlab.wasm}}"; const css = "{{css}}"; const html = "{{html}}"; })();`)}
	files["embed.html"] = &fstest.MapFile{Data: []byte(`<div id="full">{{#lab}}{{#sdk-card}}</div>{{#token-view}}`)}
	files["embed.css"] = &fstest.MapFile{Data: []byte(`:host { all: initial !important; }`)}
	files["style.css"] = &fstest.MapFile{Data: []byte(`:root { --bg: #fff; } body{}`)}
	return files
}

// TestEmbedScriptIsOneCrossOriginScript: /embed.js is wasm_exec.js and
// the embed with its markup (the page's own lab drawer and token view)
// and style filled in, readable from any origin, as is the program it
// loads; the page itself stays same-origin.
func TestEmbedScriptIsOneCrossOriginScript(t *testing.T) {
	h := mustHandler(t, embedFiles(t))
	w := get(h, "/embed.js")
	if w.Code != 200 {
		t.Fatalf("GET /embed.js = %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	// The markup and style are JavaScript strings: read them back.
	var markup, style string
	for name, v := range map[string]*string{"html": &markup, "css": &style} {
		m := regexp.MustCompile(`const ` + name + ` = ("(?:[^"\\]|\\.)*")`).FindStringSubmatch(body)
		if m == nil || json.Unmarshal([]byte(m[1]), v) != nil {
			t.Fatalf("embed.js has no string %s:\n%s", name, body)
		}
	}
	if want := `<div id="full"><details id="lab" class="lab"><button data-lab="expire">Expire now</button></details>` +
		`<section id="sdk-card" class="card" hidden><ul id="sdk-list"></ul></section></div><template id="token-view"><div class="tv"></div></template>`; markup != want {
		t.Errorf("the embed's markup is %s, want %s", markup, want)
	}
	if want := ":host { --bg: #fff; } body{}\n:host { all: initial !important; }"; style != want {
		t.Errorf("the embed's style is %q, want %q", style, want)
	}
	if !strings.HasPrefix(body, "// exec") {
		t.Errorf("embed.js does not start with wasm_exec.js")
	}
	if !regexp.MustCompile(`"/gen/tokenlab\.wasm\?v=[0-9a-f]{16}"`).MatchString(body) || strings.Contains(body, "{{") || strings.Contains(body, ":root") {
		t.Errorf("embed.js has placeholders left or an unversioned program URL:\n%s", body)
	}
	for path, want := range map[string]string{"/embed.js": "*", "/gen/tokenlab.wasm": "*", "/gen/wasm_exec.js": "*", "/style.css": "", "/": ""} {
		w := get(h, path, "Accept-Encoding", "gzip")
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", path, got, want)
		}
		corp := map[string]string{"*": "cross-origin", "": ""}[want]
		if got := w.Header().Get("Cross-Origin-Resource-Policy"); got != corp {
			t.Errorf("%s: Cross-Origin-Resource-Policy %q, want %q", path, got, corp)
		}
	}
	if w := get(h, "/embed.js", "Accept-Encoding", "gzip"); w.Header().Get("Content-Encoding") != "gzip" || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("embed.js for a gzip client: %v", w.Header())
	}
	for _, p := range []string{"/embed.html", "/embed.css"} {
		if w := get(h, p); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404: only embed.js uses it", p, w.Code)
		}
	}
}

// TestEmbedWithoutItsPartsFailsAtStart: a broken embed is found when the
// server starts, with the file it needs named.
func TestEmbedWithoutItsPartsFailsAtStart(t *testing.T) {
	files := embedFiles(t)
	delete(files, "embed.html")
	if _, err := NewHandler(files); err == nil || !strings.Contains(err.Error(), "embed.html") {
		t.Errorf("NewHandler without embed.html: %v, want an error naming it", err)
	}
	files = embedFiles(t)
	files["index.html"] = &fstest.MapFile{Data: []byte(`<html></html>`)}
	if _, err := NewHandler(files); err == nil || !strings.Contains(err.Error(), "lab") {
		t.Errorf("NewHandler with a page without the lab drawer: %v, want an error naming it", err)
	}
}
