package lint

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tokenlab/tokenlab/shared/jsonlite"
	"github.com/tokenlab/tokenlab/shared/token"
)

// identityProducts names, per grant key, the product that needs the
// token's identity to know who the client is.
var identityProducts = []struct{ key, product string }{
	{token.KeyVideo, "Video"},
	{token.KeyChat, "Conversations (chat)"},
	{token.KeyIPMessaging, "Chat (ip_messaging)"},
	{token.KeySync, "Sync"},
	{token.KeyVoice, "Voice"},
}

func (c *checker) checkGrants(p map[string]jsonlite.Value) {
	v, ok := p["grants"]
	if !ok {
		c.add(CodeBadGrants, SeverityError, "grants", `the token has no grants claim: add one with the identity and the grant of the product it is for, e.g. {"identity": "alice", "video": {}}`)
		return
	}
	gm := v.Map()
	if gm == nil {
		c.add(CodeBadGrants, SeverityError, "grants", "must be a JSON object of grants, not "+kindOf(v)+`, e.g. {"identity": "alice", "video": {}}`)
		return
	}
	g, problems := token.CheckGrants(v.Raw)
	id, idIsString := identity(gm)
	for _, pr := range problems {
		c.grantProblem(pr, id)
	}
	c.checkIdentity(gm, id, idIsString)

	known := 0
	for key := range gm {
		if slices.Contains(token.GrantKeys, key) {
			known++
		}
	}
	if known == 0 {
		c.add(CodeBadGrants, SeverityWarning, "grants", "the token carries no grant, so it opens no Twilio product: add the grant of the product it is for ("+strings.Join(token.GrantKeys, ", ")+")")
	}
	c.checkGrantUse(g)
}

// identity returns grants.identity when it is a string.
func identity(gm map[string]jsonlite.Value) (string, bool) {
	v, ok := gm[token.KeyIdentity]
	if !ok || v.Kind != jsonlite.String {
		return "", false
	}
	return v.Str, true
}

// grantProblem turns one of token.CheckGrants' problems into a finding.
func (c *checker) grantProblem(pr *token.FieldError, id string) {
	switch {
	case errors.Is(pr, token.ErrUnknownField):
		c.add(CodeBadGrants, SeverityWarning, pr.Field, pr.Problem+"; Twilio ignores it, so the token does not carry what it was meant to")
	case pr.Field == "grants.identity" && utf8.RuneCountInString(id) > token.MaxIdentityLen:
		c.add(CodeIdentityTooLong, SeverityError, pr.Field, "is "+strconv.Itoa(utf8.RuneCountInString(id))+" characters, over the "+strconv.Itoa(token.MaxIdentityLen)+" Twilio allows: client connections fail; use a short, stable user id")
	case errors.Is(pr, token.ErrOutOfRange) && strings.HasSuffix(pr.Field, ".endpoint_id"):
		c.add(CodeEndpointIDTooLong, SeverityError, pr.Field, pr.Problem+`: client connections fail with a too long endpoint_id; use a short "app:identity:device" id`)
	case errors.Is(pr, token.ErrBadSID) && strings.HasSuffix(pr.Field, ".service_sid"):
		c.add(CodeBadGrants, SeverityError, pr.Field, pr.Problem+": copy the service SID from the Twilio Console (Sync, Chat and Conversations services start with IS; ZS is a Serverless service)")
	case errors.Is(pr, token.ErrBadSID):
		c.add(CodeBadGrants, SeverityError, pr.Field, pr.Problem+": copy the SID from the Twilio Console")
	default:
		c.add(CodeBadGrants, SeverityError, pr.Field, pr.Problem)
	}
}

