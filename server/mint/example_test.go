package mint_test

import (
	"fmt"
	"time"

	"github.com/tokenlab/tokenlab/server/mint"
	"github.com/tokenlab/tokenlab/shared/token"
)

func ExampleMinter_Mint() {
	m, err := mint.New(mint.Credentials{
		AccountSID:   "AC15c1737bf14064d2278d616face3f17f",
		APIKeySID:    "SK21c17013f3face8fdc4e4623b0a9d2c1",
		APIKeySecret: "example-secret",
	}, func() time.Time { return time.Unix(1610379747, 0) })
	if err != nil {
		panic(err)
	}
	minted, err := m.Mint("susan", token.Grants{Video: &token.VideoGrant{Room: "My Room"}}, mint.DefaultTTL)
	if err != nil {
		panic(err)
	}
	t, err := m.Verify(minted.Token)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(t.HeaderJSON))
	fmt.Println(string(t.PayloadJSON))
	// Output:
	// {"alg":"HS256","cty":"twilio-fpa;v=1","typ":"JWT"}
	// {"jti":"SK21c17013f3face8fdc4e4623b0a9d2c1-1610379747","grants":{"identity":"susan","video":{"room":"My Room"}},"iss":"SK21c17013f3face8fdc4e4623b0a9d2c1","exp":1610383347,"nbf":1610379747,"sub":"AC15c1737bf14064d2278d616face3f17f"}
}
