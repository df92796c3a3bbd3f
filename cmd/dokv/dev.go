package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dokv/dokv/internal/workerfiles"
)

// devEnvPrefix starts the names of the environment variables through which
// dev hands workerd the values of .dev.vars: prefixed, so that a key such as
// PATH or HOME in .dev.vars cannot change workerd's own environment.
const devEnvPrefix = "DOKV_DEV_VAR_"

// Timeouts of dev's workerd: how long it may take to listen (it compiles
// the wasm first), and how long it may take to stop on SIGTERM before it is
// killed.
var (
	listenTimeout = 60 * time.Second
	stopTimeout   = 10 * time.Second
)

func runDev(fs *flag.FlagSet, args []string) error {
	out := fs.String("dir", "", "output directory (default: PACKAGE's directory/build)")
	port := fs.Int("port", 8787, "the loopback port workerd listens on")
	var vars listFlag
	fs.Var(&vars, "var", "a plain-text variable KEY=VALUE overriding wrangler.toml's and .dev.vars', repeatable")
	pkg, err := parse(fs, args)
	if err != nil {
		return err
	}
	overrides, err := parseVars(vars)
	if err != nil {
		return err
	}
	dir, err := packageDir(pkg)
	if err != nil {
		return err
	}
	c, env, err := devConfig(dir, overrides)
	if err != nil {
		return err
	}
	buildDir, err := build(pkg, *out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(buildDir, "workerd.capnp"), []byte(workerfiles.WorkerdConfig(c)), 0o644); err != nil {
		return err
	}
	// Stopped by SIGINT (Ctrl-C, and what `go tool` passes on) or SIGTERM,
	// dev stops workerd before it exits, so that no workerd keeps the port.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, stop, buildDir, *port, env)
}

// devConfig is the workerd configuration dev serves the Worker in dir
// with: the bindings, vars and compatibility of its wrangler.toml; the
// values of its .dev.vars, which replace vars of the same name (as in
// wrangler dev); and overrides, which replace both. The values of .dev.vars
// reach workerd through its environment, env (KEY=value strings), never a
// file.
func devConfig(dir string, overrides map[string]string) (c workerfiles.Config, env []string, err error) {
	c, err = readWrangler(filepath.Join(dir, "wrangler.toml"))
	if err != nil {
		return workerfiles.Config{}, nil, err
	}
	c.FilesDir = ""
	path := filepath.Join(dir, devVarsFile)
	secrets, err := readDevVars(path)
	if err != nil {
		return workerfiles.Config{}, nil, err
	}
	for k := range overrides {
		delete(secrets, k)
	}
	if len(secrets) > 0 {
		names := slices.Sorted(maps.Keys(secrets))
		fmt.Fprintf(os.Stderr, "dokv: using %s from %s\n", strings.Join(names, ", "), display(path))
		c.EnvBindings = map[string]string{}
		for _, k := range names {
			delete(c.Vars, k)
			c.EnvBindings[k] = devEnvPrefix + k
			env = append(env, devEnvPrefix+k+"="+secrets[k])
		}
	}
	maps.Copy(c.Vars, overrides)
	return c, env, nil
}

// workerdBinary finds workerd: the one `npm install workerd` put in
// ./node_modules/.bin, else one on PATH.
func workerdBinary() (string, error) {
	bin := filepath.Join("node_modules", ".bin", "workerd")
	if _, err := os.Stat(bin); err == nil {
		return filepath.Abs(bin)
	}
	if bin, err := exec.LookPath("workerd"); err == nil {
		return bin, nil
	}
	return "", errors.New("workerd not found in ./node_modules/.bin or PATH: run `npm install --save-exact workerd` " +
		"in your module's directory (see the README), or use `npx wrangler dev`")
}

// serve runs workerd on the config dev wrote in dir, with the objects'
// storage in dir/store and env added to its environment. It says it is
// serving once the port accepts connections, and returns when workerd
// exits, or when ctx is done: then it stops workerd, with SIGTERM and, after
// stopTimeout, SIGKILL, and returns nil once workerd is gone. stopSignals
// is called then, so that a second Ctrl-C ends dev at once.
func serve(ctx context.Context, stopSignals func(), dir string, port int, env []string) error {
	bin, err := workerdBinary()
	if err != nil {
		return err
	}
	store, err := filepath.Abs(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(store, 0o755); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// A port another process holds would pass the readiness check below on
	// that process's behalf, so it is refused before workerd starts.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s is in use (another dokv dev or wrangler dev?): stop that, or pick another -port: %w", addr, err)
	}
	l.Close()
	cmd := exec.Command(bin, "serve", "workerd.capnp", "--socket-addr", "http="+addr, "--directory-path", "store="+store)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	stopWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting workerd: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ready := time.NewTicker(25 * time.Millisecond)
	defer ready.Stop()
	deadline := time.After(listenTimeout)
	for listening := false; !listening; {
		select {
		case err := <-exited:
			return fmt.Errorf("workerd exited before it listened on %s: %v", addr, err)
		case <-ctx.Done():
			stopSignals()
			return stopWorkerd(cmd, exited)
		case <-deadline:
			if err := stopWorkerd(cmd, exited); err != nil {
				return err
			}
			return fmt.Errorf("workerd did not listen on %s within %v", addr, listenTimeout)
		case <-ready.C:
			conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				conn.Close()
				listening = true
			}
		}
	}
	fmt.Fprintf(os.Stderr, "dokv: serving on http://%s (objects stored in %s); Ctrl-C stops\n", addr, display(store))
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("workerd: %w", err)
		}
		return errors.New("workerd exited")
	case <-ctx.Done():
		stopSignals()
		return stopWorkerd(cmd, exited)
	}
}

// stopWorkerd ends the workerd of cmd, whose Wait reports to exited: with
// SIGTERM, then SIGKILL after stopTimeout (or at once where SIGTERM cannot
// be sent). It returns once workerd is gone; how it ended is no error, as
// dev asked it to end.
func stopWorkerd(cmd *exec.Cmd, exited <-chan error) error {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		cmd.Process.Kill()
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-exited
	}
	fmt.Fprintln(os.Stderr, "dokv: stopped workerd")
	return nil
}

// display is path relative to the working directory when it is beneath
// it, which is shorter to read, else path.
func display(path string) string {
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}
