package protocol_test

import (
	"errors"
	"fmt"

	"github.com/tokenlab/tokenlab/shared/protocol"
)

func ExampleDecode() {
	m, err := protocol.Decode([]byte(`{"type":"expiring","server_time_ms":1700003540000,"jti":"SK21c17013f3face8fdc4e4623b0a9d2c1-1700000000","exp":1700003600,"lead_ms":60000}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.JTI, m.Exp, m.LeadMS)

	_, err = protocol.Decode([]byte(`{"type":"expiring","exp":1700003600}`))
	fmt.Println(errors.Is(err, protocol.ErrBadMessage), err)
	// Output:
	// expiring SK21c17013f3face8fdc4e4623b0a9d2c1-1700000000 1700003600 60000
	// true bad message: "expiring" message needs "jti"
}

func ExampleEncode() {
	fmt.Printf("%s\n", protocol.Encode(protocol.Message{Type: protocol.TypeRenew, ID: "r1"}))
	fmt.Printf("%s\n", protocol.Encode(protocol.Message{Type: protocol.TypeRevoked, ServerTimeMS: 1700000000000, Reason: "logout"}))
	// Output:
	// {"type":"renew","id":"r1"}
	// {"type":"revoked","server_time_ms":1700000000000,"reason":"logout"}
}
