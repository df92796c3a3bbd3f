package local

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
)

// childDirEnv, when set, makes TestLocal_SIGKILLChild the writer process
// of TestLocal_SurvivesSIGKILL, on the namespace in that directory.
const childDirEnv = "DOKV_LOCAL_SIGKILL_DIR"

const sigkillWriters = 8

// writerKey is the key writer w counts up.
func writerKey(w int) string { return fmt.Sprint("writer-", w) }

// durabilityStore is the store both processes use: keys spread over
// objects, so that writers commit to different objects at once.
func durabilityStore(t *testing.T, ns *Namespace) *dokv.Store[int] {
	t.Helper()
	s, err := dokv.New[int](ns, dokv.WithPartitioning(dokv.HashShards(4)))
	require.NoError(t, err)
	return s
}

// An acknowledged write survives SIGKILL: a child process runs concurrent
// writers, each counting its own key up and printing each value once its
// write returned; the test kills it at a random moment, five times, and
// after each kill every key holds its last acknowledged value or the one
// after it (the write in flight), never less (a lost write) and never more
// (a phantom).
func TestLocal_SurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("the SIGKILL test starts processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	acked := make([]int, sigkillWriters)
	for round := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLocal_SIGKILLChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		// Kill it once it has acknowledged some writes, a random while later.
		killAt := time.After(time.Duration(200+rng.IntN(400)) * time.Millisecond)
		acks := 0
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: the child ended before it was killed:\n%s", round, stderr.String())
				}
				var w, v int
				if _, err := fmt.Sscanf(line, "ack %d %d", &w, &v); err == nil {
					require.Greater(t, v, acked[w], "round %d: writer %d acknowledged out of order", round, w)
					acked[w] = v
					acks++
				}
			case <-killAt:
				if acks > 0 {
					break read
				}
				killAt = time.After(50 * time.Millisecond)
			}
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		for range lines { // acknowledgements written before the kill count too
		}
		_ = cmd.Wait()

		ns, err := Open(dir)
		require.NoError(t, err, "round %d: reopening after SIGKILL", round)
		s := durabilityStore(t, ns)
		for w := range sigkillWriters {
			v, err := s.Get(context.Background(), writerKey(w))
			if acked[w] == 0 && err != nil {
				continue // never acknowledged, maybe never written
			}
			require.NoError(t, err, "round %d: writer %d", round, w)
			require.GreaterOrEqual(t, v, acked[w], "round %d: writer %d lost an acknowledged write", round, w)
			require.LessOrEqual(t, v, acked[w]+1, "round %d: writer %d holds a value never written", round, w)
			acked[w] = v // the in-flight write, if it landed, is the next one's base
		}
		require.NoError(t, ns.Close())
		t.Logf("round %d: killed after %d acknowledged writes; every one of them was there", round, acks)
	}
}

// TestLocal_SIGKILLChild is the writer process of TestLocal_SurvivesSIGKILL;
// it does nothing unless started by it.
func TestLocal_SIGKILLChild(t *testing.T) {
	dir := os.Getenv(childDirEnv)
	if dir == "" {
		t.Skip("run by TestLocal_SurvivesSIGKILL")
	}
	ns, err := Open(dir)
	require.NoError(t, err)
	s := durabilityStore(t, ns)
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range sigkillWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			v, err := s.Get(ctx, writerKey(w))
			if err != nil {
				v = 0
			}
			for {
				v++
				if err := s.Set(ctx, writerKey(w), v); err != nil {
					fmt.Fprintln(os.Stderr, "write failed:", err)
					os.Exit(1)
				}
				out.Lock()
				os.Stdout.WriteString("ack " + strconv.Itoa(w) + " " + strconv.Itoa(v) + "\n")
				out.Unlock()
			}
		}()
	}
	wg.Wait() // never: the parent kills the process
}
