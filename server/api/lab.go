package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tokenlab/tokenlab/server/config"
	"github.com/tokenlab/tokenlab/server/hub"
	"github.com/tokenlab/tokenlab/server/sdkconn"
	"github.com/tokenlab/tokenlab/server/session"
)

// The lab's routes make a session's token faults happen now (server/hub's
// lab.go does the work). An operator names the session in the path
// (/admin/sessions/{id}/…, the admin guard's auth); a page acts on its own
// session through its cookie (/lab/…, the same origin rules as
// /token/refresh). Both take the same bodies and give the same answers.

// FailRequest is the body of POST …/fail: the next Count renewals (1 when
// absent; 0 clears the order) wait DelayMS and then fail with Status, or
// mint when Status is absent.
type FailRequest struct {
	Count      *int `json:"count"`
	Status     int  `json:"status"`
	RetryAfter int  `json:"retry_after"` // seconds, with 429 and 503; 1 when absent
	DelayMS    int  `json:"delay_ms"`
}

// SkewRequest is the body of POST …/skew: the session's next tokens are
// minted as by a server whose clock is Seconds ahead (negative: behind).
type SkewRequest struct {
	Seconds *int64 `json:"seconds"`
}

// DropRequest is the body of POST …/drop: the close code the session's
// sockets get (1006: cut without a close frame).
type DropRequest struct {
	Code *int `json:"code"`
}

// LabResponse answers every lab route.
type LabResponse struct {
	Session string `json:"session"`
	Action  string `json:"action"`
	// Connections is the number of the session's sockets the action
	// reached (expire, warn, drop).
	Connections int `json:"connections"`
	// SDKConnections is the number of Twilio SDK sockets (twilsock, Voice
	// signaling) of the session's identity the action reached.
	SDKConnections int `json:"sdk_connections"`
}

// sdkLab is an SDK endpoint the lab's faults reach, by identity.
type sdkLab interface {
	Lab(identity string, f sdkconn.Fault, code int) int
}

// sdkLabs are the SDK endpoints of the server.
type sdkLabs []sdkLab

// apply applies f to every endpoint's connections of identity.
func (s sdkLabs) apply(identity string, f sdkconn.Fault, code int) int {
	n := 0
	for _, e := range s {
		n += e.Lab(identity, f, code)
	}
	return n
}

// sdkFaults are the SDK faults of the lab's actions that have one.
var sdkFaults = map[string]sdkconn.Fault{"expire": sdkconn.FaultExpire, "warn": sdkconn.FaultWarn, "drop": sdkconn.FaultDrop}

