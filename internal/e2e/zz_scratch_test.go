package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

func TestScratch(t *testing.T) {
	w := startExample(t)
	try := func(name string, n int, f func(i int) (exampleResponse, error), ok func(exampleResponse) bool) {
		var bad atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := f(i)
				if err != nil || !ok(r) {
					if bad.Add(1) <= 2 {
						t.Logf("%s %d: %v %v", name, i, err, r)
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%s: %d of %d bad", name, bad.Load(), n)
	}
	is := func(s int) func(exampleResponse) bool { return func(r exampleResponse) bool { return r.Status == s } }
	try("put-same-single", 64, func(i int) (exampleResponse, error) {
		return doRequest(w, http.MethodPut, "/single/x", []byte(fmt.Sprint(i)))
	}, is(204))
	try("put-distinct-single", 64, func(i int) (exampleResponse, error) {
		return doRequest(w, http.MethodPut, fmt.Sprintf("/single/x%d", i), []byte(fmt.Sprint(i)))
	}, is(204))
	try("get-single", 64, func(i int) (exampleResponse, error) {
		return doRequest(w, http.MethodGet, "/single/x", nil)
	}, is(200))
	try("put-perkey", 64, func(i int) (exampleResponse, error) {
		return doRequest(w, http.MethodPut, fmt.Sprintf("/perkey/x%d", i), []byte(fmt.Sprint(i)))
	}, is(204))
	try("list", 16, func(i int) (exampleResponse, error) {
		return doRequest(w, http.MethodGet, "/sharded/", nil)
	}, is(200))
	for _, n := range []int{4, 6, 8} {
		for rep := range 4 {
			j, loc := createJob(t, w, "a", "b", "c", "d", "e", "f", "g", "h")
			_ = j
			try(fmt.Sprintf("patch-%d-%d", n, rep), n, func(i int) (exampleResponse, error) {
				return doRequest(w, http.MethodPatch, loc+"/tasks/"+string(rune('a'+i)), []byte(`{"status":"completed"}`))
			}, is(200))
		}
	}
	t.Log(w.Log())
}
