package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"strings"
)

// The embed: /embed.js, served to pages on any origin, puts the page's
// program into their page, inside a shadow root (docs/embed.md). It is
// assembled once, at start: wasm_exec.js, then static/embed.js with the
// panel's markup (static/embed.html, with the page's own lab drawer, SDK
// connections card and token view cut from index.html, so both show the
// same) and its style
// (the page's style.css, then static/embed.css) filled in. One script, so
// the host page waits for one request before the program's own download.

// EmbedPath is where pages load the embed from.
const EmbedPath = "/embed.js"

// crossOrigin lists what pages on other origins load: the embed and the
// program it runs. They are the same for everyone and carry no secret,
// so any origin may read them (without cookies).
func crossOrigin(p string) bool { return p == EmbedPath || strings.HasPrefix(p, "/gen/") }

// assembleEmbed builds the /embed.js asset from its parts, removing the
// parts that only it uses. Without static/embed.js (a test's file set)
// there is no embed.
func (h *handler) assembleEmbed(index []byte) error {
	script, ok := h.assets[EmbedPath]
	if !ok {
		return nil
	}
	markup, style := h.assets["/embed.html"], h.assets["/embed.css"]
	page := h.assets["/style.css"]
	if script.raw == nil || markup == nil || markup.raw == nil || style == nil || style.raw == nil || page == nil || page.raw == nil {
		return fmt.Errorf("embed.js needs embed.html, embed.css and style.css beside it, stored uncompressed")
	}
	delete(h.assets, "/embed.html")
	delete(h.assets, "/embed.css")
	html := string(markup.raw)
	for _, cut := range []struct{ mark, start, end string }{
		{"{{#lab}}", `<details id="lab"`, "</details>"},
		{"{{#sdk-card}}", `<section id="sdk-card"`, "</section>"},
		{"{{#token-view}}", `<template id="token-view">`, "</template>"},
	} {
		i := bytes.Index(index, []byte(cut.start))
		j := bytes.Index(index[max(i, 0):], []byte(cut.end))
		if i < 0 || j < 0 {
			return fmt.Errorf("index.html has no %s…%s for the embed's %s", cut.start, cut.end, cut.mark)
		}
		html = strings.Replace(html, cut.mark, string(index[i:i+j+len(cut.end)]), 1)
	}
	// In a shadow root, :host is what :root is to the page.
	css := strings.ReplaceAll(string(page.raw), ":root", ":host") + "\n" + string(style.raw)
	js := string(script.raw)
	for mark, value := range map[string]string{`"{{css}}"`: css, `"{{html}}"`: html} {
		quoted, _ := json.Marshal(value) // a valid JavaScript string literal too
		if !strings.Contains(js, mark) {
			return fmt.Errorf("embed.js lacks its %s placeholder", mark)
		}
		js = strings.Replace(js, mark, string(quoted), 1)
	}
	js = string(h.versionURLs([]byte(js)))
	// Without wasm_exec.js (not built yet) the embed still loads, and says
	// how to build it.
	if exec, ok := h.assets[WasmExecPath]; ok {
		if b, err := exec.identity(); err == nil {
			js = string(b) + "\n" + js
		}
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write([]byte(js))
	if err := zw.Close(); err != nil {
		return err
	}
	h.assets[EmbedPath] = &asset{ctype: script.ctype, raw: []byte(js), gz: gz.Bytes()}
	return nil
}
