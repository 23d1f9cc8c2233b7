package api_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func BenchmarkTmpBare(b *testing.B) {
	body := make([]byte, 543)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/token/refresh", nil)
		req.Header.Set("Cookie", "tokenlab_session=abc")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
