package workers

import (
	"strconv"

	"github.com/dokv/dokv/internal/protocol"
	"github.com/dokv/dokv/internal/watch"
)

// MaxRequestBodyBytes is worker.MaxRequestBodyBytes: the entry module answers
// a larger request body 413 before it is read into Go's memory.
const MaxRequestBodyBytes = 8 << 20

// Record kinds, as the entry module's RPC record methods name them to
// dokvRecord: package dokv registers them under these numbers.
const (
	RecordUploadFile = 1
	RecordFlowJob    = 2
)

// When a watch export refuses, output holds one of these code bytes and the
// reason, and the export returns -(1 + output's length).
const (
	watchBad      = 1 // a bad request: invalid key, position or event
	watchInternal = 2 // the object failed
	watchTooMany  = 3 // the object has watch.MaxWatchers
)

// EntryConstants are the values the entry module reads from Go when it
// starts the Go instance (dokvConstants), by the names it reads them as
// (C.name in entry.mjs): Go is their one source, and entry.mjs holds no
// copy of them. The operations of dokvRecord are added in js/wasm builds,
// where they are defined.
func EntryConstants() map[string]any {
	c := map[string]any{
		"maxBodyBytes":          MaxRequestBodyBytes,
		"maxEntryBytes":         protocol.MaxEntryBytes,
		"watchPath":             watch.Path,
		"maxLag":                watch.MaxLag,
		"autoPing":              watch.AutoPing,
		"autoPong":              watch.AutoPong,
		"maxClientMessageBytes": watch.MaxClientMessageBytes,
		"maxClientMessages":     watch.MaxClientMessages,
		"closeNormal":           watch.CloseNormal,
		"closeBadRequest":       watch.CloseBadRequest,
		"closeMessageTooBig":    watch.CloseMessageTooBig,
		"closeInternal":         watch.CloseInternal,
		"closeTooManyWatchers":  watch.CloseTooManyWatchers,
		"reasonClosed":          "closed",
		"reasonMessageTooBig": "watchers only listen: a message over " +
			strconv.Itoa(watch.MaxClientMessageBytes) + " bytes closes the watch",
		"reasonTooManyMessages": "watchers only listen: " +
			strconv.Itoa(watch.MaxClientMessages) + " messages close the watch",
		// The close code of each refusal code byte of a watch export.
		"refusalCodes": map[string]int{
			strconv.Itoa(watchBad):      watch.CloseBadRequest,
			strconv.Itoa(watchInternal): watch.CloseInternal,
			strconv.Itoa(watchTooMany):  watch.CloseTooManyWatchers,
		},
		// The last message of a Go watcher's stream, by why it ends.
		"lagClose":             string(watch.CloseMessage(watch.ReasonLagging)),
		"tooManyWatchersClose": string(watch.CloseMessage(watch.ReasonTooManyWatchers)),
		"recordUploadFile":     RecordUploadFile,
		"recordFlowJob":        RecordFlowJob,
	}
	for name, v := range recordOps {
		c[name] = v
	}
	return c
}

// recordOps are the operations of dokvRecord by the names the entry module
// reads; they are defined beside it, in js/wasm builds only.
var recordOps = map[string]int{}
