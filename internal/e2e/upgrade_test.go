package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/router"
	"github.com/dokv/dokv/internal/workerdtest"
	"github.com/dokv/dokv/internal/workerfiles"
)

// oldDokvObject stands in for the DokvObject of dokv before expiries: it
// writes records into the tables that version created (no expires column),
// so that the test can start the current dokv on that storage.
const oldDokvObject = `
import { DurableObject } from "cloudflare:workers";
export class DokvObject extends DurableObject {
  fetch(request) {
    const p = new URL(request.url).searchParams;
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS dokv_entries (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value BLOB NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS dokv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    sql.exec("INSERT INTO dokv_entries (key, version, value) VALUES (?, ?, ?)", p.get("stored"), Number(p.get("version")), new TextEncoder().encode(p.get("value")));
    sql.exec("INSERT INTO dokv_meta (name, value) VALUES ('last_version', ?)", Number(p.get("last")));
    return new Response("ok");
  }
}
export default {
  fetch(request, env) {
    const name = new URL(request.url).searchParams.get("object");
    return env.KV.get(env.KV.idFromName(name)).fetch(request);
  },
};
`

// Objects written by dokv before expiries keep their records when the
// current dokv starts on their storage: the tables gain the expires column
// on first use, and the records can then be read, written with a TTL and
// expired by the alarm. The same storage carries a version as large as a
// time floor can make, to show that versions cross SQLite and JavaScript
// exactly up to 2^53-1.
func TestUpgrade_OlderTablesGainExpiries(t *testing.T) {
	bin := workerdtest.Require(t)
	w, err := workerdtest.Build(bin, "./internal/e2e/glueworker", workerfiles.Config{Name: "dokv-upgrade", Bindings: []string{"KV"}, UniqueKey: "dokv-e2e-upgrade"})
	require.NoError(t, err)
	t.Cleanup(w.Remove)
	entry := filepath.Join(w.Dir, "entry.mjs")
	current, err := os.ReadFile(entry)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(entry, []byte(oldDokvObject), 0o644))
	require.NoError(t, w.Start())

	// The glue Worker's store: PerKey, no prefix.
	r := router.New(router.PerKey, "", 0, "")
	// The largest version a time floor can produce (its last millisecond
	// below 2^53, in microseconds), and a last version just below 2^53-1.
	const largestFloor, nearLast = 9007199254740000, 9007199254740990
	for key, versions := range map[string][2]uint64{"old-1": {7, 7}, "old-2": {7, 7}, "huge": {largestFloor, nearLast}} {
		q := url.Values{"object": {r.ObjectName(key)}, "stored": {r.StoredKey(key)}, "value": {"from the old tables " + key},
			"version": {strconv.FormatUint(versions[0], 10)}, "last": {strconv.FormatUint(versions[1], 10)}}
		status, body, err := glueDo(t.Context(), w, http.MethodGet, "/?"+q.Encode(), nil, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, body)
	}
	w.Kill()

	require.NoError(t, os.WriteFile(entry, current, 0o644))
	require.NoError(t, w.Start())
	t.Cleanup(w.Kill)
	got := kv(t, w, kvOp("get", "old-1"))
	require.Empty(t, got.Error)
	assert.Equal(t, "from the old tables old-1", got.Value)
	assert.Equal(t, uint64(7), got.Version)
	assert.True(t, got.ExpiresAt.IsZero())

	set := kv(t, w, kvOp("set", "old-2", "value", "now with a TTL", "ttl", "1s"))
	require.Empty(t, set.Error)
	assert.Greater(t, set.Version, uint64(7))
	time.Sleep(2500 * time.Millisecond)
	gone := kv(t, w, kvOp("stats", "old-2"))
	assert.Zero(t, gone.Stats.Keys)
	assert.True(t, gone.Stats.NextAlarm.IsZero(), "the alarm removed it")
	assert.Equal(t, "from the old tables old-1", kv(t, w, kvOp("get", "old-1")).Value)

	// Versions up to 2^53-1 cross SQLite and JavaScript exactly; none
	// beyond is handed out.
	huge := kv(t, w, kvOp("get", "huge"))
	require.Empty(t, huge.Error)
	assert.Equal(t, uint64(largestFloor), huge.Version)
	last := kv(t, w, kvOp("set", "huge", "value", "last"))
	require.Empty(t, last.Error)
	assert.Equal(t, uint64(1<<53-1), last.Version)
	assert.Equal(t, uint64(1<<53-1), kv(t, w, kvOp("get", "huge")).Version)
	beyond := kv(t, w, kvOp("set", "huge", "value", "beyond"))
	assert.Contains(t, beyond.Error, "largest")
	assert.Equal(t, "last", kv(t, w, kvOp("get", "huge")).Value, "the refused write changed nothing")
}
