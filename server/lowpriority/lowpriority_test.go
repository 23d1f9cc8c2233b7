package lowpriority_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tokenlab/tokenlab/server/lowpriority"
)

func TestDoRunsEveryJobAndWaitsForIt(t *testing.T) {
	p := lowpriority.New(2)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			ran := false
			p.Do(func() { ran = true })
			if !ran {
				t.Error("Do returned before its function ran")
			}
			mu.Lock()
			done++
			mu.Unlock()
		})
	}
	wg.Wait()
	if done != 20 {
		t.Fatalf("%d of 20 jobs done", done)
	}
}

// The pool runs no more jobs at once than it has workers: a caller that
// finds them all busy waits.
func TestDoWaitsForAFreeWorker(t *testing.T) {
	p := lowpriority.New(2)
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			p.Do(func() {
				started <- struct{}{}
				<-release
			})
		})
	}
	for range 2 {
		<-started
	}
	select {
	case <-started:
		t.Fatal("a third job ran while both workers were busy")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-started
	wg.Wait()
}

// A panic in the work surfaces in the caller, as it would have had the
// work run there, and the pool keeps working.
func TestDoRaisesTheWorksPanicInTheCaller(t *testing.T) {
	p := lowpriority.New(1)
	boom := errors.New("boom")
	func() {
		defer func() {
			if got := recover(); got != boom {
				t.Errorf("recovered %v, want the work's panic", got)
			}
		}()
		p.Do(func() { panic(boom) })
		t.Error("Do returned normally from a panicking job")
	}()
	ran := false
	p.Do(func() { ran = true })
	if !ran {
		t.Fatal("the pool stopped working after a panic")
	}
}

func TestWorkRunsAtTheLowestPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread priorities are Linux's")
	}
	p := lowpriority.New(1)
	if !p.Lowered {
		t.Fatal("the pool's threads kept their priority")
	}
	var inPool, caller int
	var err error
	p.Do(func() { inPool, err = lowpriority.ThreadNice() })
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if caller, err = lowpriority.ThreadNice(); err != nil {
		t.Fatal(err)
	}
	if inPool != lowpriority.Nice {
		t.Errorf("work ran at niceness %d, want %d", inPool, lowpriority.Nice)
	}
	if caller == lowpriority.Nice {
		t.Errorf("the caller's thread was lowered too (niceness %d)", caller)
	}
}
