// Package device issues and checks device cookies, after OWASP's "Slow
// Down Online Guessing Attacks with Device Cookies": a browser that signed
// in as a user gets a cookie signed by the server naming that user, and
// carries it on later sign-ins. Failures from a browser with a valid
// cookie count against that browser only, so that guesses from elsewhere
// cannot lock the user out of a browser they have used before.
// https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
package device

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/session"
)

// CookieName is the device cookie's name.
const CookieName = "tokenlab_device"

// Lifetime is how long a device cookie is honoured after the sign-in that
// issued it; each successful sign-in issues a fresh one.
const Lifetime = 30 * 24 * time.Hour

// cookiePath sends the cookie to POST /token only (and the /token/…
// routes below it, which ignore it).
const cookiePath = "/token"

// version prefixes every value, so that a later format can tell old ones.
const version = "d1"

// Cookies issues and checks device cookies with one HMAC key.
type Cookies struct {
	key []byte
	now func() time.Time
}

// New returns Cookies signing with key (at least 32 bytes, from the
// server's session key material); nil now means time.Now.
func New(key []byte, now func() time.Time) *Cookies {
	if now == nil {
		now = time.Now
	}
	return &Cookies{key: key, now: now}
}

// Issue returns a new device cookie value for username and when it
// expires. Each value carries a random id: the device's throttle key.
func (c *Cookies) Issue(username string) (value string, expires time.Time) {
	expires = c.now().Add(Lifetime)
	body := version + "." + base64.RawURLEncoding.EncodeToString([]byte(username)) + "." +
		rand.Text() + "." + strconv.FormatInt(expires.Unix(), 10)
	return body + "." + c.sign(body), expires
}

// Device returns the id of a device cookie that the server issued to a
// browser that signed in as username and that has not expired; ok is false
// for anything else (another user's cookie, an altered or expired one).
func (c *Cookies) Device(value, username string) (id string, ok bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", false
	}
	body, sig := value[:i], value[i+1:]
	if !hmac.Equal([]byte(sig), []byte(c.sign(body))) {
		return "", false
	}
	parts := strings.Split(body, ".")
	if len(parts) != 4 || parts[0] != version {
		return "", false
	}
	name, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || string(name) != username {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || !c.now().Before(time.Unix(exp, 0)) {
		return "", false
	}
	return parts[2], true
}

// FromRequest is Device for the cookie r carries, if any.
func (c *Cookies) FromRequest(r *http.Request, username string) (id string, ok bool) {
	for _, ck := range r.CookiesNamed(CookieName) {
		if id, ok := c.Device(ck.Value, username); ok {
			return id, true
		}
	}
	return "", false
}

// Set sends a fresh device cookie for username: HttpOnly, SameSite=Strict,
// Secure over TLS, for the sign-in path only. A sign-in from a page on
// another site over TLS gets it as the session cookie is then
// (session.CrossSite): SameSite=None and Partitioned, so that the app's
// next sign-in from there carries it.
func (c *Cookies) Set(w http.ResponseWriter, r *http.Request, username string) {
	value, expires := c.Issue(username)
	ck := &http.Cookie{
		Name:     CookieName,
		Value:    value,
		Path:     cookiePath,
		Expires:  expires.UTC(),
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
	if session.CrossSite(r) {
		ck.SameSite, ck.Partitioned = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, ck)
}

func (c *Cookies) sign(body string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
