package api_test

import (
	"strings"
	"testing"

	"github.com/tokenlab/tokenlab/server/api"
	"github.com/tokenlab/tokenlab/server/config"
)

// labApp is the hostile lab server's one allowed origin.
const labApp = "http://localhost:3000"

// hostileLab attacks the lab's routes on a server with TOKENLAB_LAB=on
// and labApp allowed.
func hostileLab() []httpAttack {
	const js = "application/json"
	own := func(name, action, body string, status int, code, field string) httpAttack {
		return httpAttack{name: name, method: "POST", path: "/lab/" + action, cookie: "valid", contentType: js, body: body, status: status, code: code, field: field}
	}
	op := func(name, action, body string, status int, code, field string) httpAttack {
		a := own(name, action, body, status, code, field)
		a.path, a.cookie = "/admin/sessions/{valid}/"+action, ""
		return a
	}
	return []httpAttack{
		own("fail: bad JSON", "fail", `{"count":2,`, 400, api.CodeBadJSON, ""),
		own("fail: a JSON array", "fail", `[{"count":2}]`, 400, api.CodeBadJSON, ""),
		own("fail: unknown field", "fail", `{"count":2,"status":503,"code":1}`, 400, api.CodeUnknownField, "code"),
		own("fail: a key in capitals", "fail", `{"COUNT":2,"status":503}`, 400, api.CodeUnknownField, "COUNT"),
		own("fail: count over the bound", "fail", `{"count":1000000,"status":503}`, 400, api.CodeInvalidField, "count"),
		own("fail: count a float", "fail", `{"count":1.5,"status":503}`, 400, api.CodeInvalidField, "count"),
		own("fail: status 200", "fail", `{"status":200}`, 400, api.CodeInvalidField, "status"),
		own("fail: status huge", "fail", `{"status":99999999999}`, 400, api.CodeInvalidField, "status"),
		own("fail: delay negative", "fail", `{"delay_ms":-1}`, 400, api.CodeInvalidField, "delay_ms"),
		op("fail: delay over 20 s", "fail", `{"delay_ms":3600000}`, 400, api.CodeInvalidField, "delay_ms"),
		own("skew: a string", "skew", `{"seconds":"3600"}`, 400, api.CodeInvalidField, "seconds"),
		op("skew: over a day", "skew", `{"seconds":9223372036854775807}`, 400, api.CodeInvalidField, "seconds"),
		own("skew: null", "skew", `{"seconds":null}`, 400, api.CodeInvalidField, "seconds"),
		own("drop: close code 1005", "drop", `{"code":1005}`, 400, api.CodeInvalidField, "code"),
		op("drop: close code 0", "drop", `{"code":0}`, 400, api.CodeInvalidField, "code"),
		own("drop: code given twice", "drop", `{"code":1001,"code":4002}`, 400, api.CodeDuplicateField, "code"),
		own("expire: no body", "expire", "", 200, "", ""),
		own("expire: an empty object", "expire", `{}`, 200, "", ""),
		own("expire: a field it does not take", "expire", `{"count":2}`, 400, api.CodeUnknownField, "count"),
		op("warn: a field it does not take", "warn", `{"lead_ms":5000}`, 400, api.CodeUnknownField, "lead_ms"),
		own("warn: bad JSON", "warn", `{"a":`, 400, api.CodeBadJSON, ""),
		own("expire: null", "expire", `null`, 400, api.CodeBadJSON, ""),
		own("warn: a JSON string", "warn", `"now"`, 400, api.CodeBadJSON, ""),
		{name: "expire: a form post", method: "POST", path: "/lab/expire", cookie: "valid", contentType: "application/x-www-form-urlencoded", body: "a=b", status: 415, code: api.CodeUnsupportedMedia},
		{name: "fail: text/plain (no preflight)", method: "POST", path: "/lab/fail", cookie: "valid", contentType: "text/plain", body: `{"status":503}`, status: 415, code: api.CodeUnsupportedMedia},
		{name: "fail: cross-site", method: "POST", path: "/lab/fail", cookie: "valid", contentType: js, body: `{"status":503}`, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403, code: api.CodeCrossOrigin},
		{name: "fail: without a cookie", method: "POST", path: "/lab/fail", contentType: js, body: `{"status":503}`, status: 401, code: api.CodeNoSession},
		{name: "fail: a revoked session", method: "POST", path: "/lab/fail", cookie: "revoked", contentType: js, body: `{"status":503}`, status: 401, code: api.CodeSessionRevoked},
		{name: "fail: a tampered cookie", method: "POST", path: "/lab/fail", cookie: "tampered", contentType: js, body: `{"status":503}`, status: 401, code: api.CodeSessionInvalid},
		{name: "operator: unknown session", method: "POST", path: "/admin/sessions/" + strings.Repeat("A", 26) + "/skew", contentType: js, body: `{"seconds":1}`, status: 404, code: api.CodeNotLive},
		{name: "operator: malformed id", method: "POST", path: "/admin/sessions/..%2fx/drop", contentType: js, body: `{"code":1001}`, status: 400, code: api.CodeInvalidField, field: "id"},
		{name: "operator: through a proxy", method: "POST", path: "/admin/sessions/{valid}/expire", header: map[string]string{"X-Forwarded-For": "192.0.2.7"}, status: 403, code: api.CodeAdminForbidden},
		// A page at an allowed origin may order its own session's faults
		// (/lab/…), never act as the operator: in a browser on the
		// operator's machine it is a loopback client, and these POSTs
		// need no preflight.
		{name: "operator: expire from an allowed origin", method: "POST", path: "/admin/sessions/{valid}/expire", header: map[string]string{"Origin": labApp, "Sec-Fetch-Site": "same-site"}, status: 403, code: api.CodeCrossOrigin},
		{name: "operator: revoke from an allowed origin", method: "POST", path: "/admin/sessions/{valid}/revoke", header: map[string]string{"Origin": labApp, "Sec-Fetch-Site": "same-site"}, status: 403, code: api.CodeCrossOrigin},
		{name: "operator: drop from an allowed origin, Origin only", method: "POST", path: "/admin/sessions/{valid}/drop", contentType: js, body: `{"code":1001}`, header: map[string]string{"Origin": labApp}, status: 403, code: api.CodeCrossOrigin},
		{name: "own: expire from a look-alike origin", method: "POST", path: "/lab/expire", cookie: "valid", header: map[string]string{"Origin": labApp + ".evil.test"}, status: 403, code: api.CodeCrossOrigin},
		{name: "own: expire from another port of the same site", method: "POST", path: "/lab/expire", cookie: "valid", header: map[string]string{"Origin": "http://localhost:3001", "Sec-Fetch-Site": "same-site"}, status: 403, code: api.CodeCrossOrigin},
		{name: "own: fail from the allowed origin", method: "POST", path: "/lab/fail", cookie: "valid", contentType: js, body: `{"count":0}`, header: map[string]string{"Origin": labApp, "Sec-Fetch-Site": "same-site"}, status: 200},
		{name: "operator: warn from tokenlab's own page", method: "POST", path: "/admin/sessions/{valid}/warn", header: map[string]string{"Sec-Fetch-Site": "same-origin"}, status: 200},
		{name: "operator: GET", method: "GET", path: "/admin/sessions/{valid}/expire", status: 405, code: api.CodeMethodNotAllowed, allow: "POST"},
		// None of the refused orders took: a renewal mints.
		{name: "refresh after the refusals", method: "POST", path: "/token/refresh", cookie: "valid", status: 200},
	}
}

// TestHostileLab sends the lab's attacks to a real server, over HTTP and
// over TLS.
func TestHostileLab(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			s := newHostileOver(t, tr.tls, func(c *config.Config) { c.Lab, c.AllowedOrigins = true, []string{labApp} })
			runHTTPAttacks(t, s, hostileLab())
		})
	}
}
