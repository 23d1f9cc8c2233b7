package session

import (
	"net/http"
	"testing"
)

// agreesWithNetHTTP checks cookieValue against (*http.Request).Cookie on
// the given Cookie header lines.
func agreesWithNetHTTP(t *testing.T, lines ...string) {
	t.Helper()
	r := &http.Request{Header: http.Header{"Cookie": lines}}
	want, err := r.Cookie(CookieName)
	got, ok := cookieValue(r.Header)
	switch {
	case err != nil && ok:
		t.Fatalf("%q: found %q, net/http finds no cookie", lines, got)
	case err == nil && (!ok || got != want.Value):
		t.Fatalf("%q: found %q (%v), net/http finds %q", lines, got, ok, want.Value)
	}
}

func TestCookieValueIsNetHTTPs(t *testing.T) {
	for _, lines := range [][]string{
		nil,
		{""},
		{"tokenlab_session=abc"},
		{"a=1; tokenlab_session=abc; b=2"},
		{"  tokenlab_session = abc  "},
		{"tokenlab_session=\"abc\""},
		{"tokenlab_session=\"abc"},
		{"tokenlab_session="},
		{"tokenlab_session"},
		{"tokenlab_session=a\\b; tokenlab_session=second"},
		{"tokenlab_session=a b"},
		{"tokenlab_session=a,b"},
		{"tokenlab_session=a\tb; tokenlab_session=ok"},
		{"Tokenlab_session=upper"},
		{"x=1", "tokenlab_session=in-the-second-line"},
		{"tokenlab_session=first", "tokenlab_session=second"},
		{";;; tokenlab_session=after-empty-parts ;"},
		{"tokenlab_session==x"},
		{"tokenlab_session=é"},
		{"\"tokenlab_session\"=quoted-name"},
	} {
		agreesWithNetHTTP(t, lines...)
	}
}

func FuzzCookieValue(f *testing.F) {
	for _, s := range []string{"tokenlab_session=abc", "a=1; tokenlab_session=\"v\"; b", " tokenlab_session = x ; tokenlab_session=y", "tokenlab_session=a\x00b"} {
		f.Add(s, "")
		f.Add("x=y", s)
	}
	f.Fuzz(func(t *testing.T, first, second string) {
		agreesWithNetHTTP(t, first)
		agreesWithNetHTTP(t, first, second)
	})
}
