package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/server/session"
	"github.com/tokenlab/tokenlab/server/users"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// TokenResponse is the answer to POST /token, defined beside the socket
// messages for every side that reads it.
type TokenResponse = protocol.TokenAnswer

// tokenRequest is a sign-in, from JSON, a form or HTTP Basic auth plus an
// optional body.
type tokenRequest struct {
	Username *string         `json:"username"`
	Password *string         `json:"password"`
	TTL      *int64          `json:"ttl"`
	Grants   json.RawMessage `json:"grants"`
}

// basicRealm is announced on 401 answers to HTTP Basic sign-ins.
const basicRealm = `Basic realm="tokenlab"`

// handleToken signs a user in and answers with a fresh token: the
// tutorial's endpoint, with real password checks and a grant policy.
// Each sign-in starts a new session: its cookie is set, and the hub learns
// its token.
func handleToken(log *slog.Logger, auth users.Authenticator, minter *mint.Minter, guard *signInGuard,
	sessions *session.Manager, h *hub.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, basic := r.BasicAuth()
		fail := func(err error) {
			if e, _ := toError(err); basic && e.Status() == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", basicRealm)
			}
			writeError(w, r, log, err)
		}
		req, err := readTokenRequest(w, r)
		if err != nil {
			fail(err)
			return
		}
		username, password := deref(req.Username), deref(req.Password)
		if u, p, ok := r.BasicAuth(); ok {
			username, password = u, p
		}
		// One user whichever Unicode form the client typed "é" in.
		username = users.Normalize(username)
		if username == "" || password == "" {
			fail(&Error{Code: CodeMissingCredentials,
				Message: "send a username and a password: as JSON {\"username\",\"password\"}, as a form, or with HTTP Basic auth"})
			return
		}
		if err := token.CheckIdentity("username", username); err != nil {
			fail(err)
			return
		}
		ttl := int64(token.DefaultTTL)
		if req.TTL != nil {
			ttl = *req.TTL
			if err := token.CheckTTL("ttl", ttl); err != nil {
				fail(err)
				return
			}
		}
		grants := DefaultGrants()
		if g := bytes.TrimSpace(req.Grants); len(g) > 0 && !bytes.Equal(g, []byte("null")) {
			asked, err := token.ParseGrantsStrict(g)
			if err != nil {
				fail(err)
				return
			}
			if asked.Identity != "" && users.Normalize(asked.Identity) != username {
				fail(&token.FieldError{Field: "grants.identity", Problem: "must be omitted or equal the username: the identity is the signed-in user"})
				return
			}
			if len(asked.Keys()) > 0 {
				grants = asked
			}
		}
		user, err := guard.authenticate(w, r, auth, username, password)
		if err != nil {
			fail(err)
			return
		}
		if err := user.Allows(grants); err != nil {
			fail(err)
			return
		}
		minted, err := minter.Mint(user.Identity, grants, time.Duration(ttl)*time.Second)
		if err != nil {
			fail(err)
			return
		}
		id, err := startSession(w, r, sessions, h, user, minted)
		if err != nil {
			fail(err)
			return
		}
		// Cache-Control: no-store comes with secureHeaders, as on every API answer.
		encode(w, http.StatusOK, tokenResponse(minted, id))
	})
}

// readTokenRequest reads a JSON or form body; an empty body is an empty
// request (HTTP Basic auth may carry the credentials).
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, error) {
	switch mt := mediaType(r); mt {
	case "application/json":
		req, err := decode[tokenRequest](w, r)
		if err == errEmptyBody {
			return tokenRequest{}, nil
		}
		return req, err
	case "application/x-www-form-urlencoded", "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		var err error
		if mt == "multipart/form-data" {
			err = r.ParseMultipartForm(MaxBodyBytes)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			return tokenRequest{}, formError(err)
		}
		return formTokenRequest(r)
	case "":
		// curl -u user:pass -X POST sends no body and no Content-Type; some
		// clients send JSON without saying so.
		req, err := decode[tokenRequest](w, r)
		if err == errEmptyBody {
			return tokenRequest{}, nil
		}
		return req, err
	default:
		return tokenRequest{}, unsupportedMedia()
	}
}

// formTokenRequest reads a parsed form as strictly as decode reads JSON:
// only the JSON request's fields, each at most once, ttl in JSON's integer
// syntax and grants without duplicate keys. An empty value is an absent
// field, as a form's blank input sends it.
func formTokenRequest(r *http.Request) (tokenRequest, error) {
	var req tokenRequest
	fields := jsonFields(reflect.TypeFor[tokenRequest]())
	if r.MultipartForm != nil && len(r.MultipartForm.File) > 0 {
		name := clip(slices.Min(slices.Collect(maps.Keys(r.MultipartForm.File))))
		return req, &Error{Code: CodeInvalidField, Field: name,
			Message: fmt.Sprintf("%+q is sent as a file: send every field as a plain form value", name)}
	}
	for _, name := range slices.Sorted(maps.Keys(r.PostForm)) {
		if !slices.Contains(fields, name) {
			return req, unknownField(name, fields)
		}
		if len(r.PostForm[name]) > 1 {
			return req, duplicateField(name)
		}
	}
	if r.PostForm.Has("username") {
		v := r.PostForm.Get("username")
		req.Username = &v
	}
	if r.PostForm.Has("password") {
		v := r.PostForm.Get("password")
		req.Password = &v
	}
	if v := r.PostForm.Get("ttl"); v != "" {
		n, err := parseJSONInt(v)
		if err != nil {
			return req, &Error{Code: CodeInvalidField, Field: "ttl",
				Message: "ttl must be a whole number of seconds from 1 to 86400, written in plain digits (no sign, no leading zero), got " + strconv.Quote(v)}
		}
		req.TTL = &n
	}
	if v := r.PostForm.Get("grants"); v != "" {
		if err := duplicateKeyError("grants", []byte(v)); err != nil {
			return req, err
		}
		req.Grants = json.RawMessage(v)
	}
	return req, nil
}

// parseJSONInt reads s as JSON reads an integer into an int64: an optional
// minus, then 0 or digits without a leading zero ("+600" and "0600" are
// not JSON numbers, and strconv.ParseInt would take them).
func parseJSONInt(s string) (int64, error) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" || len(digits) > 1 && digits[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseInt(s, 10, 64)
}

func unsupportedMedia() error {
	return &Error{Code: CodeUnsupportedMedia,
		Message: "send the body as application/json or application/x-www-form-urlencoded (set Content-Type)"}
}

func formError(err error) error {
	if e, internal := toError(err); !internal {
		return e
	}
	return &Error{Code: CodeInvalidField, Message: "the form body could not be read: " + err.Error()}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