func (c *checker) checkIdentity(gm map[string]jsonlite.Value, id string, isString bool) {
	_, present := gm[token.KeyIdentity]
	if present && !isString {
		return // CheckGrants reported the type
	}
	if id == "" {
		var need []string
		for _, ip := range identityProducts {
			if _, ok := gm[ip.key]; ok {
				need = append(need, ip.product)
			}
		}
		what := "the token has no identity"
		if present {
			what = "the identity is empty"
		}
		switch {
		case len(need) > 0:
			c.add(CodeBadGrants, SeverityWarning, "grants.identity", what+": "+list(need)+" need one to know who the client is; set grants.identity to a stable user id")
		case len(gm) == 0 || len(gm) == 1 && present:
			c.add(CodeBadGrants, SeverityWarning, "grants.identity", what+": Video, Conversations, Sync and Voice need one to know who the client is; set grants.identity to a stable user id")
		}
		return
	}
	if strings.TrimSpace(id) != id {
		c.add(CodeBadGrants, SeverityWarning, "grants.identity", "is "+quote(id)+`, with white space at an end: "alice" and " alice" are different clients to Twilio; trim it`)
	}
	if _, voice := gm[token.KeyVoice]; voice && !token.VoiceSafeIdentity(id) {
		c.add(CodeBadGrants, SeverityWarning, "grants.identity", "is "+quote(id)+": with a voice grant the identity may hold only letters, digits and underscore, or calls to the client cannot be placed or received; map the user to such an id")
	}
}

// checkGrantUse reports grants that are well formed but will not do what
// their author most likely meant.
func (c *checker) checkGrantUse(g token.Grants) {
	if g.Video != nil && g.Video.Room == "" {
		c.add(CodeBadGrants, SeverityInfo, "grants.video.room", "is not set: the token lets its identity join any room of the account; set room to limit it to one")
	}
	if g.Chat != nil && g.Chat.ServiceSID == "" {
		c.add(CodeBadGrants, SeverityWarning, "grants.chat.service_sid", "is not set: Conversations and Chat need the service (IS…) the client works in")
	}
	if g.IPMessaging != nil {
		if g.IPMessaging.ServiceSID == "" {
			c.add(CodeBadGrants, SeverityWarning, "grants.ip_messaging.service_sid", "is not set: Chat needs the service (IS…) the client works in")
		}
		c.add(CodeBadGrants, SeverityInfo, "grants.ip_messaging", "is the legacy name of the chat grant (Programmable Chat); new code uses \"chat\" with Conversations")
	}
	if g.Sync != nil && g.Sync.ServiceSID == "" {
		c.add(CodeBadGrants, SeverityInfo, "grants.data_sync.service_sid", "is not set: Sync uses the account's default service")
	}
	if v := g.Voice; v != nil {
		if v.Incoming != nil && !v.Incoming.Allow {
			c.add(CodeBadGrants, SeverityWarning, "grants.voice.incoming", `is present but allow is not true, so the client cannot receive calls (Twilio's libraries leave incoming out unless allowed): set "allow": true, or remove incoming`)
		}
		if v.Outgoing != nil && v.Outgoing.ApplicationSID == "" && len(v.Outgoing.Params) == 0 {
			c.add(CodeBadGrants, SeverityWarning, "grants.voice.outgoing", "has no application_sid: outgoing calls need the TwiML application (AP…) that handles them; set it, or remove outgoing")
		}
		if v.Incoming == nil && v.Outgoing == nil {
			c.add(CodeBadGrants, SeverityWarning, "grants.voice", `allows neither incoming nor outgoing calls: add "incoming": {"allow": true} and/or "outgoing": {"application_sid": "AP…"}`)
		}
	}
	if tr := g.TaskRouter; tr != nil {
		if tr.WorkspaceSID == "" {
			c.add(CodeBadGrants, SeverityWarning, "grants.task_router.workspace_sid", "is not set: TaskRouter needs the workspace (WS…) the client works in")
		}
		if tr.WorkerSID == "" {
			c.add(CodeBadGrants, SeverityWarning, "grants.task_router.worker_sid", "is not set: the TaskRouter worker SDK needs the worker (WK…) the client acts as")
		}
	}
	if g.Player != nil {
		c.add(CodeBadGrants, SeverityInfo, "grants.player", "is the opaque grant Twilio's PlaybackGrant API hands out: lint does not check its content")
	}
	if g.RTC != nil {
		c.add(CodeBadGrants, SeverityInfo, "grants.rtc", "is the deprecated Conversations (rtc) grant: Programmable Video's \"video\" grant replaced it")
	}
}