// labAction is one lab action on the session id; code is drop's close
// code, for the SDK sockets.
type labAction func(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (conns, code int, err error)

// labActions are the lab's actions by name, as they appear in the paths.
var labActions = map[string]labAction{
	"expire": func(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (int, int, error) {
		if err := decodeNothing(w, r); err != nil {
			return 0, 0, err
		}
		n, err := h.ExpireNow(id)
		return n, 0, err
	},
	"warn": func(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (int, int, error) {
		if err := decodeNothing(w, r); err != nil {
			return 0, 0, err
		}
		n, err := h.WarnNow(id)
		return n, 0, err
	},
	"fail": labFail,
	"skew": labSkew,
	"drop": labDrop,
}

// labNames lists labActions' names in the order docs/api.md gives them.
var labNames = []string{"expire", "warn", "fail", "skew", "drop"}

func labFail(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (int, int, error) {
	req, err := decodeLab[FailRequest](w, r, `{"count": 2, "status": 503}`)
	if err != nil {
		return 0, 0, err
	}
	f, err := req.fault()
	if err != nil {
		return 0, 0, err
	}
	return 0, 0, h.FailRenewals(id, f)
}

// fault checks req and turns it into the hub's order.
func (req FailRequest) fault() (hub.Fault, error) {
	count := 1
	if req.Count != nil {
		count = *req.Count
	}
	if count < 0 || count > hub.MaxFaultRenewals {
		return hub.Fault{}, invalid("count", "count must be from 0 (clear) to %d renewals, got %d", hub.MaxFaultRenewals, count)
	}
	if req.Status != 0 && !slices.Contains(hub.FaultStatuses, req.Status) {
		return hub.Fault{}, invalid("status", "status must be one of %v, got %d", hub.FaultStatuses, req.Status)
	}
	maxDelay := int(hub.MaxFaultDelay / time.Millisecond)
	if req.DelayMS < 0 || req.DelayMS > maxDelay {
		return hub.Fault{}, invalid("delay_ms", "delay_ms must be from 0 to %d milliseconds, got %d", maxDelay, req.DelayMS)
	}
	retries := req.Status == http.StatusTooManyRequests || req.Status == http.StatusServiceUnavailable
	maxRetry := int(hub.MaxRetryAfter / time.Second)
	switch {
	case req.RetryAfter != 0 && !retries:
		return hub.Fault{}, invalid("retry_after", "retry_after goes with status 429 or 503 only, not %d", req.Status)
	case req.RetryAfter < 0 || req.RetryAfter > maxRetry:
		return hub.Fault{}, invalid("retry_after", "retry_after must be from 1 to %d seconds, got %d", maxRetry, req.RetryAfter)
	case count > 0 && req.Status == 0 && req.DelayMS == 0:
		return hub.Fault{}, invalid("status", "give status (one of %v) to fail the renewals, or delay_ms to delay them", hub.FaultStatuses)
	}
	f := hub.Fault{Count: count, Status: req.Status, Delay: time.Duration(req.DelayMS) * time.Millisecond}
	if retries {
		f.RetryAfter = time.Duration(max(req.RetryAfter, 1)) * time.Second
	}
	return f, nil
}

func labSkew(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (int, int, error) {
	req, err := decodeLab[SkewRequest](w, r, `{"seconds": -300}`)
	if err != nil {
		return 0, 0, err
	}
	maxSkew := int64(hub.MaxSkew / time.Second)
	switch {
	case req.Seconds == nil:
		return 0, 0, invalid("seconds", "seconds is required: how far the minting clock is off, from %d to %d (0 clears)", -maxSkew, maxSkew)
	case *req.Seconds < -maxSkew || *req.Seconds > maxSkew:
		return 0, 0, invalid("seconds", "seconds must be from %d to %d (a day either way), got %d", -maxSkew, maxSkew, *req.Seconds)
	}
	return 0, 0, h.Skew(id, time.Duration(*req.Seconds)*time.Second)
}

func labDrop(w http.ResponseWriter, r *http.Request, h *hub.Hub, id string) (int, int, error) {
	req, err := decodeLab[DropRequest](w, r, `{"code": 1006}`)
	if err != nil {
		return 0, 0, err
	}
	if req.Code == nil || !slices.Contains(hub.DropCodes, *req.Code) {
		got := "none"
		if req.Code != nil {
			got = strconv.Itoa(*req.Code)
		}
		return 0, 0, invalid("code", "code must be one of %v (1006: cut without a close frame), got %s", hub.DropCodes, got)
	}
	n, err := h.Drop(id, *req.Code)
	return n, *req.Code, err
}

// decodeLab reads a lab route's body; an empty one is refused with an
// example of what to send.
func decodeLab[T any](w http.ResponseWriter, r *http.Request, example string) (T, error) {
	v, err := decode[T](w, r)
	if errors.Is(err, errEmptyBody) {
		return v, &Error{Code: CodeBadJSON, Message: r.URL.Path + " takes a JSON object, e.g. " + example}
	}
	return v, err
}

// decodeNothing reads the body of a lab route that takes no fields: none,
// or {}. Anything else is refused rather than ignored, so that an order
// with options these routes do not have ({"lead_ms":…}) is not taken for
// one that was carried out as asked.
func decodeNothing(w http.ResponseWriter, r *http.Request) error {
	_, err := decode[struct{}](w, r)
	var e *Error
	switch {
	case errors.Is(err, errEmptyBody):
		return nil
	case errors.As(err, &e) && e.Code == CodeUnknownField:
		e.Message = r.URL.Path + " takes no fields, but got " + strconv.Quote(e.Field) + ": send no body, or {}"
	}
	return err
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}

// labOn answers 403 on the lab's routes when the lab is off.
func labOn(on bool, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if on {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, log, &Error{Code: CodeLabOff,
				Message: "the lab is off on this server: set " + config.EnvLab + "=on (or serve --lab=on) to use " + r.URL.Path})
		})
	}
}

// handleAdminLab runs action on the session in the path:
// POST /admin/sessions/{id}/{action}.
func handleAdminLab(log *slog.Logger, h *hub.Hub, sdk sdkLabs, name string) http.Handler {
	act := labActions[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !validSessionID(id) {
			writeError(w, r, log, &Error{Code: CodeInvalidField, Field: "id",
				Message: "id must be a session id as GET /admin/sessions lists it (26 characters A-Z and 2-7)"})
			return
		}
		s, _ := h.Lookup(id)
		runLab(w, r, log, h, sdk, name, act, id, s.Identity)
	})
}

// handleOwnLab runs action on the caller's own session: POST /lab/{action}.
func handleOwnLab(log *slog.Logger, sessions *session.Manager, h *hub.Hub, sdk sdkLabs, name string) http.Handler {
	act := labActions[name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.FromRequest(r)
		if err == nil {
			err = h.Learn(s)
		}
		if err != nil {
			writeSessionError(w, r, log, err)
			return
		}
		runLab(w, r, log, h, sdk, name, act, s.ID, s.Identity)
	})
}

// runLab runs act on the session id and, for the actions the SDKs know,
// on the SDK sockets of its identity.
func runLab(w http.ResponseWriter, r *http.Request, log *slog.Logger, h *hub.Hub, sdk sdkLabs, name string, act labAction, id, identity string) {
	n, code, err := act(w, r, h, id)
	if err != nil {
		writeError(w, r, log, err)
		return
	}
	ans := LabResponse{Session: id, Action: name, Connections: n}
	if f, ok := sdkFaults[name]; ok {
		ans.SDKConnections = sdk.apply(identity, f, code)
	}
	log.InfoContext(r.Context(), "lab fault", "session", id, "action", name, "connections", n, "sdk_connections", ans.SDKConnections)
	encode(w, http.StatusOK, ans)
}

// faultError maps a renewal the lab failed on purpose to its answer, and
// sets Retry-After when the fault has one.
func faultError(w http.ResponseWriter, err error) error {
	var f *hub.FaultError
	if !errors.As(err, &f) {
		return err
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
	}
	code := CodeLabUnavailable
	switch f.Status {
	case http.StatusUnauthorized:
		code = CodeLabUnauthorized
	case http.StatusTooManyRequests:
		code = CodeLabRateLimited
	case http.StatusInternalServerError:
		code = CodeLabInternal
	}
	return &Error{Code: code, Message: f.Error()}
}
