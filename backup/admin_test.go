package backup_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/backup"
	"github.com/dokv/dokv/worker"
)

// adminTestSecret is as short as AdminHandler allows.
var adminTestSecret = strings.Repeat("k", backup.AdminSecretMinBytes)

// fakeAdminStore fails every export and import with err, or panics with it
// when panics is set.
type fakeAdminStore struct {
	err    error
	panics bool
}

func (f fakeAdminStore) Export(context.Context, io.Writer, backup.ExportOptions) (backup.Progress, error) {
	if f.panics {
		panic(f.err)
	}
	return backup.Progress{}, f.err
}

func (f fakeAdminStore) Import(context.Context, io.Reader) (backup.Progress, error) {
	if f.panics {
		panic(f.err)
	}
	return backup.Progress{}, f.err
}

// serveAdmin serves one request to h and returns the response.
func serveAdmin(t *testing.T, h worker.Handler, method, target, auth, body string) *worker.ResponseWriter {
	t.Helper()
	header := map[string][]string{}
	if auth != "" {
		header["Authorization"] = []string{auth}
	}
	r, err := worker.NewRequest(context.Background(), method, "https://worker.example"+target, header, []byte(body))
	require.NoError(t, err)
	var w worker.ResponseWriter
	h.ServeFetch(&w, r)
	return &w
}

// adminErrorBody decodes an admin error response.
func adminErrorBody(t *testing.T, w *worker.ResponseWriter) (msg string, line int64) {
	t.Helper()
	assert.Equal(t, "application/json", w.Header("Content-Type"))
	var e struct {
		Error string
		Line  int64
	}
	require.NoError(t, json.Unmarshal(w.Body(), &e), "%s", w.Body())
	return e.Error, e.Line
}

// captureStderr runs f with os.Stderr going to a pipe and returns what f
// wrote there.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = saved }()
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	f()
	require.NoError(t, w.Close())
	return string(<-done)
}

func TestAdminHandler_RefusesAShortSecret(t *testing.T) {
	for _, secret := range []string{"", "s3cret", adminTestSecret[1:]} {
		_, err := backup.AdminHandler(secret, nil)
		require.ErrorIs(t, err, dokv.ErrInvalidArgument, "%d bytes", len(secret))
		assert.ErrorContains(t, err, "at least 32")
		if secret != "" {
			assert.NotContains(t, err.Error(), secret, "the secret itself is not in the error")
		}
	}
	_, err := backup.AdminHandler(adminTestSecret, nil)
	require.NoError(t, err)
}

func TestAdminHandler_TheSchemeNameInAnyCase(t *testing.T) {
	h, err := backup.AdminHandler(adminTestSecret, map[string]backup.Store{"s": fakeAdminStore{}})
	require.NoError(t, err)
	for _, auth := range []string{"Bearer ", "bearer ", "BEARER ", "bEaReR ", "Bearer   "} {
		w := serveAdmin(t, h, "GET", backup.AdminPath+"export?store=s", auth+adminTestSecret, "")
		assert.Equal(t, 200, w.Status(), "%q", auth)
	}
	for _, auth := range []string{"", adminTestSecret, "Bearer" + adminTestSecret, "Basic " + adminTestSecret, "Bearers " + adminTestSecret, "Bearer " + adminTestSecret + "x", "Bearer x" + adminTestSecret} {
		w := serveAdmin(t, h, "GET", backup.AdminPath+"export?store=s", auth, "")
		assert.Equal(t, 401, w.Status(), "%q", auth)
		assert.Equal(t, `Bearer realm="dokv admin"`, w.Header("WWW-Authenticate"))
	}
}

func TestAdminHandler_ClientErrorsSayWhatWasWrong(t *testing.T) {
	ns := dokv.NewMemoryNamespace()
	store, err := dokv.New[[]byte](ns, dokv.WithCodec(dokv.Raw()), dokv.WithPartitioning(dokv.SingleObject("the-object")))
	require.NoError(t, err)
	tooLarge := &dokv.Error{Op: "import", Key: "big", Object: "the-object", Err: dokv.ErrValueTooLarge, Detail: "key and value of 3000000 bytes exceed 2097152"}
	h, err := backup.AdminHandler(adminTestSecret, map[string]backup.Store{"s": backup.For(store), "big": fakeAdminStore{err: tooLarge}})
	require.NoError(t, err)
	auth := "Bearer " + adminTestSecret

	w := serveAdmin(t, h, "POST", backup.AdminPath+"import?store=s", auth, `{"key":"a","value64":"aGk="}`+"\n\n"+`{not json}`+"\n")
	require.Equal(t, 400, w.Status())
	msg, line := adminErrorBody(t, w)
	assert.Equal(t, int64(3), line, "the refused line of the body, counted from 1 with the empty one")
	assert.True(t, strings.HasPrefix(msg, "line 3: invalid argument: "), msg)

	w = serveAdmin(t, h, "POST", backup.AdminPath+"import?store=big", auth, `{"key":"big","value64":"aGk="}`+"\n")
	require.Equal(t, 400, w.Status())
	msg, line = adminErrorBody(t, w)
	assert.Equal(t, `key "big": value too large: key and value of 3000000 bytes exceed 2097152`, msg)
	assert.Zero(t, line)

	w = serveAdmin(t, h, "GET", backup.AdminPath+"export?store=nope", auth, "")
	require.Equal(t, 404, w.Status())
	msg, _ = adminErrorBody(t, w)
	assert.Equal(t, `no store named "nope"`, msg)

	w = serveAdmin(t, h, "DELETE", backup.AdminPath+"export?store=s", auth, "")
	require.Equal(t, 404, w.Status())
	msg, _ = adminErrorBody(t, w)
	assert.Equal(t, "no admin route DELETE "+backup.AdminPath+"export", msg)

	w = serveAdmin(t, h, "GET", backup.AdminPath+"stats?store=nope", auth, "")
	require.Equal(t, 404, w.Status())
	msg, _ = adminErrorBody(t, w)
	assert.Equal(t, "no admin route GET "+backup.AdminPath+"stats", msg, "the route is checked before the store")
}

func TestAdminHandler_InternalFailuresSayNothingOfTheInternals(t *testing.T) {
	failure := &dokv.Error{Op: "import", Key: "k", Object: "secret-object-7", Err: dokv.ErrObject, Detail: "sqlite: disk I/O error"}
	h, err := backup.AdminHandler(adminTestSecret, map[string]backup.Store{
		"fails":  fakeAdminStore{err: failure},
		"panics": fakeAdminStore{err: failure, panics: true},
	})
	require.NoError(t, err)
	for _, store := range []string{"fails", "panics"} {
		for _, route := range []string{"GET export", "POST import"} {
			method, path, _ := strings.Cut(route, " ")
			var w *worker.ResponseWriter
			logged := captureStderr(t, func() {
				w = serveAdmin(t, h, method, backup.AdminPath+path+"?store="+store, "Bearer "+adminTestSecret, "")
			})
			assert.Equal(t, 500, w.Status(), "%s %s", store, route)
			assert.JSONEq(t, `{"error":"internal error"}`, string(w.Body()), "%s %s", store, route)
			assert.Contains(t, logged, "secret-object-7", "the detail is in the Worker's log (%s %s)", store, route)
			assert.NotContains(t, logged, adminTestSecret)
		}
	}
}
