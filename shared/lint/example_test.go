package lint_test

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/shared/lint"
)

func ExampleCheck() {
	// The tutorial's token, read two minutes after it expired.
	at := time.Unix(1_610_383_347, 0).Add(2 * time.Minute)
	findings := lint.Check(tutorialToken, at)
	for _, f := range findings {
		fmt.Println(f)
	}
	fmt.Println("refused:", lint.HasErrors(findings))
	// Output:
	// error 20104 exp: the token expired 2m ago (at 2021-01-11T16:42:27Z): mint a new one, and renew tokens before they expire
	// refused: true
}

func ExampleCheck_grants() {
	b64 := base64.RawURLEncoding.EncodeToString
	header := `{"typ":"JWT","alg":"HS256","cty":"twilio-fpa;v=1"}`
	payload := `{"jti":"SK21c17013f3face8fdc4e4623b0a9d2c1-1700000000",
		"iss":"SK21c17013f3face8fdc4e4623b0a9d2c1","sub":"AC15c1737bf14064d2278d616face3f17f",
		"nbf":1700000000,"exp":1700003600,
		"grants":{"identity":"alice","sync":{},"voice":{"incoming":{"allow":false}}}}`
	raw := b64([]byte(header)) + "." + b64([]byte(payload)) + "." + b64(make([]byte, 32))
	for _, f := range lint.Check(raw, time.Unix(1_700_000_600, 0)) {
		fmt.Println(f)
	}
	// Output:
	// warning 20106 grants.sync: is not a Twilio grant: did you mean "data_sync"? (known: identity, video, chat, ip_messaging, data_sync, voice, task_router, player, rtc); Twilio ignores it, so the token does not carry what it was meant to
	// warning 20106 grants.voice.incoming: is present but allow is not true, so the client cannot receive calls (Twilio's libraries leave incoming out unless allowed): set "allow": true, or remove incoming
}
