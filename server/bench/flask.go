package main

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"time"
)

// tutorialServer is the Flask server of the Twilio tutorial tokenlab grew
// from: POST /token with a username and a password, answered with a Video
// token for "My Room" minted by Twilio's Python helper, served by werkzeug
// with a thread per connection, as flask run serves it; it closes each
// connection after one answer, and the load dials again. It is figure 2's
// second baseline: what a user of the tutorial has instead.
const tutorialServer = `
import os, sys
from flask import Flask, request, jsonify
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VideoGrant
from werkzeug.serving import make_server

app = Flask(__name__)

@app.route("/token", methods=["POST"])
def token():
    body = request.get_json(silent=True) or {}
    username, password = body.get("username"), body.get("password")
    if not username or not password:
        return jsonify(error="username and password required"), 401
    t = AccessToken(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_API_KEY_SID"],
                    os.environ["TWILIO_API_KEY_SECRET"], identity=username, ttl=3600)
    t.add_grant(VideoGrant(room="My Room"))
    return jsonify(token=t.to_jwt())

srv = make_server("127.0.0.1", 0, app, threaded=True)
print("ready 127.0.0.1:%d" % srv.server_port, flush=True)
srv.serve_forever()
`

// flaskPythons are the interpreters tried for the tutorial's server, in
// order: Debian's, where make bench installs python3-flask and
// python3-twilio, then the first on PATH.
var flaskPythons = []string{"/usr/bin/python3", "python3"}

// flaskRounds of roundLength each measure the tutorial's server.
const flaskRounds = 3

// benchFlask measures the tutorial's Flask server under figure 2's load,
// or says why it could not.
func (b *bench) benchFlask(ctx context.Context) error {
	python := ""
	for _, p := range flaskPythons {
		if exec.CommandContext(ctx, p, "-c", "import flask, twilio.jwt.access_token").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		return errors.New("no python3 with Flask and Twilio's helper (apt-get install python3-flask python3-twilio)")
	}
	b.logf("figure 2: the tutorial's Flask server (%s)", python)
	srv, err := startProcess(ctx, "flask", exec.Command(python, "-c", tutorialServer),
		[]string{"TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000", "TWILIO_API_KEY_SID=SK00000000000000000000000000000000",
			"TWILIO_API_KEY_SECRET=bench-secret-for-the-tutorial-server"}, b.path("flask.log"))
	if err != nil {
		return err
	}
	defer srv.stop()
	req := postRequest(srv.addr, "/token", "", []byte(`{"username":"alice","password":"pw"}`))
	next := func(int) []byte { return req }
	runLoad(ctx, srv.addr, httpConns, 500*time.Millisecond, http.StatusOK, next) // warm-up
	for range flaskRounds {
		res := runLoad(ctx, srv.addr, httpConns, roundLength, http.StatusOK, next)
		s := summarize(res)
		if res.failed > 0 {
			b.logf("  flask: %d failed requests, first: %v", res.failed, res.firstError)
		}
		b.logf("  tutorial's Flask server %8.0f req/s  p50 %-10v p99 %v", s.rps, s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond))
		b.fig2.flask = append(b.fig2.flask, s)
	}
	return ctx.Err()
}
