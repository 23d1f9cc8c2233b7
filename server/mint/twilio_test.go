package mint_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	twjwt "github.com/twilio/twilio-go/client/jwt"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

// TestAgainstTwilioGo uses Twilio's own Go helper library as an oracle:
// for every grant, a token from tokenlab and one from twilio-go with the
// same inputs carry the same header fields, claims and grants, and each
// verifies with the other's key handling. Time fields are compared as a
// lifetime only: the two clocks are read a moment apart. twilio-go raises
// any ttl below 3600 to 3600, hence 3600.
func TestAgainstTwilioGo(t *testing.T) {
	sid := func(prefix, digit string) string { return prefix + strings.Repeat(digit, 32) }
	tests := []struct {
		name   string
		ours   token.Grants
		theirs []twjwt.BaseGrant
	}{
		{"video", token.Grants{Video: &token.VideoGrant{Room: "My Room"}},
			[]twjwt.BaseGrant{&twjwt.VideoGrant{Room: "My Room"}}},
		{"video any room", token.Grants{Video: &token.VideoGrant{}},
			[]twjwt.BaseGrant{&twjwt.VideoGrant{}}},
		{"chat", token.Grants{Chat: &token.ChatGrant{ServiceSID: sid("IS", "a"), EndpointID: "ep", DeploymentRoleSID: sid("RL", "b"), PushCredentialSID: sid("CR", "c")}},
			[]twjwt.BaseGrant{&twjwt.ChatGrant{ServiceSid: sid("IS", "a"), EndpointID: "ep", DeploymentRoleSid: sid("RL", "b"), PushCredentialSid: sid("CR", "c")}}},
		{"ip messaging", token.Grants{IPMessaging: &token.ChatGrant{ServiceSID: sid("IS", "d"), EndpointID: "ep2"}},
			[]twjwt.BaseGrant{&twjwt.IpMessagingGrant{ServiceSid: sid("IS", "d"), EndpointID: "ep2"}}},
		{"sync", token.Grants{Sync: &token.SyncGrant{ServiceSID: sid("IS", "e"), EndpointID: "ep3"}},
			[]twjwt.BaseGrant{&twjwt.SyncGrant{ServiceSid: sid("IS", "e"), EndpointID: "ep3"}}},
		{"voice", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{Allow: true},
			Outgoing:          &token.VoiceOutgoing{ApplicationSID: sid("AP", "f"), Params: map[string]any{"to": "+15551234567", "n": 2.0}},
			PushCredentialSID: sid("CR", "1"), EndpointID: "ep4"}},
			[]twjwt.BaseGrant{&twjwt.VoiceGrant{Incoming: twjwt.Incoming{Allow: true},
				Outgoing:          twjwt.Outgoing{ApplicationSid: sid("AP", "f"), ApplicationParams: map[string]any{"to": "+15551234567", "n": 2.0}},
				PushCredentialSid: sid("CR", "1"), EndpointID: "ep4"}}},
		{"voice outgoing only", token.Grants{Voice: &token.VoiceGrant{Incoming: &token.VoiceIncoming{}, Outgoing: &token.VoiceOutgoing{ApplicationSID: sid("AP", "f")}}},
			[]twjwt.BaseGrant{&twjwt.VoiceGrant{Outgoing: twjwt.Outgoing{ApplicationSid: sid("AP", "f")}}}},
		{"task router", token.Grants{TaskRouter: &token.TaskRouterGrant{WorkspaceSID: sid("WS", "2"), WorkerSID: sid("WK", "3"), Role: "worker"}},
			[]twjwt.BaseGrant{&twjwt.TaskRouterGrant{WorkspaceSid: sid("WS", "2"), WorkerSid: sid("WK", "3"), Role: "worker"}}},
		{"player", token.Grants{Player: map[string]any{"playbackGrant": map[string]any{"expiration": 5.0}}},
			[]twjwt.BaseGrant{&twjwt.PlaybackGrant{"playbackGrant": map[string]any{"expiration": 5.0}}}},
		{"rtc", token.Grants{RTC: &token.RTCGrant{ConfigurationProfileSID: sid("CJ", "4")}},
			[]twjwt.BaseGrant{&twjwt.ConversationsGrant{ConfigurationProfileSid: sid("CJ", "4")}}},
		{"video and chat", token.Grants{Video: &token.VideoGrant{Room: "r"}, Chat: &token.ChatGrant{ServiceSID: sid("IS", "5")}},
			[]twjwt.BaseGrant{&twjwt.VideoGrant{Room: "r"}, &twjwt.ChatGrant{ServiceSid: sid("IS", "5")}}},
	}
	for _, region := range []string{"", "au1"} {
		for _, tt := range tests {
			t.Run(tt.name+"/region="+region, func(t *testing.T) {
				c := creds()
				c.Region = region
				m, err := mint.New(c, time.Now)
				if err != nil {
					t.Fatal(err)
				}
				ours, err := m.Mint("susan", tt.ours, time.Hour)
				if err != nil {
					t.Fatalf("tokenlab: %v", err)
				}
				at := twjwt.CreateAccessToken(twjwt.AccessTokenParams{
					AccountSid: accountSID, SigningKeySid: apiKeySID, Secret: secret,
					Identity: "susan", Region: region, Ttl: 3600, Grants: tt.theirs,
				})
				theirs, err := at.ToJwt()
				if err != nil {
					t.Fatalf("twilio-go: %v", err)
				}

				oh, op := segments(t, ours.Token)
				th, tp := segments(t, theirs)
				if !reflect.DeepEqual(oh, th) {
					t.Errorf("header\n ours   %v\n twilio %v", oh, th)
				}
				for _, p := range []map[string]any{op, tp} {
					exp, nbf := p["exp"].(float64), p["nbf"].(float64)
					if exp-nbf != 3600 {
						t.Errorf("lifetime exp-nbf = %v, want 3600", exp-nbf)
					}
					jti, _ := p["jti"].(string)
					if want := apiKeySID + "-"; !strings.HasPrefix(jti, want) || strings.TrimPrefix(jti, want) == "" {
						t.Errorf("jti %q, want %s{unix time}", jti, want)
					}
					delete(p, "exp")
					delete(p, "nbf")
					delete(p, "jti")
				}
				if !reflect.DeepEqual(op, tp) {
					t.Errorf("claims\n ours   %v\n twilio %v", op, tp)
				}

				// twilio-go's token verifies with our key handling…
				if _, err := m.Verify(theirs); err != nil {
					t.Errorf("Minter.Verify(twilio-go token): %v", err)
				}
				// …and ours with a plain golang-jwt parse, the secret used as
				// Twilio uses it (its bytes as the HMAC key), and with
				// twilio-go's own decoder.
				parsed, err := jwt.Parse(ours.Token, func(tok *jwt.Token) (any, error) { return []byte(secret), nil },
					jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(apiKeySID), jwt.WithSubject(accountSID), jwt.WithExpirationRequired())
				if err != nil || !parsed.Valid {
					t.Errorf("golang-jwt parse of our token: %v", err)
				}
				var back twjwt.AccessToken
				decoded, err := back.FromJwt(ours.Token, secret)
				if err != nil {
					t.Fatalf("twilio-go FromJwt of our token: %v", err)
				}
				if decoded.Identity != "susan" || decoded.AccountSid != accountSID || decoded.SigningKeySid != apiKeySID || len(decoded.Grants) != len(tt.theirs) {
					t.Errorf("twilio-go read identity=%q account=%q key=%q %d grants", decoded.Identity, decoded.AccountSid, decoded.SigningKeySid, len(decoded.Grants))
				}
				if _, err := back.FromJwt(ours.Token, "wrong secret"); err == nil {
					t.Error("twilio-go accepted our token with a wrong secret: the oracle proves nothing")
				}
			})
		}
	}
}
