//go:build js && wasm

package workers

import "encoding/json"

func init() {
	recordOps["recordGet"] = recordGet
	recordOps["recordSet"] = recordSet
	recordOps["recordDelete"] = recordDelete
}

// dokvConstants leaves EntryConstants in output, as JSON, and returns its
// length: the entry module reads them once per Go instance, so that the
// limits, codes and names it uses are Go's.
//
//go:wasmexport dokvConstants
func dokvConstants() int32 {
	// A map of numbers and strings always encodes.
	output, _ = json.Marshal(EntryConstants())
	return int32(len(output))
}
