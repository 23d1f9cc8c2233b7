package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/protocol"
	"github.com/tokenlab/tokenlab/shared/token"
)

// VerifyResponse is the answer to POST /token/verify.
type VerifyResponse = protocol.VerifyAnswer

// handleVerify checks a token's signature against the server's key, for
// the page's "check signature" button: the secret never leaves the server.
func handleVerify(log *slog.Logger, minter *mint.Minter, now func() time.Time) http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		var err error
		switch mt := mediaType(r); mt {
		case "", "application/json":
			req, err = decode[request](w, r)
		case "application/x-www-form-urlencoded":
			// As POST /token does: curl -d token=… works too, as strictly.
			req.Token, err = formToken(w, r)
		default:
			err = &Error{Code: CodeUnsupportedMedia,
				Message: "send the body as application/json ({\"token\": \"<the JWT>\"}) or application/x-www-form-urlencoded (token=<the JWT>), and say so in Content-Type"}
		}
		if errors.Is(err, errEmptyBody) || err == nil && req.Token == "" {
			err = &Error{Code: CodeInvalidField, Field: "token",
				Message: "token is missing: send {\"token\": \"<the JWT>\"}"}
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		t, err := minter.Verify(req.Token)
		if err != nil {
			encode(w, http.StatusOK, VerifyResponse{Reason: err.Error()})
			return
		}
		resp := VerifyResponse{Valid: true,
			Reason: fmt.Sprintf("the HS256 signature matches the secret of API key %s", minter.APIKeySID())}
		if t.Claims.Expired(now()) {
			resp.Expired = true
			resp.Reason += fmt.Sprintf("; the token expired at %s", token.Stamp(t.Claims.Exp))
		}
		encode(w, http.StatusOK, resp)
	})
}

// formToken reads a form with one field, token, given at most once.
func formToken(w http.ResponseWriter, r *http.Request) (string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return "", formError(err)
	}
	for name, values := range r.PostForm {
		if name != "token" {
			return "", unknownField(name, []string{"token"})
		}
		if len(values) > 1 {
			return "", duplicateField(name)
		}
	}
	return r.PostForm.Get("token"), nil
}

// handleHealth answers load balancers and `make run` scripts.
func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
