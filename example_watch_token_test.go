package dokv_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"strings"
	"time"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// A browser cannot set an Authorization header on a WebSocket, so the
// application's authenticated route issues a short-lived token for the one
// job the user may follow, and the page opens the watch with ?token=. A
// watch that gets past the check is handed to the job's object on Workers,
// and accepted in process under workerhttp.FromHandler; this example's
// request, made by hand, has no connection to take over, hence 501.
func ExampleStore_WatchToken() {
	// On Workers, the WATCH_TOKEN_SECRET secret from the Worker's
	// environment (.dev.vars under `dokv dev`): at least 32 bytes.
	secret := strings.Repeat("s", dokv.WatchTokenSecretMinBytes)
	tokens, err := dokv.NewWatchTokens(secret)
	if err != nil {
		log.Fatal(err)
	}
	jobs, err := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithWatchTokens(tokens))
	if err != nil {
		log.Fatal(err)
	}

	// GET /jobs/job-1/watch-token, after the route has authenticated the
	// user and checked that job-1 is theirs:
	token, err := jobs.WatchToken("job-1", time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(token), "URL-safe characters")

	// GET /jobs/job-1/watch?token=..., the WebSocket upgrade:
	watch := func(query string) int {
		r, err := worker.NewRequest(context.Background(), "GET", "https://app.example/jobs/job-1/watch"+query,
			map[string][]string{"Upgrade": {"websocket"}}, nil)
		if err != nil {
			log.Fatal(err)
		}
		var w worker.ResponseWriter
		jobs.ServeWatch(&w, r, "job-1")
		return w.Status()
	}
	fmt.Println("without a token:", watch(""))
	fmt.Println("with the token:", watch("?token="+url.QueryEscape(token)))
	fmt.Println("for job-2:", jobs.CheckWatchToken("job-2", token))
	// Output:
	// 54 URL-safe characters
	// without a token: 401
	// with the token: 501
	// for job-2: dokv: watch "job-2": watch token refused: the token was not issued for this key and store, or was altered
}
