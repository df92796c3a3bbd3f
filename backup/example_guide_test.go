package backup_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/worker"
)

// The admin route serves `dokv export` and `dokv import`: it exports a
// named store as JSON Lines to a caller that holds the secret, and refuses
// any other.
func ExampleAdminHandler() {
	ctx := context.Background()
	single, _ := dokv.New[string](dokv.NewMemoryNamespace(), dokv.WithPartitioning(dokv.SingleObject("all")))
	_ = single.Set(ctx, "greeting", "hello")

	secret := strings.Repeat("s", backup.AdminSecretMinBytes) // in a Worker: a secret from its environment
	admin, err := backup.AdminHandler(secret, map[string]backup.Store{"single": backup.For(single)})
	if err != nil {
		log.Fatal(err)
	}
	for _, auth := range []string{"Bearer " + secret, "Bearer guess"} {
		r, _ := worker.NewRequest(ctx, "GET", "https://app.example"+backup.AdminPath+"export?store=single",
			map[string][]string{"Authorization": {auth}}, nil)
		var w worker.ResponseWriter
		admin.ServeFetch(&w, r)
		body := string(w.Body())
		if w.Status() == 200 { // the version is the object's own: leave it out
			body = body[:strings.Index(body, `"version"`)] + body[strings.Index(body, `"value"`):]
		}
		fmt.Println(w.Status(), strings.TrimSpace(body))
	}
	_, err = backup.AdminHandler("short", nil)
	fmt.Println("short secret:", errors.Is(err, dokv.ErrInvalidArgument))
	// Output:
	// 200 {"key":"greeting","value":"hello"}
	// 401 {"error":"the admin routes need the Worker's admin secret"}
	// short secret: true
}
