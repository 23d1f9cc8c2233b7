package client

// The lab: a page's own session's faults, ordered through its cookie
// (POST /lab/{action}, docs/api.md). The client only orders them and
// reports the order; what follows (an "expired" notice, refused renewals,
// a dropped socket) reaches it the way a real fault would.

// NoteLab says a lab fault was ordered for the session; Reason is the
// action ("expire", "fail"…), Message what was asked.
const NoteLab Kind = "lab"

// Lab orders the lab's action for the client's own session, with body
// (nil for none). done runs on the loop with the answer.
func (c *Client) Lab(action, what string, body []byte, done func(Response)) {
	c.Request("/lab/"+action, body, func(r Response) {
		if r.Err == nil && r.Status/100 == 2 {
			c.event("lab: " + what)
			c.note(Note{Kind: NoteLab, Reason: action, Message: what})
		} else {
			code, msg, _ := ErrorOf(r)
			c.fail(code, "lab "+action+" refused: "+msg, "")
		}
		done(r)
	})
}

// from names a notice's cause for the timeline: " (lab)" for a fault
// ordered through the lab, "" for the token's own clock.
func from(reason string) string {
	if reason == "" {
		return ""
	}
	return " (" + reason + ")"
}

// labRefusal is the HTTP error code of a renewal the lab failed on
// purpose with 401: the session goes on, so the client retries rather
// than signing out.
const labRefusal = "lab_unauthorized"
