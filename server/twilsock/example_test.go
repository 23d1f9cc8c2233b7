package twilsock_test

import (
	"fmt"

	"github.com/tokenlab/tokenlab/server/twilsock"
)

func ExampleEncode() {
	b, _ := twilsock.Encode(twilsock.Header{
		Method:           twilsock.MethodClientUpdate,
		ID:               "TM1",
		ClientUpdateType: twilsock.ClientUpdateTokenAboutToExpire,
	}, nil)
	fmt.Printf("%q\n", b)
	// Output:
	// "TWILSOCK V3.0 99\r\n{\"method\":\"client_update\",\"id\":\"TM1\",\"payload_size\":0,\"client_update_type\":\"token_about_to_expire\"}\r\n"
}

func ExampleDecode() {
	f, err := twilsock.Decode([]byte("TWILSOCK V3.0 62\r\n" +
		`{"method":"update","id":"TM2","token":"eyJ0","payload_size":0}` + "\r\n"))
	fmt.Println(f.Header.Method, f.Header.ID, err)
	_, err = twilsock.Decode([]byte("TWILSOCK V3.0 9999\r\n{}\r\n"))
	fmt.Println(err)
	// Output:
	// update TM2 <nil>
	// twilsock header length is wrong: says 9999 bytes, 4 follow
}
