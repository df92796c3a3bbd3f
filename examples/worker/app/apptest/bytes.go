package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/examples/worker/app"
)

// byteTests are the byte stores' routes: exact bytes, keys, limits, listing.
func byteTests() []test {
	return []test{
		{"TestBytesExactRoundTrip", testBytesExactRoundTrip},
		{"TestBytesHeadHasNoBody", testBytesHeadHasNoBody},
		{"TestBytesEncodedSlashesAddressTheSameKey", testBytesEncodedSlashesAddressTheSameKey},
		{"TestBytesPatternsAreIsolated", testBytesPatternsAreIsolated},
		{"TestBytesTooLarge", testBytesTooLarge},
		{"TestBytesInvalidKey", testBytesInvalidKey},
		{"TestBytesList", testBytesList},
	}
}

func testBytesExactRoundTrip(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	binary := []byte{0, 0xFF, 'a', 0, 0xFE, 0x80, '\n', 0xFF, 0}
	values := map[string][]byte{
		"plain":                 []byte("hello"),
		"nested/path/to/key":    binary,
		"日本語/ключ/🔑":            []byte("unicode key"),
		"empty":                 {},
		"trailing/":             []byte("slash at the end"),
		"with space and ?#&=+%": bytes.Repeat([]byte{0xFF, 0}, 1000),
	}
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			for key, value := range values {
				path := "/" + p + "/" + keyPath(key)
				resp, body := s.do(http.MethodPut, path, value)
				require.Equal(t, http.StatusNoContent, resp.StatusCode, "PUT %s: %s", path, body)
				assert.Empty(t, body)
			}
			for key, value := range values {
				path := "/" + p + "/" + keyPath(key)
				resp, body := s.do(http.MethodGet, path, nil)
				require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
				assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
				assert.Equal(t, fmt.Sprint(len(value)), resp.Header.Get("Content-Length"))
				assert.True(t, bytes.Equal(value, body), "GET %s: got %x, want %x", path, body, value)
			}

			// Overwrite, then delete.
			path := "/" + p + "/" + keyPath("nested/path/to/key")
			resp, _ := s.do(http.MethodPut, path, []byte("second"))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, body := s.do(http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []byte("second"), body)

			resp, body = s.do(http.MethodDelete, path, nil)
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			assert.Empty(t, body)
			resp, body = s.do(http.MethodGet, path, nil)
			requireError(t, resp, body, http.StatusNotFound)

			// Deleting a missing key is not an error.
			resp, _ = s.do(http.MethodDelete, path, nil)
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, _ = s.do(http.MethodDelete, "/"+p+"/never-written", nil)
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)

			// The other keys are untouched.
			resp, body = s.do(http.MethodGet, "/"+p+"/plain", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []byte("hello"), body)
		})
	}
}

