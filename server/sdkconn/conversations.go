package sdkconn

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

// The user's conversations live in a Sync map named in the configuration:
// tokenlab's is always empty. A Sync map's sid starts with MP.
const (
	myConversationsMap = "tokenlab.my_conversations"
	myConversationsSID = "MP00000000000000000000000000000000"
)

// thinAnswer returns the body (HTTP 200, JSON) of an upstream request that
// tokenlab answers itself so that @twilio/conversations 3.0.1 finishes its
// start-up (initialized, and updateToken resolving), as a new user with no
// conversations; ok is false for every other request, which gets the
// "not emulated" answer. The shapes are the fields the SDK reads:
//
//   - GET aim.*/Client/v2/Configuration: identity, links, options and the
//     Sync objects (its Configuration class). my_user_info is left out, so
//     the client does not read the user's own Sync map (its User._fetch
//     skips a user without one).
//   - GET cds.*/v3/Maps/<the conversations map> and its /Items: an empty
//     map (twilio-sync's SyncMapImpl descriptor, and an empty page).
//   - POST cds.*/v4/Subscriptions: accepted, never delivered (nothing
//     changes), with an estimated delivery of an hour so that the client
//     does not ask again and again.
//   - GET the my_conversations link: an empty page of conversations.
func thinAnswer(r *twilsock.HTTPRequest, identity string) (body []byte, ok bool) {
	if r == nil {
		return nil, false
	}
	aim, cds := strings.HasPrefix(r.Host, "aim."), strings.HasPrefix(r.Host, "cds.")
	mapPath := "/v3/Maps/" + myConversationsMap
	switch {
	case aim && r.Method == "GET" && r.Path == "/Client/v2/Configuration":
		return configuration(r.Host, identity)
	case aim && r.Method == "GET" && r.Path == myConversationsPath(identity):
		return marshal(map[string]any{"conversations": []any{}, "meta": emptyPage})
	case cds && r.Method == "GET" && r.Path == mapPath:
		return marshal(map[string]any{
			"sid": myConversationsSID, "unique_name": myConversationsMap,
			"url":      "https://" + r.Host + mapPath,
			"links":    map[string]string{"items": "https://" + r.Host + mapPath + "/Items"},
			"revision": "0", "last_event_id": 0, "date_updated": "2026-01-01T00:00:00.000Z", "date_expires": nil,
			"items": []any{},
		})
	case cds && r.Method == "GET" && r.Path == mapPath+"/Items":
		return marshal(map[string]any{"items": []any{}, "meta": emptyPage})
	case cds && r.Method == "POST" && r.Path == "/v4/Subscriptions":
		return marshal(map[string]any{"estimated_delivery_in_ms": 3_600_000, "max_batch_size": 100})
	}
	return nil, false
}

// emptyPage is the meta of a list with one, empty, page.
var emptyPage = map[string]any{"previous_token": nil, "next_token": nil}

// myConversationsPath is the path of the user's conversations.
func myConversationsPath(identity string) string {
	return "/Client/v2/Users/" + url.PathEscape(identity) + "/Conversations"
}

// configuration answers GET /Client/v2/Configuration on host.
func configuration(host, identity string) ([]byte, bool) {
	base := "https://" + host + "/Client/v2"
	me := base + "/Users/" + url.PathEscape(identity)
	return marshal(map[string]any{
		"identity": identity,
		"links": map[string]string{
			"my_conversations":  "https://" + host + myConversationsPath(identity),
			"conversations":     base + "/Conversations",
			"users":             base + "/Users",
			"current_user":      me,
			"typing":            base + "/Conversations/%s/Typing",
			"media_service":     "https://mcs.us1.twilio.com/v1/Media",
			"media_set_service": "https://mcs.us1.twilio.com/v1/MediaSet",
			"messages_receipts": base + "/Conversations/%s/Messages/%s/Receipts",
		},
		"options": map[string]any{
			"consumption_report_interval": "PT5S",
			"http_cache_interval":         "PT5S",
			"reachability_enabled":        false,
			"user_infos_to_subscribe":     100,
		},
		"sync_objects": map[string]string{"my_conversations": myConversationsMap},
	})
}

func marshal(v any) ([]byte, bool) {
	b, err := json.Marshal(v)
	return b, err == nil
}
