//go:build !linux

package lowpriority

import "errors"

// lowerThreadPriority cannot lower one thread's priority here: the work
// runs at the process's own.
func lowerThreadPriority() error {
	return errors.New("per-thread priority is not supported on this system")
}

// ThreadNice cannot tell one thread's niceness here.
func ThreadNice() (int, error) {
	return 0, errors.New("per-thread priority is not supported on this system")
}
