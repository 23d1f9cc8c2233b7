// Package app serves the example app (index.html, app.js and the SDK
// stand-in), the page a user reads to see how their own app uses
// tokenlab's embed. The page names tokenlab at http://localhost:8080, as a
// user's would; Handler points it at another address (tests run tokenlab
// on a free port).
package app

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"time"
)

//go:embed index.html app.js standin-client.js
var files embed.FS

// DefaultTokenlab is the tokenlab address written in index.html.
const DefaultTokenlab = "http://localhost:8080"

// Handler serves the example with tokenlab at the given address (scheme,
// host and port, no path).
func Handler(tokenlab string) http.Handler {
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("app: index.html is not embedded: " + err.Error()) // cannot happen: go:embed lists it
	}
	index = bytes.ReplaceAll(index, []byte(DefaultTokenlab), []byte(tokenlab))
	static := http.FileServerFS(files)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
	mux.Handle("GET /app.js", static)
	mux.Handle("GET /standin-client.js", static)
	return mux
}
