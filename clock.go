package dokv

import (
	"time"
)

// Clock is the time of a MemoryNamespace: it decides when keys expire and
// from which floor versions count (see WithTTL), and runs the objects'
// alarms. On Workers, objects use the runtime's clock.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// stop is called first; stop reports whether it prevented the call.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock returns the Clock of the operating system, a MemoryNamespace's
// default.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}
