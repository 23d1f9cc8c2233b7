package sdkconn

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestEndedTokensBounded: the tokens the lab ended are kept until their
// exp and never more than MaxEndedTokens; past the bound, the one
// expiring first goes, and a token issued in the fault's own second (which
// a new token of the same second would equal) is not kept.
func TestEndedTokensBounded(t *testing.T) {
	now := time.Now()
	var e endedTokens
	key := func(i int) tokenKey {
		var k tokenKey
		binary.BigEndian.PutUint64(k[:], uint64(i))
		return k
	}
	issued := now.Unix() - 10
	for i := range MaxEndedTokens + 100 {
		// Entry 0 expires last; entries 1… expire in the order added.
		exp := now.Add(time.Hour + time.Duration(i)*time.Millisecond).UnixMilli()
		if i == 0 {
			exp = now.Add(2 * time.Hour).UnixMilli()
		}
		e.add(currentToken{key: key(i), exp: exp, issued: issued}, now)
	}
	if n := len(e.exp); n != MaxEndedTokens {
		t.Errorf("%d tokens kept, want the bound %d", n, MaxEndedTokens)
	}
	if e.refusal(key(0), "alice", now) == nil || e.refusal(key(MaxEndedTokens+99), "alice", now) == nil {
		t.Error("the token expiring last, or the newest, was forgotten")
	}
	if e.refusal(key(1), "alice", now) != nil {
		t.Error("past the bound the token expiring first is still kept")
	}
	if r := e.refusal(key(0), "alice", now.Add(3*time.Hour)); r != nil {
		t.Error("a token is still refused as ended after its own exp")
	}

	var same endedTokens
	same.add(currentToken{key: key(1), exp: now.Add(time.Hour).UnixMilli(), issued: now.Unix()}, now)
	if same.refusal(key(1), "alice", now) != nil {
		t.Error("a token issued in the fault's second is kept: a new token minted in that second would be refused")
	}
}
