//go:build !linux

package main

import "os/exec"

// stopWithParent does nothing where the kernel cannot signal a child when
// its parent dies: there, dev stops workerd only when it is itself stopped
// by a signal it can catch (SIGINT, SIGTERM).
func stopWithParent(cmd *exec.Cmd) {}
