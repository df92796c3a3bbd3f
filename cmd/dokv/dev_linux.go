package main

import (
	"os/exec"
	"syscall"
)

// stopWithParent has Linux send workerd SIGTERM when dev dies without
// stopping it (SIGKILL, a crash), so that no orphaned workerd keeps the
// port. Linux sends it when the thread that started workerd exits; Go's
// runtime does not end its threads while the process lives, except those
// of goroutines that exit locked to them, which dev has none of.
func stopWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