func testBytesHeadHasNoBody(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	resp, _ := s.do(http.MethodPut, "/single/k", []byte("12345"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body := s.do(http.MethodHead, "/single/k", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Content-Length"))
	assert.Empty(t, body)
}

func testBytesEncodedSlashesAddressTheSameKey(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	resp, _ := s.do(http.MethodPut, "/single/a/b", []byte("v"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body := s.do(http.MethodGet, "/single/a%2Fb", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []byte("v"), body)

	// Keys with empty or dot segments need encoded slashes.
	resp, _ = s.do(http.MethodPut, "/single/x%2F%2F..%2Fy", []byte("odd"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, body = s.do(http.MethodGet, "/single/?prefix=x", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list keyList
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, []string{"x//../y"}, list.Keys)
}

func testBytesPatternsAreIsolated(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	for _, p := range patterns {
		resp, _ := s.do(http.MethodPut, "/"+p+"/shared", []byte("value of "+p))
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		resp, _ = s.do(http.MethodPut, "/"+p+"/only-"+p, []byte(p))
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
	}
	for _, p := range patterns {
		resp, body := s.do(http.MethodGet, "/"+p+"/shared", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "value of "+p, string(body))
		for _, other := range patterns {
			resp, body := s.do(http.MethodGet, "/"+p+"/only-"+other, nil)
			if other == p {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			} else {
				requireError(t, resp, body, http.StatusNotFound)
			}
		}
	}
	// A delete in one pattern leaves the others alone.
	resp, _ := s.do(http.MethodDelete, "/sharded/shared", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	for _, p := range []string{"single", "perkey"} {
		resp, body := s.do(http.MethodGet, "/"+p+"/shared", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "value of "+p, string(body))
	}
	// Listings hold their own keys only.
	for _, p := range []string{"single", "sharded"} {
		resp, body := s.do(http.MethodGet, "/"+p+"/", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		var list keyList
		require.NoError(t, json.Unmarshal(body, &list))
		want := []string{"only-" + p}
		if p == "single" {
			want = append(want, "shared")
		}
		assert.Equal(t, want, list.Keys)
	}
}

func testBytesTooLarge(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	for _, p := range patterns {
		t.Run(p, func(t *testing.T) {
			// Over the body limit.
			resp, body := s.do(http.MethodPut, "/"+p+"/big", make([]byte, dokv.MaxEntryBytes+1))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Within the body limit, but key and value exceed an entry.
			resp, body = s.do(http.MethodPut, "/"+p+"/big", make([]byte, dokv.MaxEntryBytes))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Far over it: refused without reading it all.
			resp, body = s.do(http.MethodPut, "/"+p+"/big", make([]byte, 3*dokv.MaxEntryBytes))
			requireError(t, resp, body, http.StatusRequestEntityTooLarge)
			// Nothing was stored.
			resp, body = s.do(http.MethodGet, "/"+p+"/big", nil)
			requireError(t, resp, body, http.StatusNotFound)

			// Just under the limit is fine, and comes back whole.
			value := bytes.Repeat([]byte{0xFF, 0, 7}, (dokv.MaxEntryBytes-1024)/3)
			resp, _ = s.do(http.MethodPut, "/"+p+"/big", value)
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
			resp, body = s.do(http.MethodGet, "/"+p+"/big", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.True(t, bytes.Equal(value, body))
		})
	}
}

func testBytesInvalidKey(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace)
	long := "/" + strings.Repeat("k", dokv.MaxKeyBytes+1)
	for _, p := range patterns {
		for _, key := range []string{"%FF", "a/%C3%28", long} {
			path := "/" + p + "/" + key
			for _, method := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				resp, body := s.do(method, path, []byte("v"))
				msg := requireError(t, resp, body, http.StatusBadRequest)
				assert.Contains(t, msg, "invalid key", "%s %s", method, path)
			}
		}
		// The empty key cannot be written or deleted.
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			resp, body := s.do(method, "/"+p+"/", []byte("v"))
			requireError(t, resp, body, http.StatusBadRequest)
		}
	}
	// A key of the maximum length is fine.
	resp, body := s.do(http.MethodPut, "/single/"+strings.Repeat("k", dokv.MaxKeyBytes), []byte("v"))
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "%s", body)
}

func testBytesList(t *testing.T, newNamespace NewNamespace) {
	s := newTestServer(t, newNamespace, app.WithShards(3))
	keys := []string{"a", "b/1", "b/2", "b/3", "c", "é"}
	for _, p := range patterns {
		for _, k := range keys {
			resp, _ := s.do(http.MethodPut, "/"+p+"/"+keyPath(k), []byte(k))
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
		}
	}
	list := func(path string) keyList {
		t.Helper()
		resp, body := s.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		var l keyList
		require.NoError(t, json.Unmarshal(body, &l))
		return l
	}
	for _, p := range []string{"single", "sharded"} {
		t.Run(p, func(t *testing.T) {
			assert.Equal(t, keyList{Keys: keys}, list("/"+p+"/"))
			assert.Equal(t, keyList{Keys: []string{"b/1", "b/2", "b/3"}}, list("/"+p+"/?prefix=b%2F"))
			assert.Equal(t, keyList{Keys: []string{"b/3"}}, list("/"+p+"/?prefix=b/&after=b/2"))
			assert.Equal(t, keyList{Keys: []string{}}, list("/"+p+"/?prefix=zzz"))

			// Paging with limit and next visits every key once, in order.
			var got []string
			after := ""
			for range len(keys) + 1 {
				page := list("/" + p + "/?limit=4&after=" + url.QueryEscape(after))
				got = append(got, page.Keys...)
				if page.Next == "" {
					break
				}
				assert.Equal(t, page.Keys[len(page.Keys)-1], page.Next)
				after = page.Next
			}
			assert.Equal(t, keys, got)

			for _, bad := range []string{"0", "-1", "1001", "x"} {
				resp, body := s.do(http.MethodGet, "/"+p+"/?limit="+bad, nil)
				requireError(t, resp, body, http.StatusBadRequest)
			}
			resp, body := s.do(http.MethodGet, "/"+p+"/?prefix=%FF", nil)
			requireError(t, resp, body, http.StatusBadRequest)
		})
	}
	resp, body := s.do(http.MethodGet, "/perkey/", nil)
	msg := requireError(t, resp, body, http.StatusNotImplemented)
	assert.Contains(t, msg, "unsupported")
}
