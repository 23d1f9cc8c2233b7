package lowpriority

import "golang.org/x/sys/unix"

// lowerThreadPriority sets the calling thread's niceness: on Linux,
// setpriority with a thread id applies to that thread only.
func lowerThreadPriority() error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), Nice)
}

// ThreadNice returns the calling thread's niceness (-20 to 19).
func ThreadNice() (int, error) {
	// The system call answers 20 - nice, so that it is never negative.
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - p, err
}
