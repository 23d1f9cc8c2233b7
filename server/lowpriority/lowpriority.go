// Package lowpriority runs CPU-bound work, such as password hashing, on a
// fixed set of OS threads that the kernel schedules after the rest of the
// process. The Go scheduler cannot do this by itself: a goroutine hashing
// a password holds a core for tens of milliseconds, and a flood of them
// delays every other request by that much each time the kernel hands
// their shared cores around. Lowering the priority of the threads that
// hash lets the kernel run a renewal, a socket or /healthz first.
package lowpriority

import "runtime"

// Nice is the niceness of the pool's threads: the lowest priority an
// unprivileged process can give itself, and one it cannot take back,
// which is why the threads live as long as the pool.
const Nice = 19

// Pool runs functions on its own low-priority threads, one at a time per
// thread.
type Pool struct {
	jobs chan func()
	// Lowered says whether the threads' priority could be lowered (it
	// cannot on systems without per-thread priorities); the work runs on
	// them either way.
	Lowered bool
}

// New starts a pool of workers threads.
func New(workers int) *Pool {
	p := &Pool{jobs: make(chan func())}
	ready := make(chan bool, workers)
	for range max(1, workers) {
		go p.work(ready)
	}
	p.Lowered = true
	for range max(1, workers) {
		p.Lowered = <-ready && p.Lowered
	}
	return p
}

// work is one worker: its goroutine keeps its thread to itself, so the
// priority set on the thread applies to it alone, for good.
func (p *Pool) work(ready chan<- bool) {
	runtime.LockOSThread()
	ready <- lowerThreadPriority() == nil
	for fn := range p.jobs {
		fn()
	}
}

// Do runs fn on one of the pool's threads and returns when fn has
// returned; a panic in fn is raised again in the caller, where it would
// have been had fn run there. Do waits for a free worker: callers bound
// how many of them call Do at once.
func (p *Pool) Do(fn func()) {
	done := make(chan any, 1)
	p.jobs <- func() {
		defer func() { done <- recover() }()
		fn()
	}
	if v := <-done; v != nil {
		panic(v)
	}
}
