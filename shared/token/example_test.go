package token_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/shared/token"
)

func ExampleDecode() {
	tok, err := token.Decode(tutorialToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("identity:", tok.Claims.Identity())
	fmt.Println("grants:", tok.Claims.Grants.Keys())
	fmt.Println("room:", tok.Claims.Grants.Video.Room)
	fmt.Println("exp:", tok.Claims.ExpiresAt().UTC().Format(time.RFC3339))
	fmt.Println("ttl:", tok.Claims.TTL())
	// Output:
	// identity: susan
	// grants: [video]
	// room: My Room
	// exp: 2021-01-11T16:42:27Z
	// ttl: 1h0m0s
}

func ExampleDecode_error() {
	_, err := token.Decode("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9")
	fmt.Println(errors.Is(err, token.ErrNotJWT))
	fmt.Println(err)
	// Output:
	// true
	// not a JWT: a JWT has 3 dot-separated segments (header.payload.signature), this has 2
}

func ExampleParseGrantsStrict() {
	_, err := token.ParseGrantsStrict([]byte(`{"identity":"alice","voice":{"outgoing":{"applicationSid":"AP00000000000000000000000000000004"}}}`))
	fmt.Println(err)
	fmt.Println(errors.Is(err, token.ErrUnknownField))
	// Output:
	// grants.voice.outgoing.applicationSid is not a known field: keys are case-sensitive snake_case, write "application_sid"
	// true
}

func ExampleCheckGrants() {
	_, problems := token.CheckGrants([]byte(`{"sync":{},"video":{"room":5}}`))
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// grants.sync is not a Twilio grant: did you mean "data_sync"? (known: identity, video, chat, ip_messaging, data_sync, voice, task_router, player, rtc)
	// grants.video.room must be a string, not the number 5
}

func ExampleClaims_Remaining() {
	c := token.Claims{Nbf: 1_700_000_000, Exp: 1_700_003_600}
	now := time.Unix(1_700_003_000, 0) // the caller's clock
	fmt.Println(c.Remaining(now), c.Expired(now))
	fmt.Println(c.Remaining(now.Add(time.Hour)), c.Expired(now.Add(time.Hour)))
	// Output:
	// 10m0s false
	// -50m0s true
}
