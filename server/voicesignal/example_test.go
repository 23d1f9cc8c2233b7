package voicesignal_test

import (
	"fmt"

	"github.com/tokenlab/tokenlab/server/voicesignal"
)

// The server's answer to an accepted listen: the Device arms
// tokenWillExpire from the ttl.
func ExampleEncode() {
	b, _ := voicesignal.Encode(voicesignal.TypeConnected, voicesignal.Connected{
		Token: &voicesignal.TokenInfo{Identity: "alice", TTL: 3600}})
	fmt.Println(string(b))
	// Output: {"type":"connected","version":"1.6","payload":{"token":{"identity":"alice","ttl":3600}}}
}

func ExampleDecode() {
	m, err := voicesignal.Decode([]byte(`{"payload":{"media":{"audio":true}},"type":"register","version":"1.6"}`))
	if err != nil {
		panic(err)
	}
	var r voicesignal.Register
	m.PayloadInto(&r)
	fmt.Println(m.Type, r.Media.Audio)
	// Output: register true
}
